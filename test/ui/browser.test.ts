// test/ui/browser.test.ts — the web UI in a real headless Chromium (Debian's, driven by
// playwright-core) against an HTTP server on loopback that serves the UI and the v1 API
// (startUiTestServer). Screenshots go to test-artifacts/ui-*.png.
//
// What it shows: the services page lists web3 with two passing instances and turns one
// critical without a reload when its check fails; nodes and Raft pages render the cluster;
// a KV key is created, edited with check-and-set (and a stale edit is refused), deleted;
// with no cluster leader the page says so in a banner and recovers when a leader returns.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './build.ts';
import { startUiTestServer, type UiTestServer } from './server.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

let server: UiTestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function shot(name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `ui-${name}.png`), fullPage: true });
}

async function textOf(selector: string): Promise<string> {
  return ((await page.textContent(selector, { timeout: 5000 })) ?? '').trim();
}

/** Wait until `selector`'s text equals `want` (live pages update without a reload). */
async function waitText(selector: string, want: string, timeout = 5000): Promise<void> {
  await page.waitForFunction(
    ([sel, w]) => document.querySelector(sel!)?.textContent?.trim() === w,
    [selector, want] as const,
    { timeout, polling: 20 },
  );
}

async function apiText(path: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install chromium); .ci/run must do so too`);
  }
  server = await startUiTestServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(5000);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('web UI in headless Chromium', () => {
  it('services page: web3 has two passing instances, and a failing check turns critical live', async () => {
    const res = await page.goto(`${server.url}/`);
    expect(res?.ok()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/ui/');

    const row = 'tr[data-service="web3"]';
    await waitText(`${row} [data-count="passing"]`, '2 passing');
    expect(await textOf(`${row} [data-count="critical"]`)).toBe('0 critical');
    expect(await textOf(`${row} .tags`)).toBe('master');
    await shot('services');

    // A marker on window survives only if the page is not reloaded.
    await page.evaluate(() => ((window as unknown as { muster_marker: number }).muster_marker = 42));
    const failedAt = Date.now();
    server.setCheck('n3', 'service:web3', 'critical', 'Get http://localhost:10000/health: dial tcp 127.0.0.1:10000: connect: connection refused');
    await waitText(`${row} [data-count="critical"]`, '1 critical', 3000);
    const shownAfterMs = Date.now() - failedAt;
    expect(shownAfterMs, 'a failing check must show within a second').toBeLessThan(1000);
    expect(await textOf(`${row} [data-count="passing"]`)).toBe('1 passing');
    expect(await page.evaluate(() => (window as unknown as { muster_marker?: number }).muster_marker)).toBe(42);
    await shot('services-critical');

    // The service page shows each instance with its checks and their output.
    await page.click(`${row} a`);
    await page.waitForSelector('tr[data-instance="n3"][data-status="critical"]');
    expect(await page.getAttribute('tr[data-instance="n2"]', 'data-status')).toBe('passing');
    expect(await textOf('tr[data-instance="n3"] [data-check="service:web3"] .badge')).toBe('critical');
    expect(await textOf('tr[data-instance="n3"] [data-check="service:web3"] pre')).toContain('connection refused');
    expect(await textOf('tr[data-instance="n2"] td.mono')).toBe('127.0.0.1:10000');

    // Recovery shows live on the same page too.
    server.setCheck('n3', 'service:web3', 'passing', 'HTTP GET http://localhost:10000/health: 200 OK Output: hello web3');
    await page.waitForSelector('tr[data-instance="n3"][data-status="passing"]', { timeout: 3000 });
    await shot('service-web3');
  });

  it('nodes, node detail and Raft pages show the walkthrough cluster', async () => {
    await page.goto(`${server.url}/ui/#/nodes`);
    for (const [node, addr] of [
      ['n1', '10.10.105.71'],
      ['n2', '10.10.126.101'],
      ['n3', '10.10.126.187'],
    ]) {
      await waitText(`tr[data-node="${node}"] [data-gossip]`, 'alive');
      expect(await textOf(`tr[data-node="${node}"] td.mono`)).toBe(addr);
    }
    expect(await textOf('tr[data-node="n3"] td:nth-child(4) .badge')).toBe('passing');
    expect(await textOf('tr[data-node="n3"] td:nth-child(6)')).toBe('web3');
    expect(await textOf('tr[data-node="n1"] td:nth-child(6)')).toBe('');

    await page.goto(`${server.url}/ui/#/nodes/n3`);
    await page.waitForSelector('[data-testid="node-checks"] [data-check="serfHealth"]');
    expect(await textOf('[data-testid="node-facts"] dd:nth-of-type(4)')).toBe('client');
    expect(await textOf('[data-testid="node-services"] tbody')).toContain('web3');

    await page.goto(`${server.url}/ui/#/raft`);
    await page.waitForSelector('tr[data-peer="n2"]');
    expect(await textOf('tr[data-peer="n2"] td:nth-child(4)')).toBe('leader');
    expect(await textOf('tr[data-peer="n1"] td:nth-child(4)')).toBe('follower');
    await waitText('[data-stat="state"] dd', 'Leader');
    expect(Number(await textOf('[data-stat="commit_index"] dd'))).toBeGreaterThan(0);
    await shot('raft');
  });

  it('KV: create a key, edit it with cas, refuse a stale edit, delete it', async () => {
    await page.goto(`${server.url}/ui/#/kv/`);
    await page.waitForSelector('[data-testid="kv-create"]');
    await page.fill('[data-testid="kv-create"] input[name="key"]', 'web3/config');
    await page.fill('[data-testid="kv-create"] textarea[name="value"]', 'port=10000');
    await page.click('[data-testid="kv-create"] button[type="submit"]');
    await page.waitForFunction(() => window.location.hash === '#/kv/web3/config');
    await waitText('[data-testid="kv-value"]', 'port=10000');
    expect(await apiText('/v1/kv/web3/config?raw')).toEqual({ status: 200, body: 'port=10000' });

    // Edit: the save carries ?cas=<ModifyIndex shown>.
    await page.click('button:has-text("Edit")');
    await page.fill('textarea[name="edit"]', 'port=10001');
    await page.click('button:has-text("Save")');
    await waitText('[data-testid="kv-value"]', 'port=10001');
    expect(await apiText('/v1/kv/web3/config?raw')).toEqual({ status: 200, body: 'port=10001' });
    expect(await textOf('[data-testid="kv-message"]')).toBe('Saved.');

    // A change made elsewhere while editing: the stale save is refused, the other write stays.
    await page.click('button:has-text("Edit")');
    await page.fill('textarea[name="edit"]', 'port=10002');
    expect((await apiText('/v1/kv/web3/config', { method: 'PUT', body: 'port=20000' })).body).toBe('true');
    await waitText('[data-testid="kv-value"]', 'port=20000');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('[data-testid="kv-message"]:has-text("Not saved")');
    expect(await apiText('/v1/kv/web3/config?raw')).toEqual({ status: 200, body: 'port=20000' });
    expect(await page.inputValue('textarea[name="edit"]')).toBe('port=10002');
    await shot('kv-conflict');
    await page.click('button:has-text("Cancel")');

    // The folder lists the key; creating it again is refused (cas=0).
    await page.goto(`${server.url}/ui/#/kv/web3/`);
    await waitText('[data-key="web3/config"] a', 'config');
    await page.fill('[data-testid="kv-create"] input[name="key"]', 'config');
    await page.click('[data-testid="kv-create"] button[type="submit"]');
    await page.waitForSelector('[data-testid="kv-create"] .error-line:has-text("already exists")');

    await page.click('[data-key="web3/config"] a');
    await page.waitForSelector('[data-testid="kv-entry"]');
    await page.click('button:has-text("Delete")');
    await page.click('button:has-text("Really delete")');
    await page.waitForFunction(() => window.location.hash === '#/kv/web3/');
    expect((await apiText('/v1/kv/web3/config')).status).toBe(404);
    await page.waitForSelector('text=No keys under web3/');
  });

  it('no cluster leader: a plain banner, the page keeps working and recovers', async () => {
    await page.goto(`${server.url}/ui/#/services`);
    await waitText('tr[data-service="web3"] [data-count="passing"]', '2 passing');
    server.loseLeader();
    try {
      await page.waitForSelector('[data-testid="no-leader-banner"]', { timeout: 3000 });
      expect(await textOf('[data-testid="no-leader-banner"] strong')).toBe('No cluster leader');
      // Last known data stays on screen.
      expect(await textOf('tr[data-service="web3"] [data-count="passing"]')).toBe('2 passing');

      // A fresh load without a leader: no crash, navigation works, the banner says why.
      await page.reload();
      await page.waitForSelector('[data-testid="no-leader-banner"]');
      await page.waitForSelector('[data-testid="waiting"]:has-text("no cluster leader")');
      expect(await textOf('header .agent')).toContain('leader none');
      await page.click('header nav a:has-text("Raft")');
      await page.waitForSelector('tr[data-peer="n1"]'); // ?stale configuration still answers
      await page.click('header nav a:has-text("Services")');
      await shot('no-leader');
    } finally {
      server.restoreLeader();
    }
    await page.waitForSelector('[data-testid="no-leader-banner"]', { state: 'detached', timeout: 5000 });
    await waitText('tr[data-service="web3"] [data-count="passing"]', '2 passing', 6000);
  });

  it('a node leaving shows on the nodes and services pages without a reload', async () => {
    await page.goto(`${server.url}/ui/#/nodes`);
    await waitText('tr[data-node="n3"] [data-gossip]', 'alive');
    const leftAt = Date.now();
    server.leaveNode('n3');
    await waitText('tr[data-node="n3"] [data-gossip]', 'left', 3000);
    expect(Date.now() - leftAt, 'a leave must show within a second').toBeLessThan(1000);
    expect(await textOf('tr[data-node="n3"] td:first-child')).toContain('not in the catalog');
    await shot('nodes-n3-left');
    await page.click('header nav a:has-text("Services")');
    await waitText('tr[data-service="web3"] [data-count="passing"]', '1 passing');
  });

  it('raised no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
