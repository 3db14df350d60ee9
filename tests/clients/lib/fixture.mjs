// The test fixture: a real Git repository holding a known flag set, a Switchyard server
// serving it, a signed GitHub webhook, and a recording HTTP proxy.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const WEBHOOK_SECRET = 'test-secret';

// Before the push: newHomeUI (boolean) is off except for premium users; checkoutExperiment
// (variant) defaults to `control`, premium users get `variant-a`; retiredFlag is disabled.
export const FLAGS_BEFORE = `version: "1.4"
namespace: default
flags:
  - key: newHomeUI
    name: New Home UI
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: premium-users, value: true}
  - key: checkoutExperiment
    name: Checkout Experiment
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - key: control
        default: true
      - key: variant-a
        attachment: {buttonColor: green}
    rules:
      - segment: premium-users
        distributions: [{variant: variant-a, rollout: 100}]
  - key: retiredFlag
    name: Retired Flag
    type: VARIANT_FLAG_TYPE
    enabled: false
    variants:
      - key: old
        default: true
segments:
  - key: premium-users
    name: Premium users
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: premium}
`;

// After the push: newHomeUI is on for everyone, checkoutExperiment defaults to `variant-a`.
export const FLAGS_AFTER = FLAGS_BEFORE
  .replace('type: BOOLEAN_FLAG_TYPE\n    enabled: false', 'type: BOOLEAN_FLAG_TYPE\n    enabled: true')
  .replace('- key: control\n        default: true\n      - key: variant-a\n',
           '- key: control\n      - key: variant-a\n        default: true\n');
if (FLAGS_AFTER === FLAGS_BEFORE || !FLAGS_AFTER.includes('enabled: true\n    rollouts')) {
  throw new Error('fixture: FLAGS_AFTER replacement did not apply');
}

/** Expected values for entity `user-1`, before and after the push. */
export const EXPECT = {
  before: {
    free: { newHomeUI: false, checkoutExperiment: 'control' },
    premium: { newHomeUI: true, checkoutExperiment: 'variant-a' },
  },
  after: {
    free: { newHomeUI: true, checkoutExperiment: 'variant-a' },
    premium: { newHomeUI: true, checkoutExperiment: 'variant-a' },
  },
};

function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Client Tests', GIT_AUTHOR_EMAIL: 'tests@example.invalid',
      GIT_COMMITTER_NAME: 'Client Tests', GIT_COMMITTER_EMAIL: 'tests@example.invalid',
      GIT_CONFIG_NOSYSTEM: '1', HOME: cwd,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString().trim();
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Creates the repository, writes the config and starts `switchyard serve`. */
export async function startServer({ bin, workDir }) {
  fs.mkdirSync(workDir, { recursive: true });
  const root = fs.mkdtempSync(path.join(workDir, 'run-'));
  const repo = path.join(root, 'flags-repo');
  fs.mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  // Flipt v2's rule (the config below is v2's): `<dir>/features.yml`, never one at the root.
  fs.mkdirSync(path.join(repo, 'default'));
  fs.writeFileSync(path.join(repo, 'default/features.yml'), FLAGS_BEFORE);
  git(repo, 'add', 'default/features.yml');
  git(repo, 'commit', '-q', '-m', 'initial flags');
  const remote = `file://${repo}`;
  const config = path.join(root, 'switchyard.yml');
  fs.writeFileSync(config, `storage:
  default:
    remote: "${remote}"
    branch: main
    poll_interval: 30s   # long on purpose: the webhook must do the work
environments:
  default: { storage: default, default: true }
webhooks:
  github: { secret: "${WEBHOOK_SECRET}" }
`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logPath = path.join(root, 'server.log');
  const log = fs.openSync(logPath, 'w');
  const child = spawn(bin, ['serve', '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: root, stdio: ['ignore', log, log], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info', NO_COLOR: '1' },
  });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  // Never leave the server behind, even when the test process dies.
  process.on('exit', () => { if (!exited) child.kill('SIGKILL'); });
  const deadline = Date.now() + 15000;
  for (;;) {
    if (exited) throw new Error(`switchyard exited early (${JSON.stringify(exited)}); log:\n${fs.readFileSync(logPath, 'utf8')}`);
    try {
      const r = await fetch(`${url}/ready`);
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`switchyard not ready within 15 s; log:\n${fs.readFileSync(logPath, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, port, repo, remote, root, logPath, child,
    /** The flag file as last committed. */
    flags: FLAGS_BEFORE,
    /** Writes the flag file and commits it (a real `git commit`); returns the new sha. */
    commit(text, message) {
      if (text === this.flags) throw new Error(`fixture: commit "${message}" would change nothing`);
      fs.writeFileSync(path.join(repo, 'default/features.yml'), text);
      this.flags = text;
      git(repo, 'commit', '-q', '-am', message);
      return git(repo, 'rev-parse', 'HEAD');
    },
    /** Sends a push webhook signed with HMAC-SHA256 over the raw body. */
    async pushWebhook(secret = WEBHOOK_SECRET) {
      const body = JSON.stringify({
        ref: 'refs/heads/main',
        repository: { clone_url: remote, full_name: 'tests/flags-repo' },
      });
      const sig = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
      const r = await fetch(`${url}/api/v1/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sig },
        body,
      });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
    async stop() {
      if (exited) return exited;
      const done = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      const res = await done;
      clearTimeout(t);
      return res;
    },
  };
}

/**
 * A recording reverse proxy in front of `target`: every request's method, path,
 * If-None-Match and response status land in `log`. Bodies are streamed, not buffered.
 */
export async function startRecordingProxy(target) {
  const t = new URL(target);
  const log = [];
  const server = http.createServer((req, res) => {
    const entry = { method: req.method, path: req.url, ifNoneMatch: req.headers['if-none-match'] ?? null, contentType: req.headers['content-type'] ?? null, status: null, etag: null };
    log.push(entry);
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (upRes) => {
      entry.status = upRes.statusCode;
      entry.etag = upRes.headers.etag ?? null;
      res.writeHead(upRes.statusCode, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', (e) => { entry.status = 502; res.writeHead(502); res.end(String(e)); });
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    log,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

export async function waitFor(what, fn, timeoutMs = 5000, stepMs = 20) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export const defaultWorkDir = () => process.env.CLIENT_TESTS_WORK ?? path.join(os.tmpdir(), 'switchyard-client-tests');
