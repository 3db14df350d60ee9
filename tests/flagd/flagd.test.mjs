// flagd's web provider (@openfeature/flagd-web-provider, the Connect protocol on the HTTP port,
// in Node: its fetch transport is the browser's API) at the end, with a commit arriving as
// ConfigurationChanged.
// flagd's RPC provider (@openfeature/flagd-provider, resolverType 'rpc', with its LRU cache)
// with @openfeature/server-sdk against `switchyard serve` on a real Git repository: Switchyard's
// flagd.evaluation.v1 service on the gRPC port. Boolean, string (variant key) and object
// (attachment) evaluations, STATIC reasons cached by the provider, a flag not found, type
// mismatches, the Flagd-Selector header, and a commit pushed through Git arriving as
// PROVIDER_CONFIGURATION_CHANGED with the cached value flushed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { FlagdProvider } from '@openfeature/flagd-provider';
import { FlagdWebProvider } from '@openfeature/flagd-web-provider';
import { OpenFeature as WebOpenFeature, ProviderEvents as WebEvents } from '@openfeature/web-sdk';
import http_ from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BIN = process.env.SWITCHYARD_BIN;

const flags = (staticOn) => `namespace: default
segments:
  - key: premium
    name: Premium
    match_type: ALL_MATCH_TYPE
    constraints:
      - { type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: premium }
flags:
  - key: static-bool
    name: Static boolean
    type: BOOLEAN_FLAG_TYPE
    enabled: ${staticOn}
  - key: targeted-bool
    name: Targeted boolean
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: { key: premium, value: true }
  - key: theme
    name: Theme (no rules)
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - { key: light, default: true, attachment: { background: "#fff", contrast: 4.5 } }
      - { key: dark }
  - key: checkout
    name: Checkout
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - { key: control, default: true }
      - { key: variant-a, attachment: { discount: 10, labels: [a, b], nested: { on: true } } }
    rules:
      - segment: premium
        distributions:
          - { variant: variant-a, rollout: 100 }
`;

const TEAM = `namespace: team
flags:
  - key: team-banner
    name: Team banner
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - { key: hello, default: true }
`;

