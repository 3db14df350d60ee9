// Helpers for the dashboard's browser tests: a real switchyard process, a real git repository and
// Debian's Chromium driven by playwright-core.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = resolve(HERE, '../..');
export const ARTIFACTS = join(HERE, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export const BIN = resolve(ROOT, process.env.SWITCHYARD_BIN ?? 'target/debug/switchyard');
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (the server is restarted on the same one). */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

export function git(repo, ...args) {
  return execFileSync('git', args, {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'], // the demo's post-commit hook complains while the server is down
    env: { ...process.env, GIT_AUTHOR_NAME: 'Dash Tester', GIT_AUTHOR_EMAIL: 'dash@example.com', GIT_COMMITTER_NAME: 'Dash Tester', GIT_COMMITTER_EMAIL: 'dash@example.com' },
  }).trim();
}

export const tempDir = (prefix) => mkdtempSync(join(tmpdir(), prefix));

/** The first directory under dir (depth <= 3) that is a git work tree. */
export function findRepo(dir, depth = 0) {
  if (existsSync(join(dir, '.git'))) return dir;
  if (depth >= 3) return null;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory() && !name.startsWith('.')) {
      const found = findRepo(p, depth + 1);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Starts `switchyard <args>` and resolves once it answers /health. Output is kept in `log` for
 * failure messages.
 */
export async function startServer(args, baseUrl, { timeoutMs = 20000 } = {}) {
  if (!existsSync(BIN)) throw new Error(`switchyard binary not found at ${BIN} (build it: cargo build -p switchyard, or set SWITCHYARD_BIN)`);
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } });
  const server = { child, log: '', exited: false };
  child.stdout.on('data', (d) => { server.log += d; });
  child.stderr.on('data', (d) => { server.log += d; });
  child.on('exit', (code, signal) => { server.exited = true; server.exit = { code, signal }; });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`switchyard exited early (${JSON.stringify(server.exit)}):\n${server.log}`);
    try {
      const res = await fetch(new URL('health', baseUrl));
      if (res.ok) return server;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`switchyard did not answer /health within ${timeoutMs} ms:\n${server.log}`);
}

export async function stopServer(server) {
  if (!server || server.exited) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (!server.exited) server.child.kill('SIGKILL');
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function postJson(baseUrl, path, body) {
  const res = await fetch(new URL(path, baseUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

export async function getJson(baseUrl, path) {
  const res = await fetch(new URL(path, baseUrl));
  return { status: res.status, body: await res.json() };
}

/** Polls fn until it returns a truthy value; throws with the last value after timeoutMs. */
export async function until(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

export { contrastFailures } from './contrast.mjs';
