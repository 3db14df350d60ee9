// A stand-in for switchyard's HTTP API (docs/api.md), for previewing the dashboard without the
// server. Not used by the tests, which run the real server.
//
//   node tests/browser/mock-server.mjs [--listen 127.0.0.1:8099]
//     canned data; POST /__mock/apply (a new commit with a diff), /__mock/reject (an invalid
//     commit), /__mock/syncing. Evaluation answers are canned, not Flipt's semantics.
//   node tests/browser/mock-server.mjs --listen ADDR --repo DIR [--poll-interval 1s] [--bin switchyard]
//     follows a git repository: validates each new commit with `switchyard validate`, evaluates
//     with `switchyard evaluate` (the CLI already on main) and reads YAML with python3-yaml.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const DASH = fileURLToPath(new URL('../../crates/switchyard-server/dashboard/', import.meta.url));
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const [host, portText] = arg('--listen', '127.0.0.1:8099').split(':');
const port = Number(portText);
const REPO = arg('--repo');
const POLL_MS = parseFloat(arg('--poll-interval', '1s')) * 1000;
const BIN = arg('--bin', fileURLToPath(new URL('../../target/debug/switchyard', import.meta.url)));
const now = () => new Date().toISOString();
const sha = () => [...Array(40)].map(() => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');

const commit1 = { sha: sha(), author: 'Ada Lovelace <ada@example.com>', message: 'Seed flags', time: now() };
let rollout = 25;
const doc = () => ({
  version: '1.4', namespace: { key: 'default', name: 'Default' },
  flags: [
    { key: 'newPaymentFlow', name: 'New Payment Flow', type: 'VARIANT_FLAG_TYPE', enabled: true,
      variants: [{ key: 'enabled' }, { key: 'disabled', default: true }],
      rules: [{ segment: 'premium-users', distributions: [{ variant: 'enabled', rollout }, { variant: 'disabled', rollout: 100 - rollout }] }] },
    { key: 'checkoutExperiment', name: 'Checkout Experiment', type: 'VARIANT_FLAG_TYPE', enabled: true,
      variants: [{ key: 'control', default: true }, { key: 'variant-a', attachment: { buttonColor: 'green' } }],
      rules: [{ segment: { keys: ['enterprise-users', 'premium-users'], operator: 'OR_SEGMENT_OPERATOR' }, distributions: [{ variant: 'variant-a', rollout: 100 }] }] },
    { key: 'darkMode', name: 'Dark mode', type: 'BOOLEAN_FLAG_TYPE', enabled: false,
      rollouts: [{ segment: { key: 'premium-users', value: true } }, { threshold: { percentage: 30, value: true } }] },
  ],
  segments: [
    { key: 'premium-users', name: 'Premium users', match_type: 'ALL_MATCH_TYPE', constraints: [{ type: 'STRING_COMPARISON_TYPE', property: 'plan', operator: 'eq', value: 'premium' }] },
    { key: 'enterprise-users', name: 'Enterprise users', match_type: 'ANY_MATCH_TYPE', constraints: [{ type: 'STRING_COMPARISON_TYPE', property: 'plan', operator: 'eq', value: 'enterprise' }, { type: 'NUMBER_COMPARISON_TYPE', property: 'seats', operator: 'gte', value: '100' }] },
  ],
});

const status = {
  environment: 'default', enabled: true, repository: 'https://git.example.com/acme/flags.git', branch: 'main',
  directory: '', pollInterval: '30s', syncStatus: 'success', lastSyncTime: now(), errorMessage: null, errorClass: null,
  lastSuccessTime: now(), nextSyncTime: new Date(Date.now() + 30000).toISOString(), servingCommit: commit1, remoteCommit: commit1,
  consecutiveFailures: 0, validationErrors: [], flags: 3, digest: 'abc',
};
const staging = { ...status, environment: 'staging', branch: 'staging', pollInterval: '1m', syncStatus: 'idle', lastSyncTime: null, servingCommit: null, remoteCommit: null, flags: 0 };
const history = [{ time: now(), durationMs: 42, commit: commit1.sha, outcome: 'applied', diff: ['flag newPaymentFlow added', 'segment premium-users added'], repeats: 0, lastTime: null }];

const clients = new Set();
function send(event, data) {
  for (const res of clients) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

const routes = {
  'GET /health': () => ({ status: 'SERVING' }),
  'GET /api/v2/environments': () => ({ environments: [
    { key: 'default', name: 'default', default: true, configuration: { ref: 'main', directory: '', remote: status.repository } },
    { key: 'staging', name: 'Staging', default: false, configuration: { ref: 'staging', directory: '', remote: status.repository } }] }),
  'GET /api/v1/sync/statuses': () => ({ statuses: [status, staging] }),
  'GET /api/v1/sync/status': (q) => (q.get('environment') === 'staging' ? staging : status),
  'GET /api/v1/sync/history': (q) => ({ environment: q.get('environment') ?? 'default', entries: q.get('environment') === 'staging' ? [] : history }),
  'POST /api/v1/sync': (q, req) => {
    if (process.env.MOCK_TOKEN && req.headers.authorization !== `Bearer ${process.env.MOCK_TOKEN}`) return [401, { code: 16, message: 'an admin token is required', details: [] }];
    setTimeout(() => { status.lastSyncTime = now(); send('status', status); }, 200);
    return [202, { environment: q.get('environment') ?? 'default', triggered: true }];
  },
  'GET /api/v1/environments/default/namespaces': () => ({ namespaces: [{ key: 'default', name: 'Default', description: '', digest: 'abc', flags: 3, segments: 2 }] }),
  'GET /api/v1/environments/staging/namespaces': () => ({ namespaces: [] }),
  'GET /api/v1/environments/default/namespaces/default/document': () => doc(),
  'POST /evaluate/v1/variant': (q, req, body) => ({ match: body.context?.plan === 'premium', segmentKeys: body.context?.plan === 'premium' ? ['premium-users'] : [], reason: body.context?.plan === 'premium' ? 'MATCH_EVALUATION_REASON' : 'DEFAULT_EVALUATION_REASON', variantKey: body.context?.plan === 'premium' ? 'enabled' : 'disabled', variantAttachment: '', requestId: 'r1', requestDurationMillis: 0.1, timestamp: now(), flagKey: body.flagKey }),
  'POST /evaluate/v1/boolean': (q, req, body) => ({ enabled: true, reason: 'MATCH_EVALUATION_REASON', requestId: 'r2', requestDurationMillis: 0.1, timestamp: now(), flagKey: body.flagKey, segmentKeys: ['premium-users'] }),
  'POST /__mock/apply': () => {
    const old = rollout;
    rollout = rollout === 25 ? 50 : 25;
    const c = { sha: sha(), author: 'Grace Hopper <grace@example.com>', message: `Roll newPaymentFlow out to ${rollout}%`, time: now() };
    Object.assign(status, { syncStatus: 'success', servingCommit: c, remoteCommit: c, lastSyncTime: now(), lastSuccessTime: now(), errorMessage: null, errorClass: null, validationErrors: [] });
    const diff = [`flag newPaymentFlow rule 1 (premium-users): variant enabled rollout ${old}% -> ${rollout}%`];
    history.push({ time: now(), durationMs: 37, commit: c.sha, outcome: 'applied', diff, repeats: 0, lastTime: null });
    send('status', status);
    send('change', { environment: 'default', oldDigest: 'a', newDigest: 'b', commit: c, diff });
    return {};
  },
  'POST /__mock/reject': () => {
    const bad = { sha: sha(), author: 'Eve <eve@example.com>', message: 'Break the rules', time: now() };
    const errors = [{ file: 'flipt/features.yml', line: 12, column: 13, path: 'flags[0].rules[0].segment', message: 'flag default/newPaymentFlow rule 1 references unknown segment "premium-user"' }];
    Object.assign(status, { syncStatus: 'error', remoteCommit: bad, lastSyncTime: now(), errorClass: 'validation', errorMessage: `commit ${bad.sha.slice(0, 7)} rejected: 1 validation error`, validationErrors: errors, consecutiveFailures: 1 });
    history.push({ time: now(), durationMs: 12, commit: bad.sha, outcome: 'rejected', errors, diff: [], repeats: 0, lastTime: null });
    send('status', status);
    return {};
  },
  'POST /__mock/syncing': () => { status.syncStatus = 'syncing'; send('status', status); return {}; },
};

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/api/v1/sync/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    clients.add(res);
    res.write(`event: status\ndata: ${JSON.stringify(status)}\n\n`);
    req.on('close', () => clients.delete(res));
    return;
  }
  const route = routes[`${req.method} ${url.pathname}`];
  if (route) {
    let body = '';
    for await (const chunk of req) body += chunk;
    let out = route(url.searchParams, req, body ? JSON.parse(body) : {});
    const [code, data] = Array.isArray(out) ? out : [200, out];
    res.writeHead(code, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(data));
  }
  const file = url.pathname === '/' ? 'index.html' : normalize(url.pathname).replace(/^\/+/, '');
  try {
    const data = await readFile(join(DASH, file));
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(data);
  } catch {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 5, message: 'not found', details: [] }));
  }
}).listen(port, host, () => console.log(`mock switchyard on http://${host}:${port}/`));