function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    env: {
      ...process.env, GIT_AUTHOR_NAME: 'flagd tests', GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 'flagd tests', GIT_COMMITTER_EMAIL: 't@example.invalid', GIT_CONFIG_NOSYSTEM: '1', HOME: cwd,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString().trim();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const waitFor = async (what, fn, ms = 15000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

let server; let root; let repo; let http; let httpPort; let grpcPort; let logPath;
const providers = [];

/**
 * Stops a flagd web provider's reconnecting before it is closed. Its `onClose` cancels the event
 * stream; connect-es reports a cancel as a clean end of stream, and the provider (0.7.4) answers
 * every end of stream by reconnecting while retries remain. A reconnect that races the server's
 * stop refetches every flag, and that fetch's rejection is never caught, failing the file. With no
 * retries left, the end of the stream stays the end.
 */
const noMoreRetries = (provider) => { if (provider instanceof FlagdWebProvider) provider._maxRetries = 0; };

before(async () => {
  assert.ok(BIN, 'SWITCHYARD_BIN is set');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-flagd-'));
  repo = path.join(root, 'repo');
  fs.mkdirSync(path.join(repo, 'default'), { recursive: true });
  fs.mkdirSync(path.join(repo, 'team'), { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'default/features.yml'), flags(true));
  fs.writeFileSync(path.join(repo, 'team/features.yml'), TEAM);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'flags');
  const config = path.join(root, 'switchyard.yml');
  grpcPort = await freePort();
  fs.writeFileSync(config, `storage:
  default: { remote: "file://${repo}", branch: main, poll_interval: 30s }
environments:
  default: { storage: default, default: true }
server:
  grpc_port: ${grpcPort}
  shutdown_delay: 0s
`);
  const port = await freePort();
  httpPort = port;
  http = `http://127.0.0.1:${port}`;
  logPath = path.join(root, 'server.log');
  const log = fs.openSync(logPath, 'w');
  server = spawn(BIN, ['serve', '--config', config, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', log, log], env: { ...process.env, NO_COLOR: '1' },
  });
  process.on('exit', () => server.kill('SIGKILL'));
  await waitFor('/ready', async () => (await fetch(`${http}/ready`).catch(() => null))?.status === 200)
    .catch((e) => { throw new Error(`${e.message}; server log:\n${fs.readFileSync(logPath, 'utf8')}`); });
});

after(async () => {
  providers.forEach(noMoreRetries);
  await Promise.all(providers.map((p) => p.onClose().catch(() => {})));
  await OpenFeature.close().catch(() => {});
  await WebOpenFeature.close().catch(() => {});

  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

/** A client of a flagd RPC provider on the gRPC port (`domain` for its own provider). */
async function client(domain, options = {}) {
  const provider = new FlagdProvider({ host: '127.0.0.1', port: grpcPort, resolverType: 'rpc', cache: 'lru', ...options });
  providers.push(provider);
  await OpenFeature.setProviderAndWait(domain, provider);
  return OpenFeature.getClient(domain);
}

test('boolean flags: STATIC without rollouts (then CACHED), TARGETING_MATCH and DEFAULT with them', async () => {
  const c = await client('bool');
  const s = await c.getBooleanDetails('static-bool', false, { targetingKey: 'u1' });
  assert.equal(s.value, true);
  assert.equal(s.reason, 'STATIC');
  assert.equal(s.variant, 'true');
  const again = await c.getBooleanDetails('static-bool', false, { targetingKey: 'u2' });
  assert.equal(again.reason, 'CACHED');
  const premium = await c.getBooleanDetails('targeted-bool', false, { targetingKey: 'u1', plan: 'premium' });
  assert.deepEqual([premium.value, premium.reason], [true, 'TARGETING_MATCH']);
  const free = await c.getBooleanDetails('targeted-bool', true, { targetingKey: 'u1', plan: 'free' });
  assert.deepEqual([free.value, free.reason], [false, 'DEFAULT']);
});

test('string flags: the variant key, by targeting; a flag without rules is STATIC', async () => {
  const c = await client('string');
  const premium = await c.getStringDetails('checkout', 'x', { targetingKey: 'u1', plan: 'premium' });
  assert.deepEqual([premium.value, premium.variant, premium.reason], ['variant-a', 'variant-a', 'TARGETING_MATCH']);
  const free = await c.getStringDetails('checkout', 'x', { targetingKey: 'u1', plan: 'free' });
  assert.deepEqual([free.value, free.reason], ['control', 'DEFAULT']);
  const theme = await c.getStringDetails('theme', 'x', { targetingKey: 'u1' });
  assert.deepEqual([theme.value, theme.reason], ['light', 'STATIC']);
});

test('object flags: the variant attachment as an object', async () => {
  const c = await client('object');
  const o = await c.getObjectDetails('checkout', {}, { targetingKey: 'u1', plan: 'premium' });
  assert.deepEqual(o.value, { discount: 10, labels: ['a', 'b'], nested: { on: true } });
  assert.equal(o.variant, 'variant-a');
  const t = await c.getObjectDetails('theme', {}, { targetingKey: 'u1' });
  assert.deepEqual([t.value, t.reason], [{ background: '#fff', contrast: 4.5 }, 'STATIC']);
  // the control variant has no attachment: a type mismatch, the default value
  const none = await c.getObjectDetails('checkout', { fallback: true }, { targetingKey: 'u1', plan: 'free' });
  assert.deepEqual([none.value, none.errorCode], [{ fallback: true }, 'TYPE_MISMATCH']);
  assert.match(none.errorMessage, /variant "control" of flag "checkout" has no attachment/);
});

test('a flag not found: FLAG_NOT_FOUND and the default value', async () => {
  const c = await client('missing');
  const d = await c.getBooleanDetails('no-such-flag', true, { targetingKey: 'u1' });
  assert.deepEqual([d.value, d.errorCode, d.reason], [true, 'FLAG_NOT_FOUND', 'ERROR']);
  assert.match(d.errorMessage, /no-such-flag/);
});

test('type mismatches: a boolean flag as a string, a variant flag as a boolean, numbers', async () => {
  const c = await client('mismatch');
  const s = await c.getStringDetails('static-bool', 'd', { targetingKey: 'u1' });
  assert.deepEqual([s.value, s.errorCode], ['d', 'TYPE_MISMATCH']);
  const b = await c.getBooleanDetails('checkout', false, { targetingKey: 'u1' });
  assert.deepEqual([b.value, b.errorCode], [false, 'TYPE_MISMATCH']);
  const n = await c.getNumberDetails('checkout', 7, { targetingKey: 'u1' });
  assert.deepEqual([n.value, n.errorCode], [7, 'TYPE_MISMATCH']);
  assert.match(n.errorMessage, /Flipt has no float flags/);
  const missing = await c.getNumberDetails('no-such-flag', 7, { targetingKey: 'u1' });
  assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
});

test('Flagd-Selector: flagSetId=<environment>/<namespace> picks the namespace; an unknown environment is not found', async () => {
  const team = await client('team', { selector: 'flagSetId=default/team' });
  const d = await team.getStringDetails('team-banner', 'x', { targetingKey: 'u1' });
  assert.deepEqual([d.value, d.reason], ['hello', 'STATIC']);
  const short = await client('team-short', { selector: 'flagSetId=team' });
  assert.equal(await short.getStringValue('team-banner', 'x', { targetingKey: 'u1' }), 'hello');
  const nowhere = await client('nowhere', { selector: 'flagSetId=staging/default' });
  const e = await nowhere.getStringDetails('checkout', 'x', { targetingKey: 'u1' });
  assert.equal(e.errorCode, 'FLAG_NOT_FOUND');
  assert.match(e.errorMessage, /staging/);
});

test('a commit pushed through Git: PROVIDER_CONFIGURATION_CHANGED names the flag, the cached STATIC value is flushed', async () => {
  const c = await client('change');
  const first = await c.getBooleanDetails('static-bool', false, { targetingKey: 'u1' });
  assert.deepEqual([first.value, first.reason], [true, 'STATIC']);
  assert.equal((await c.getBooleanDetails('static-bool', false, { targetingKey: 'u1' })).reason, 'CACHED');
  const changed = new Promise((resolve) => {
    c.addHandler(ProviderEvents.ConfigurationChanged, (details) => resolve(details));
  });
  fs.writeFileSync(path.join(repo, 'default/features.yml'), flags(false));
  git(repo, 'commit', '-q', '-am', 'turn static-bool off');
  const r = await fetch(`${http}/api/v1/sync`, { method: 'POST' });
  assert.ok(r.status < 300, `POST /api/v1/sync: ${r.status}`);
  let timer;
  const details = await Promise.race([
    changed,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no PROVIDER_CONFIGURATION_CHANGED within 15 s')), 15000); }),
  ]).finally(() => clearTimeout(timer));
  assert.deepEqual(details.flagsChanged, ['static-bool']);
  const after = await c.getBooleanDetails('static-bool', true, { targetingKey: 'u1' });
  assert.deepEqual([after.value, after.reason], [false, 'STATIC']);
});

test('flagd web provider over Connect (HTTP port): ResolveAll by context, EventStream, a commit arriving as ConfigurationChanged', async () => {
  const provider = new FlagdWebProvider({ host: '127.0.0.1', port: httpPort, tls: false, maxRetries: 3 });
  providers.push(provider);
  await WebOpenFeature.setContext({ targetingKey: 'u1', plan: 'premium' });
  await WebOpenFeature.setProviderAndWait(provider);
  const c = WebOpenFeature.getClient();
  // the previous test turned static-bool off
  assert.deepEqual([c.getBooleanValue('static-bool', true), c.getBooleanDetails('static-bool', true).reason], [false, 'STATIC']);
  const checkout = c.getStringDetails('checkout', 'x');
  assert.deepEqual([checkout.value, checkout.reason, checkout.variant], ['variant-a', 'TARGETING_MATCH', 'variant-a']);
  assert.equal(c.getBooleanValue('targeted-bool', false), true);
  assert.equal(c.getStringDetails('static-bool', 'd').errorCode, 'TYPE_MISMATCH');
  assert.equal(c.getBooleanDetails('no-such-flag', true).errorCode, 'FLAG_NOT_FOUND');
  await WebOpenFeature.setContext({ targetingKey: 'u1', plan: 'free' });
  assert.equal(c.getStringValue('checkout', 'x'), 'control');
  let timer;
  const changed = new Promise((resolve, reject) => {
    c.addHandler(WebEvents.ConfigurationChanged, () => resolve());
    timer = setTimeout(() => reject(new Error('no ConfigurationChanged within 15 s')), 15000);
  });
  fs.writeFileSync(path.join(repo, 'default/features.yml'), flags(true));
  git(repo, 'commit', '-q', '-am', 'turn static-bool on again');
  const r = await fetch(`${http}/api/v1/sync`, { method: 'POST' });
  assert.ok(r.status < 300);
  await changed.finally(() => clearTimeout(timer));
  assert.equal(c.getBooleanValue('static-bool', false), true);
  // Closed here, not only in `after`: otherwise the next test's commit reaches this provider's
  // stream too, and its refetch (a promise the provider never catches) can still be in flight when
  // `after` stops the server, failing the file with an unhandled rejection.
  noMoreRetries(provider);
  await WebOpenFeature.close();
});

/** Serves the page and the packages' ES modules (an import map, no bundler) on loopback. */
function pageServer() {
  const modules = fileURLToPath(new URL('./node_modules/', import.meta.url));
  const esm = {
    '@openfeature/flagd-web-provider': '@openfeature/flagd-web-provider/index.esm.js',
    '@openfeature/web-sdk': '@openfeature/web-sdk/dist/esm/index.js',
    '@openfeature/core': '@openfeature/core/dist/esm/index.js',
    '@connectrpc/connect': '@connectrpc/connect/dist/esm/index.js',
    '@connectrpc/connect/protocol': '@connectrpc/connect/dist/esm/protocol/index.js',
    '@connectrpc/connect/protocol-connect': '@connectrpc/connect/dist/esm/protocol-connect/index.js',
    '@connectrpc/connect/protocol-grpc': '@connectrpc/connect/dist/esm/protocol-grpc/index.js',
    '@connectrpc/connect/protocol-grpc-web': '@connectrpc/connect/dist/esm/protocol-grpc-web/index.js',
    '@connectrpc/connect-web': '@connectrpc/connect-web/dist/esm/index.js',
    '@bufbuild/protobuf': '@bufbuild/protobuf/dist/esm/index.js',
  };
  const imports = Object.fromEntries(Object.entries(esm).map(([k, v]) => [k, `/m/${v}`]));
  const page = `<!doctype html><html><head><script type="importmap">${JSON.stringify({ imports })}</script>
<script type="module">
import { FlagdWebProvider } from '@openfeature/flagd-web-provider';
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
window.setup = async (port) => {
  window.changes = 0;
  await OpenFeature.setContext({ targetingKey: 'browser-user', plan: 'premium' });
  await OpenFeature.setProviderAndWait(new FlagdWebProvider({ host: '127.0.0.1', port, tls: false, maxRetries: 3 }));
  window.client = OpenFeature.getClient();
  window.client.addHandler(ProviderEvents.ConfigurationChanged, () => { window.changes += 1; });
  const d = window.client.getStringDetails('checkout', 'x');
  return { checkout: d.value, reason: d.reason, staticBool: window.client.getBooleanValue('static-bool', false) };
};
window.ready = true;
</script></head><body>flagd web provider</body></html>`;
  const srv = http_.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(page);
    }
    const rel = decodeURIComponent(url.pathname.replace(/^\/m\//, ''));
    const file = path.join(modules, rel);
    if (!url.pathname.startsWith('/m/') || !file.startsWith(modules) || !fs.existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'text/javascript' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

test('flagd web provider in real Chromium over Connect: evaluations and a Git commit arriving as ConfigurationChanged', async () => {
  const srv = await pageServer();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${srv.address().port}/`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 10000 }).catch((e) => {
      throw new Error(`${e.message}; page errors: ${errors.join('; ')}`);
    });
    const first = await page.evaluate((port) => window.setup(port), httpPort);
    // the previous test turned static-bool on again
    assert.deepEqual(first, { checkout: 'variant-a', reason: 'TARGETING_MATCH', staticBool: true });
    fs.writeFileSync(path.join(repo, 'default/features.yml'), flags(false));
    git(repo, 'commit', '-q', '-am', 'turn static-bool off from the browser test');
    const r = await fetch(`${http}/api/v1/sync`, { method: 'POST' });
    assert.ok(r.status < 300);
    await page.waitForFunction(() => window.changes > 0, null, { timeout: 15000 });
    assert.equal(await page.evaluate(() => window.client.getBooleanValue('static-bool', true)), false);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    srv.close();
  }
});
