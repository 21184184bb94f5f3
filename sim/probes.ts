// sim/probes.ts — health-check probes (ProbePort) carried out over the virtual network.
//
// Owns: turning a CheckSpec into a virtual HTTP request / TCP connect and the result into
// Consul's status and output text.
// Must never: call `done` re-entrantly from run(), or after the probing process died.
import type { CheckSpec, ProbePort, ProbeResult } from '../core/runtime/ports.ts';
import type { EventType } from './kernel.ts';
import type { NetCore } from './net-core.ts';
import { httpRequest, parseHttpUrl } from './http.ts';
import { connect, type ConnOwner } from './tcp.ts';

/** Consul truncates check output to 4 KB. */
const OUTPUT_CAP = 4096;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

function cap(s: string): string {
  return s.length > OUTPUT_CAP ? s.slice(0, OUTPUT_CAP) : s;
}

function goMethod(m: string): string {
  return m.charAt(0).toUpperCase() + m.slice(1).toLowerCase();
}

const LATER: EventType = {
  name: 'probe-later',
  code: 8,
  run(ev) {
    (ev.a as () => void)();
  },
  describe(ev) {
    return ev.b as string;
  },
};

export function makeProbes(net: NetCore, owner: ConnOwner, host: number): ProbePort {
  const k = net.kernel;
  const later = (label: string, fn: () => void): void => {
    k.at(k.nowMs, LATER, host, 0, fn, label);
  };
  return {
    run(spec: CheckSpec, done: (r: ProbeResult) => void): void {
      const finish = (r: ProbeResult): void => {
        if (owner.alive) done(r);
      };
      if (spec.type === 'script') {
        later('probe script', () => finish({ status: 'critical', output: 'script checks are not supported in the simulator' }));
        return;
      }
      if (spec.type === 'http') {
        const method = (spec.method || 'GET').toUpperCase();
        const url = spec.url;
        try {
          parseHttpUrl(url);
        } catch (e) {
          later('probe http bad-url', () => finish({ status: 'critical', output: (e as Error).message }));
          return;
        }
        httpRequest(net, owner, host, url, { method, headers: spec.header, timeoutMs: spec.timeoutMs }, (r) => {
          if (r.ok) {
            const status = r.status >= 200 && r.status < 300 ? 'passing' : r.status === 429 ? 'warning' : 'critical';
            const text = STATUS_TEXT[r.status] ?? '';
            finish({ status, output: cap(`HTTP ${method} ${url}: ${r.status} ${text} Output: ${r.body}`) });
          } else if (r.reason === 'timeout' && r.detail === 'timeout') {
            finish({ status: 'critical', output: `${goMethod(method)} ${url}: net/http: request canceled (Client.Timeout exceeded while awaiting headers)` });
          } else if (r.reason === 'nohost') {
            finish({ status: 'critical', output: `${goMethod(method)} ${url}: dial tcp: ${r.detail}` });
          } else {
            finish({ status: 'critical', output: `${goMethod(method)} ${url}: ${r.detail}` });
          }
        });
        return;
      }
      // tcp: passing iff a connection is accepted within the timeout.
      const addr = spec.addr;
      let settled = false;
      let timer = -1;
      const settle = (r: ProbeResult): void => {
        if (settled) return;
        settled = true;
        if (timer >= 0) k.cancel(timer);
        finish(r);
      };
      let conn;
      try {
        const r = net.resolve(host, addr);
        if (r.host < 0) {
          later('probe tcp nohost', () => settle({ status: 'critical', output: `dial tcp ${addr}: i/o timeout` }));
          return;
        }
        conn = connect(net, owner, host, 0, addr);
      } catch (e) {
        later('probe tcp bad-addr', () => settle({ status: 'critical', output: (e as Error).message }));
        return;
      }
      const c = conn;
      timer = k.scheduleCallback(k.nowMs + spec.timeoutMs, `probe-timeout tcp ${addr}`, () => {
        timer = -1;
        if (c.state !== 'closed') c.close();
        settle({ status: 'critical', output: `dial tcp ${addr}: i/o timeout` });
      }, host);
      c.onOpen = () => {
        c.close();
        settle({ status: 'passing', output: `TCP connect ${addr}: Success` });
      };
      c.onClose = (reason) => {
        if (reason === 'refused') settle({ status: 'critical', output: `dial tcp ${addr}: connect: connection refused` });
        else settle({ status: 'critical', output: `dial tcp ${addr}: i/o timeout` });
      };
    },
  };
}