// ---- git mode ----------------------------------------------------------------------------------

function loadCommit(sha) {
  const dir = mkdtempSync(join(tmpdir(), 'mock-checkout-'));
  execFileSync('sh', ['-c', `git -C "${REPO}" archive ${sha} | tar -x -C "${dir}"`]);
  const v = spawnSync(BIN, ['validate', '--format', 'json', dir], { encoding: 'utf8' });
  if (v.status !== 0) {
    const errors = JSON.parse(v.stdout || '[]').map((e) => ({ file: e.location.file.slice(dir.length + 1), line: e.location.line, column: e.location.column, path: e.path, message: e.message }));
    return { errors };
  }
  const json = execFileSync('python3', ['-c', 'import sys,yaml,json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(dir, 'flipt/features.yml')], { encoding: 'utf8' });
  return { dir, doc: JSON.parse(json) };
}

function commitInfo(sha) {
  const [author, message, time] = execFileSync('git', ['-C', REPO, 'log', '-1', '--format=%an <%ae>%n%s%n%cI', sha], { encoding: 'utf8' }).trim().split('\n');
  return { sha, author, message, time: new Date(time).toISOString() };
}

function naiveDiff(a, b) {
  const lines = [];
  const byKey = (d) => new Map((d?.flags ?? []).map((f) => [f.key, JSON.stringify(f)]));
  const [x, y] = [byKey(a), byKey(b)];
  for (const [k, v] of y) if (!x.has(k)) lines.push(`flag ${k} added`); else if (x.get(k) !== v) lines.push(`flag ${k} changed`);
  for (const k of x.keys()) if (!y.has(k)) lines.push(`flag ${k} removed`);
  const r = (d) => JSON.stringify(d?.flags?.find((f) => f.key === 'newPaymentFlow')?.rules?.[0]?.distributions?.[0]?.rollout);
  if (r(a) && r(b) && r(a) !== r(b)) lines.push(`flag newPaymentFlow rule 1 (premium-users): variant enabled rollout ${r(a)}% -> ${r(b)}%`);
  return lines;
}

let served = null; // {sha, dir, doc}
let seen = null;
function poll() {
  const started = Date.now();
  const head = execFileSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  status.lastSyncTime = now();
  status.nextSyncTime = new Date(Date.now() + POLL_MS).toISOString();
  if (head === seen) {
    const last = history[history.length - 1];
    if (last?.outcome === 'unchanged') { last.repeats += 1; last.lastTime = now(); }
    else history.push({ time: now(), durationMs: Date.now() - started, commit: head, outcome: 'unchanged', diff: [], repeats: 0, lastTime: null });
    send('status', status);
    return;
  }
  seen = head;
  const loaded = loadCommit(head);
  const info = commitInfo(head);
  status.remoteCommit = info;
  if (loaded.errors) {
    Object.assign(status, { syncStatus: 'error', errorClass: 'validation', errorMessage: `commit ${head.slice(0, 7)} rejected: ${loaded.errors.length} validation error(s)`, validationErrors: loaded.errors, consecutiveFailures: status.consecutiveFailures + 1 });
    history.push({ time: now(), durationMs: Date.now() - started, commit: head, outcome: 'rejected', errors: loaded.errors, diff: [], repeats: 0, lastTime: null });
    send('status', status);
    return;
  }
  const diff = naiveDiff(served?.doc, loaded.doc);
  served = { sha: head, ...loaded };
  Object.assign(status, { syncStatus: 'success', errorClass: null, errorMessage: null, validationErrors: [], consecutiveFailures: 0, servingCommit: info, lastSuccessTime: now(), flags: loaded.doc.flags.length });
  history.push({ time: now(), durationMs: Date.now() - started, commit: head, outcome: 'applied', diff, repeats: 0, lastTime: null });
  send('status', status);
  send('change', { environment: 'default', oldDigest: '', newDigest: head, commit: info, diff });
}

if (REPO) {
  history.length = 0;
  Object.assign(status, { repository: REPO, pollInterval: arg('--poll-interval', '1s'), syncStatus: 'idle', servingCommit: null, remoteCommit: null });
  routes['GET /api/v1/sync/statuses'] = () => ({ statuses: [status] });
  routes['GET /api/v2/environments'] = () => ({ environments: [{ key: 'default', name: 'default', default: true, configuration: { ref: 'main', directory: '', remote: REPO } }] });
  routes['GET /api/v1/environments/default/namespaces'] = () => ({ namespaces: [{ key: 'default', name: 'Default', description: '', digest: served?.sha ?? '', flags: served?.doc.flags.length ?? 0, segments: served?.doc.segments?.length ?? 0 }] });
  routes['GET /api/v1/environments/default/namespaces/default/document'] = () => served?.doc ?? {};
  routes['POST /api/v1/sync'] = (q) => { setTimeout(poll, 10); return [202, { environment: 'default', triggered: true }]; };
  routes['POST /evaluate/v1/variant'] = (q, req, body) => {
    const ctx = Object.entries(body.context ?? {}).flatMap(([k, v]) => ['--context', `${k}=${v}`]);
    const out = execFileSync(BIN, ['evaluate', '--dir', served.dir, '--flag', body.flagKey, '--entity', body.entityId, ...ctx], { encoding: 'utf8' });
    return JSON.parse(out);
  };
  routes['POST /evaluate/v1/boolean'] = routes['POST /evaluate/v1/variant'];
  poll();
  setInterval(poll, POLL_MS);
}
