// /v1/snapshot save and restore: a restored catalog has the saved KV, catalog and sessions;
// a damaged or foreign file is refused with a clear message and nothing is lost.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readArchive } from '../../core/catalog/archive.ts';
import { FakeBackend, bodyText, request } from '../http/fake-backend.ts';

async function filled(): Promise<FakeBackend> {
  const b = new FakeBackend();
  await b.handle(request('PUT', '/v1/kv/app/config?flags=3304740253564472344', 'hello'));
  await b.handle(request('PUT', '/v1/catalog/register', JSON.stringify({ Node: 'ext', Address: '10.1.1.1', Service: { Service: 'db', Port: 5432 } })));
  const sid = JSON.parse(bodyText(await b.handle(request('PUT', '/v1/session/create', '{"Name":"keep"}')))).ID;
  await b.handle(request('PUT', `/v1/kv/app/lock?acquire=${sid}`, 'me'));
  return b;
}

const save = async (b: FakeBackend) => {
  const r = await b.handle(request('GET', '/v1/snapshot'));
  expect(r.status).toBe(200);
  expect(r.headers['Content-Type']).toBe('application/octet-stream');
  return r.body as Uint8Array;
};

describe('/v1/snapshot', () => {
  it('save → restore on a fresh catalog gives the same KV, catalog and sessions', async () => {
    const a = await filled();
    const snap = await save(a);
    const b = new FakeBackend({ seed: 'other' });
    await b.handle(request('PUT', '/v1/kv/only-in-b', 'x'));
    const r = await b.handle(request('PUT', '/v1/snapshot', snap));
    expect(r.status).toBe(200);
    expect(b.fsm.kvList('')).toEqual(a.fsm.kvList(''));
    expect(b.fsm.kvGet('app/config')!.Flags).toBe('3304740253564472344');
    expect(b.fsm.kvGet('only-in-b')).toBeUndefined();
    expect(b.fsm.nodes()).toEqual(a.fsm.nodes());
    expect(b.fsm.serviceInstances('db')).toEqual(a.fsm.serviceInstances('db'));
    expect(b.fsm.sessionList()).toEqual(a.fsm.sessionList());
    expect(b.fsm.kvGet('app/lock')!.Session).toBe(a.fsm.sessionList()[0]!.ID);
  });

  it('a blocking read parked before the restore wakes after it', async () => {
    const a = await filled();
    const snap = await save(a);
    const b = new FakeBackend();
    await b.handle(request('PUT', '/v1/kv/w', '1'));
    const idx = b.fsm.kvKeyIndex('w');
    const parked = b.handle(request('GET', `/v1/kv/w?index=${idx}&wait=5s`));
    await b.handle(request('PUT', '/v1/snapshot', snap));
    const r = await parked;
    expect(r.status).toBe(404); // woken: the key is gone with the restore
    expect(Number(r.headers['X-Consul-Index'])).toBeGreaterThan(idx);
  });

  it('the file is a gzip tar with meta.json and state.bin, as Consul lays it out', async () => {
    const snap = await save(await filled());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muster-snap-'));
    const file = path.join(dir, 'x.snap');
    fs.writeFileSync(file, snap);
    expect(execFileSync('tar', ['tzf', file]).toString().split('\n').filter(Boolean)).toEqual(['meta.json', 'state.bin']);
    expect(readArchive(snap).meta).toMatchObject({ Version: 1, Format: 'muster-catalog' });
    fs.rmSync(dir, { recursive: true });
  });

  it('damaged or foreign snapshots are 400s naming the problem; the catalog is untouched', async () => {
    const b = await filled();
    const before = b.fsm.snapshot();
    const snap = await save(b);
    const flipped = snap.slice();
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    const cases: Array<[Uint8Array, RegExp]> = [
      [new TextEncoder().encode('not a snapshot'), /not a gzip file/],
      [snap.slice(0, snap.length - 40), /truncated|checksum/],
      [flipped, /checksum mismatch|damaged/],
      [new Uint8Array(0), /not a gzip file/],
    ];
    for (const [bytes, why] of cases) {
      const r = await b.handle(request('PUT', '/v1/snapshot', bytes));
      expect(r.status).toBe(400);
      expect(bodyText(r)).toMatch(/^Failed to restore snapshot: snapshot archive: /);
      expect(bodyText(r)).toMatch(why);
    }
    // A real gzip (compressed) file, as a Consul agent writes: refused, says why.
    const gz = new Uint8Array(execFileSync('gzip', ['-c'], { input: Buffer.from('x'.repeat(1000)) }));
    expect(bodyText(await b.handle(request('PUT', '/v1/snapshot', gz)))).toContain('not written by Muster');
    expect(Buffer.from(b.fsm.snapshot()).equals(Buffer.from(before))).toBe(true);
  });
});
