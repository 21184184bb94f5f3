# test/e2e/clients/python-consul.py — drives a Muster agent through python3-consul (Debian's
# python3-consul 0.7.1), using only the library's public API. Prints one "ok <what>" line per
# check and exits non-zero on the first mismatch. Run by python-consul-real.test.ts.
import sys
import consul

host, port = sys.argv[1], int(sys.argv[2])
c = consul.Consul(host=host, port=port)

def ok(what, cond, detail=""):
    if not cond:
        print("FAIL", what, detail)
        sys.exit(1)
    print("ok", what)

LOCK_FLAG = 3304740253564472344
ok("status.leader", c.status.leader().endswith(":8300"))
ok("status.peers", len(c.status.peers()) == 1)
ok("kv.put with uint64 flags", c.kv.put("py/lock/.lock", "v", flags=LOCK_FLAG) is True)
idx, e = c.kv.get("py/lock/.lock")
ok("kv.get flags exact", e["Flags"] == LOCK_FLAG, e)
ok("kv.get value", e["Value"] == b"v", e)
ok("kv.put cas stale", c.kv.put("py/lock/.lock", "w", cas=e["ModifyIndex"] + 1000) is False)
ok("kv.put cas", c.kv.put("py/lock/.lock", "w", cas=e["ModifyIndex"]) is True)
c.kv.put("py/a", "1")
c.kv.put("py/b/c", "2")
_, keys = c.kv.get("py/", keys=True, separator="/")
ok("kv.get keys separator", keys == ["py/a", "py/b/", "py/lock/"], keys)
_, tree = c.kv.get("py/", recurse=True)
ok("kv.get recurse", [x["Key"] for x in tree] == ["py/a", "py/b/c", "py/lock/.lock"], tree)
# a blocking read returns at once when the index is already passed
i2, _ = c.kv.get("py/a", index=0)
ok("kv index header", int(i2) > 0)

sid = c.session.create(name="py-lock", behavior="delete", ttl=30, lock_delay=0)
ok("session.create", len(sid) == 36, sid)
_, info = c.session.info(sid)
ok("session.info", info["Name"] == "py-lock" and info["Behavior"] == "delete" and info["TTL"] == "30s", info)
ok("session NodeChecks", info.get("NodeChecks") == ["serfHealth"], info)
_, lst = c.session.list()
ok("session.list", sid in [s["ID"] for s in lst])
_, node_sessions = c.session.node(info["Node"])
ok("session.node", sid in [s["ID"] for s in node_sessions])
ok("session.renew", c.session.renew(sid)["ID"] == sid)
ok("kv acquire", c.kv.put("py/leader", "me", acquire=sid) is True)
ok("kv acquire again (same session)", c.kv.put("py/leader", "me", acquire=sid) is True)
ok("kv release", c.kv.put("py/leader", "me", release=sid) is True)
ok("kv acquire after release", c.kv.put("py/leader", "me", acquire=sid) is True)
ok("session.destroy", c.session.destroy(sid) is True)
_, gone = c.kv.get("py/leader")
ok("behavior=delete removed the key", gone is None, gone)

ok("catalog.register", c.catalog.register("ext9", "10.0.0.99", service={"service": "extsvc", "port": 80, "tags": ["x"]}) is True)
_, nodes = c.catalog.nodes()
ok("catalog.nodes", "ext9" in [n["Node"] for n in nodes])
_, svcs = c.catalog.services()
ok("catalog.services", svcs.get("extsvc") == ["x"], svcs)
_, rows = c.catalog.service("extsvc")
ok("catalog.service", rows[0]["ServicePort"] == 80 and rows[0]["Address"] == "10.0.0.99", rows)
_, nd = c.catalog.node("ext9")
ok("catalog.node", "extsvc" in nd["Services"], nd)
ok("catalog.datacenters", c.catalog.datacenters() == ["dc1"])

ok("agent.service.register", c.agent.service.register("pyweb", service_id="pyweb1", port=8080, tags=["t"], check=consul.Check.ttl("30s")) is True)
ok("agent.services", "pyweb1" in c.agent.services())
ok("agent.checks", "service:pyweb1" in c.agent.checks())
ok("agent.check.ttl_pass", c.agent.check.ttl_pass("service:pyweb1", "fine") is True)
ok("agent.self", c.agent.self()["Config"]["Datacenter"] == "dc1")
ok("agent.members", len(c.agent.members()) >= 1)
_, st = c.health.state("any")
ok("health.state", any(x["CheckID"] == "serfHealth" for x in st))
ok("agent.service.deregister", c.agent.service.deregister("pyweb1") is True)
ok("kv.delete recurse", c.kv.delete("py/", recurse=True) is True)
_, none = c.kv.get("py/", recurse=True)
ok("kv empty", none is None, none)
print("ALL OK")
