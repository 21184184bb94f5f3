// test/dns/fake-view.ts — a small in-memory CatalogView for DNS tests.
//
// Owns: nodes, services and checks held in plain arrays, with helpers to build the
// walkthrough's cluster (web3 on n2 and n3, service address 127.0.0.1, port 10000).
// Must never: be used outside tests; the real view is the catalog FSM.
import type {
  CatalogNode,
  CatalogService,
  CatalogView,
  HealthCheck,
  HealthStatus,
  ServiceInstance,
} from '../../core/catalog/types.ts';

export class FakeView implements CatalogView {
  readonly nodeList: CatalogNode[] = [];
  readonly serviceList: CatalogService[] = [];
  readonly checkList: HealthCheck[] = [];
  index = 1;

  addNode(name: string, address: string): this {
    this.nodeList.push({
      ID: `id-${name}`, Node: name, Address: address, Datacenter: 'dc1', TaggedAddresses: { lan: address }, Meta: {},
      CreateIndex: this.index, ModifyIndex: this.index,
    });
    this.addCheck(name, 'serfHealth', 'Serf Health Status', 'passing', '', '');
    this.index++;
    return this;
  }

  addService(node: string, id: string, name: string, opts: { tags?: string[]; address?: string; port: number }): this {
    this.serviceList.push({
      Node: node, ID: id, Service: name, Tags: opts.tags ?? [], Address: opts.address ?? '', Port: opts.port, Meta: {},
      EnableTagOverride: false, Weights: { Passing: 1, Warning: 1 }, CreateIndex: this.index, ModifyIndex: this.index,
    });
    this.addCheck(node, `service:${id}`, `Service '${name}' check`, 'passing', id, name);
    this.index++;
    return this;
  }

  addCheck(node: string, checkId: string, name: string, status: HealthStatus, serviceId: string, serviceName: string): this {
    this.checkList.push({
      Node: node, CheckID: checkId, Name: name, Status: status, Notes: '', Output: '', ServiceID: serviceId,
      ServiceName: serviceName, ServiceTags: [], Type: serviceId ? 'http' : '', CreateIndex: this.index, ModifyIndex: this.index,
    });
    return this;
  }

  setCheck(node: string, checkId: string, status: HealthStatus): this {
    const c = this.checkList.find((x) => x.Node === node && x.CheckID === checkId);
    if (!c) throw new Error(`no check ${checkId} on ${node}`);
    c.Status = status;
    this.index++;
    return this;
  }

  lastIndex(): number {
    return this.index;
  }
  nodes(): CatalogNode[] {
    return [...this.nodeList].sort((a, b) => (a.Node < b.Node ? -1 : 1));
  }
  node(name: string): CatalogNode | undefined {
    return this.nodeList.find((n) => n.Node === name);
  }
  serviceInstances(service: string): ServiceInstance[] {
    return this.serviceList
      .filter((s) => s.Service === service)
      .map((s) => ({
        Node: this.node(s.Node)!,
        Service: s,
        Checks: this.checkList.filter((c) => c.Node === s.Node && (c.ServiceID === '' || c.ServiceID === s.ID)),
      }))
      .sort((a, b) => (a.Node.Node < b.Node.Node ? -1 : a.Node.Node > b.Node.Node ? 1 : a.Service.ID < b.Service.ID ? -1 : 1));
  }
  services(): Map<string, string[]> {
    const m = new Map<string, Set<string>>();
    for (const s of this.serviceList) {
      const tags = m.get(s.Service) ?? new Set<string>();
      for (const t of s.Tags) tags.add(t);
      m.set(s.Service, tags);
    }
    return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, [...v].sort()]));
  }
  nodeServices(node: string): CatalogService[] {
    return this.serviceList.filter((s) => s.Node === node);
  }
  nodeChecks(node: string): HealthCheck[] {
    return this.checkList.filter((c) => c.Node === node);
  }
  checksInState(state: HealthStatus | 'any'): HealthCheck[] {
    return this.checkList.filter((c) => state === 'any' || c.Status === state);
  }
}

/** The walkthrough's cluster after web3 is deployed on n2 and n3. */
export function walkthroughView(): FakeView {
  return new FakeView()
    .addNode('n1', '10.10.105.71')
    .addNode('n2', '10.10.126.101')
    .addNode('n3', '10.10.126.187')
    .addService('n2', 'web3', 'web3', { tags: ['master'], address: '127.0.0.1', port: 10000 })
    .addService('n3', 'web3', 'web3', { tags: ['master'], address: '127.0.0.1', port: 10000 });
}
