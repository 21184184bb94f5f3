// sim/reach.ts — who can talk to whom: partitions as rules, compiled to a reachability matrix.
//
// Owns: partition rules (group partitions, one-way cuts, isolation) and the answer to
// "can a packet from host i reach host j right now".
// Must never: look at link quality or deliver anything.
//
// Rules are additive: each partition/partitionOneWay/isolate call adds a cut; heal() removes
// all of them. Hosts not named in a group partition are unaffected by it. A host can always
// reach itself (loopback).

type Rule =
  | { kind: 'groups'; groups: number[][] }
  | { kind: 'oneWay'; from: number[]; to: number[] }
  | { kind: 'isolate'; host: number };

export class Reachability {
  private rules: Rule[] = [];
  private blocked: Uint8Array = new Uint8Array(0);
  private n = 0;
  private dirty = false;

  constructor(private readonly hostCount: () => number) {}

  get active(): boolean {
    return this.rules.length > 0;
  }

  addGroups(groups: number[][]): void {
    this.rules.push({ kind: 'groups', groups });
    this.dirty = true;
  }
  addOneWay(from: number[], to: number[]): void {
    this.rules.push({ kind: 'oneWay', from, to });
    this.dirty = true;
  }
  addIsolate(host: number): void {
    this.rules.push({ kind: 'isolate', host });
    this.dirty = true;
  }
  heal(): void {
    this.rules = [];
    this.dirty = true;
  }
  /** Called when hosts are added so the matrix is rebuilt at the right size. */
  invalidate(): void {
    this.dirty = true;
  }

  canReach(from: number, to: number): boolean {
    if (from === to || this.rules.length === 0) return true;
    if (this.dirty || this.n !== this.hostCount()) this.compile();
    return this.blocked[from * this.n + to] === 0;
  }

  private compile(): void {
    const n = this.hostCount();
    const m = new Uint8Array(n * n);
    for (const r of this.rules) {
      if (r.kind === 'groups') {
        const group = new Int32Array(n).fill(-1);
        r.groups.forEach((g, gi) => {
          for (const h of g) group[h] = gi;
        });
        for (let i = 0; i < n; i++) {
          if (group[i]! < 0) continue;
          for (let j = 0; j < n; j++) {
            if (group[j]! >= 0 && group[j] !== group[i]) m[i * n + j] = 1;
          }
        }
      } else if (r.kind === 'oneWay') {
        for (const i of r.from) for (const j of r.to) if (i !== j) m[i * n + j] = 1;
      } else {
        for (let j = 0; j < n; j++) {
          if (j === r.host) continue;
          m[r.host * n + j] = 1;
          m[j * n + r.host] = 1;
        }
      }
    }
    this.blocked = m;
    this.n = n;
    this.dirty = false;
  }
}
