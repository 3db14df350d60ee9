// End-to-end: the built demo app in real Chromium (playwright-core, /usr/bin/chromium) against a
// real `switchyard demo` syncing a real Git repository.
//   SWITCHYARD_BIN  the server binary (default <repo>/target/debug/switchyard)
//   CHROME_BIN      Chromium (default /usr/bin/chromium)
// Run: node --test e2e/e2e.test.mjs   (after `ng build switchyard-angular && ng build demo`)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serveStatic } from './static-server.mjs';
import { contrastFailures } from '../../../tests/browser/contrast.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const BIN = resolve(ROOT, process.env.SWITCHYARD_BIN ?? 'target/debug/switchyard');
const CHROME = process.env.CHROME_BIN ?? '/usr/bin/chromium';
const APP = join(HERE, '../dist/demo/browser');
const ARTIFACTS = join(HERE, 'artifacts'); // screenshots, git-ignored
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

function git(cwd, ...args) {
  return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', '-c', 'commit.gpgsign=false', ...args],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The first directory holding a .git under dir (depth ≤ 4). */
function findRepo(dir, depth = 0) {
  if (existsSync(join(dir, '.git'))) return dir;
  if (depth > 4) return null;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (!name.startsWith('.') && statSync(p).isDirectory()) { const f = findRepo(p, depth + 1); if (f) return f; }
  }
  return null;
}

function findFile(dir, name, depth = 0) {
  for (const entry of readdirSync(dir)) {
    if (entry === '.git') continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) { if (depth < 4) { const f = findFile(p, name, depth + 1); if (f) return f; } }
    else if (entry === name) return p;
  }
  return null;
}

/** Starts `switchyard demo` on a free port; learns which options this build has from --help. */
async function startSwitchyard() {
  assert.ok(existsSync(BIN), `switchyard binary not found at ${BIN} (cargo build -p switchyard, or set SWITCHYARD_BIN)`);
  const help = execFileSync(BIN, ['demo', '--help'], { encoding: 'utf8' });
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-ng-e2e-'));
  const args = ['demo', '--listen', `127.0.0.1:${port}`, '--dir', dir];
  let repo = null;
  if (/--repo\b/.test(help)) {
    repo = join(dir, 'flags');
    cpSync(join(ROOT, 'examples/seed'), repo, { recursive: true });
    git(dir, 'init', '-q', '-b', 'main', repo);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'Seed flags');
    args.push('--repo', repo);
  }
  const fastPoll = /--poll-interval\b/.test(help);
  if (fastPoll) args.push('--poll-interval', '1s');
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } });
  const sy = { child, log: '', exited: false, url: `http://127.0.0.1:${port}`, dir, fastPoll };
  child.stdout.on('data', (d) => (sy.log += d));
  child.stderr.on('data', (d) => (sy.log += d));
  child.on('exit', (code, signal) => { sy.exited = true; sy.exit = { code, signal }; });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (sy.exited) throw new Error(`switchyard exited (${JSON.stringify(sy.exit)}):\n${sy.log}`);
    try { if ((await fetch(`${sy.url}/ready`)).ok) break; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`switchyard not ready within 30 s:\n${sy.log}`);
    await sleep(100);
  }
  if (!repo) {
    // The demo makes its own repository and prints where it is.
    for (const m of sy.log.matchAll(/(\/[^\s'"`]+)/g)) {
      const p = m[1].replace(/[.,:;)]+$/, '');
      if (existsSync(join(p, '.git'))) { repo = p; break; }
    }
    repo ??= findRepo(dir);
  }
  assert.ok(repo, `could not find the demo's git repository in its output:\n${sy.log}`);
  sy.repo = repo;
  sy.features = findFile(repo, 'features.yml');
  assert.ok(sy.features, `no features.yml in ${repo}`);
  return sy;
}

async function stopSwitchyard(sy) {
  if (!sy || sy.exited) return;
  const gone = new Promise((r) => sy.child.once('exit', r));
  sy.child.kill('SIGTERM');
  await Promise.race([gone, sleep(5000)]);
  if (!sy.exited) sy.child.kill('SIGKILL');
}

/** What the server says for one flag and context (the oracle for the page). */
async function evaluate(sy, key, context) {
  const res = await fetch(`${sy.url}/ofrep/v1/evaluate/flags/${key}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ context }),
  });
  return res.json();
}

/** Replaces, inside the YAML block of flag `key`, `from` by `to`. */
function editFlag(text, key, from, to) {
  const start = text.indexOf(`- key: ${key}\n`);
  assert.ok(start >= 0, `flag ${key} not in features.yml`);
  const next = text.indexOf('\n  - key: ', start + 1);
  const end = next < 0 ? text.length : next;
  const block = text.slice(start, end);
  assert.ok(block.includes(from), `flag ${key}: "${from}" not found`);
  return text.slice(0, start) + block.replace(from, to) + text.slice(end);
}

const USERS = {
  anonymous: {},
  premium: { targetingKey: 'premium-user', plan: 'premium' },
  beta: { targetingKey: 'beta-tester', betaTester: 'true' },
  enterprise: { targetingKey: 'enterprise-user', plan: 'enterprise' },
};

describe('demo app against a real switchyard demo', () => {
  let sy, web, browser, page;
  const consoleErrors = [];

  async function commit(message, edit) {
    const before = readFileSync(sy.features, 'utf8');
    writeFileSync(sy.features, edit(before));
    git(sy.repo, 'commit', '-qam', message);
    const t0 = Date.now();
    // Without a fast poll option, nudge the server as a push webhook would.
    if (!sy.fastPoll) await fetch(`${sy.url}/api/v1/sync`, { method: 'POST' });
    return t0;
  }

  const attr = (id, name) => page.getAttribute(`[data-testid="${id}"]`, name);
  const text = async (id) => (await page.textContent(`[data-testid="${id}"]`))?.replace(/\s+/g, ' ').trim();

  /** The page's flags as the user sees them. */
  async function seen() {
    return page.evaluate(() => {
      const q = (id) => document.querySelector(`[data-testid="${id}"]`);
      return {
        home: q('home-banner')?.dataset.variant,
        dashboard: q('dashboard-panel') ? 'enabled' : 'disabled',
        payment: q('pay-button')?.dataset.variant,
        checkout: q('checkout-button')?.dataset.variant,
        color: q('checkout-button') ? getComputedStyle(q('checkout-button')).backgroundColor : null,
      };
    });
  }

  /** What the page must show for a context, from the server's own evaluations. */
  async function expected(context) {
    const v = async (key, dflt) => {
      const r = await evaluate(sy, key, context);
      return typeof r.value === 'string' ? r.value : dflt;
    };
    return {
      home: await v('newHomeUI', 'disabled'),
      dashboard: await v('newDashboard', 'disabled'),
      payment: await v('newPaymentFlow', 'disabled'),
      checkout: await v('checkoutExperiment', 'control'),
    };
  }

  async function shot(name, on = page) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await on.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  /**
   * Opens the demo in a new page of the given size and colour scheme, checks that it never
   * scrolls sideways and shows no emoji, screenshots it (`<name>-<width>-<scheme>.png`) and closes it.
   */
  async function layoutCheck(name, width, colorScheme) {
    const p = await browser.newPage({ viewport: { width, height: 800 }, colorScheme });
    try {
      await p.goto(`${web.url}?server=${encodeURIComponent(sy.url)}`);
      await p.waitForSelector('[data-testid="flags-table"] tbody tr[data-flag="newHomeUI"]', { timeout: 10000 });
      await p.waitForFunction(() => document.querySelector('[data-testid="git-sync-status"]')?.getAttribute('data-status') !== 'idle', null, { timeout: 5000 });
      const m = await p.evaluate(() => ({
        scrollWidth: document.scrollingElement.scrollWidth,
        innerWidth: window.innerWidth,
        wide: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}`).slice(0, 5),
        emoji: (document.body.innerText.match(/\p{Extended_Pictographic}/gu) ?? []).join(''),
        icons: document.querySelectorAll('[data-testid="sync-indicator"] svg path').length,
      }));
      assert.ok(m.scrollWidth <= m.innerWidth, `${name} at ${width} px (${colorScheme}): no horizontal scroll (scrollWidth ${m.scrollWidth} > ${m.innerWidth}; wide: ${m.wide.join(', ')})`);
      assert.equal(m.emoji, '', 'no emoji glyphs on the page');
      assert.ok(m.icons > 0, 'the indicator is an inline SVG');
      assert.deepEqual(await contrastFailures(p), [], `WCAG AA contrast, ${colorScheme}`);
      await shot(`${name}-${width}-${colorScheme}`, p);
    } finally {
      await p.close();
    }
  }

  async function waitFor(predicate, arg, timeout) {
    await page.waitForFunction(predicate, arg, { timeout, polling: 25 });
  }

  before(async () => {
    sy = await startSwitchyard();
    web = await serveStatic(APP);
    browser = await chromium.launch({
      executablePath: CHROME,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`${web.url}?server=${encodeURIComponent(sy.url)}`);
    await page.waitForSelector('[data-testid="flags-table"] tbody tr[data-flag="newHomeUI"]', { timeout: 10000 });
  });

  after(async () => {
    await browser?.close();
    web?.server.close();
    await stopSwitchyard(sy);
    if (sy?.dir) rmSync(sy.dir, { recursive: true, force: true });
  });

  it('shows the served flags and the sync status of the repository', async () => {
    // The demo polls every second, and each poll shows Syncing for a moment: status and word are
    // read together, in one look at the page.
    await waitFor(() => document.querySelector('[data-testid="git-sync-status"]')?.getAttribute('data-status') === 'success'
      && document.querySelector('[data-testid="sync-indicator"]')?.textContent.replace(/\s+/g, ' ').trim() === 'Success', null, 10000);
    assert.ok(await text('sync-branch'), 'branch shown');
    assert.match(await text('sync-last'), /\d/);
    const rows = await page.$$eval('[data-testid="flags-table"] tbody tr', (trs) => trs.map((t) => t.getAttribute('data-flag')));
    for (const k of ['checkoutExperiment', 'newDashboard', 'newHomeUI', 'newPaymentFlow']) assert.ok(rows.includes(k), `${k} in ${rows}`);
    assert.equal(await attr('git-sync-status', 'role'), 'status');
    assert.equal(await attr('git-sync-status', 'aria-live'), 'polite');
    assert.equal(await attr('live', 'class'), 'live on');
    // "Sync now" asks the server (POST /api/v1/sync, public in the demo).
    await page.click('[data-testid="sync-now"]');
    await waitFor(() => document.querySelector('[data-testid="sync-message"]')?.textContent === 'Sync requested', null, 3000);
    await waitFor(() => document.querySelector('[data-testid="git-sync-status"]')?.getAttribute('data-status') === 'success', null, 5000);
  });

  it('fits a 375 px phone and a desktop, light and dark, with SVG indicators and no emoji', async () => {
    for (const width of [375, 1280]) {
      for (const scheme of ['light', 'dark']) await layoutCheck('success', width, scheme);
    }
  });

  it('switching users changes the variants as the server rules say', async () => {
    for (const [id, context] of Object.entries(USERS)) {
      const want = await expected(context);
      await page.click(`[data-testid="user-${id}"]`);
      try {
        await waitFor((w) => {
          const q = (i) => document.querySelector(`[data-testid="${i}"]`);
          return q('home-banner')?.dataset.variant === w.home
            && (q('dashboard-panel') ? 'enabled' : 'disabled') === w.dashboard
            && q('pay-button')?.dataset.variant === w.payment
            && q('checkout-button')?.dataset.variant === w.checkout;
        }, want, 3000);
      } catch {
        assert.deepEqual(await seen(), want, `page for ${id}`);
      }
      const got = await seen();
      // The demo flags' rules, independently of the oracle:
      if (id === 'anonymous') assert.deepEqual({ ...got, color: undefined }, { home: 'disabled', dashboard: 'disabled', payment: 'disabled', checkout: 'control', color: undefined });
      if (id === 'premium') assert.equal(got.home, 'enabled');
      if (id === 'premium' || id === 'enterprise') {
        // The new home banner and the coloured buttons stay readable in both schemes.
        for (const colorScheme of ['light', 'dark']) {
          await page.emulateMedia({ colorScheme });
          assert.deepEqual(await contrastFailures(page), [], `WCAG AA contrast for ${id}, ${colorScheme}`);
        }
        await page.emulateMedia({ colorScheme: 'light' });
      }
      if (id === 'premium') assert.ok(['enabled', 'disabled'].includes(got.payment));
      if (id === 'beta') assert.deepEqual([got.dashboard, got.home], ['enabled', 'disabled']);
      if (id === 'enterprise') {
        assert.ok(['variant-a', 'variant-b'].includes(got.checkout), got.checkout);
        assert.equal(got.color, got.checkout === 'variant-a' ? 'rgb(0, 128, 0)' : 'rgb(0, 0, 255)');
      }
    }
  });

  it('a commit that enables a flag changes the page within 2 s, without a reload', async () => {
    await page.click('[data-testid="user-anonymous"]');
    await waitFor(() => !document.querySelector('[data-testid="dashboard-panel"]'), null, 3000);
    await page.evaluate(() => (window.__noReload = true));
    const t0 = await commit('Enable the new dashboard for everyone', (t) =>
      editFlag(t, 'newDashboard', '      - key: enabled\n      - key: disabled\n        default: true\n',
        '      - key: enabled\n        default: true\n      - key: disabled\n'));
    await waitFor(() => !!document.querySelector('[data-testid="dashboard-panel"]'), null, 5000);
    const ms = Date.now() - t0;
    console.log(`# commit → page changed in ${ms} ms`);
    await shot('flag-enabled');
    assert.ok(ms <= 2000, `took ${ms} ms`);
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
  });

  it('an invalid commit shows the error in the status component while flags keep their values', async () => {
    const before = await seen();
    const flagsBefore = await page.$eval('[data-testid="flags-table"] tbody', (b) => b.textContent);
    await commit('Broken: a rule on a segment that does not exist', (t) =>
      editFlag(t, 'newHomeUI', '      - segment: premium-users\n', '      - segment: no-such-segment\n'));
    await waitFor(() => document.querySelector('[data-testid="git-sync-status"]')?.getAttribute('data-status') === 'error', null, 5000);
    assert.equal(await text('sync-indicator'), 'Error');
    await shot('invalid-commit');
    // The error names the 40-character commit: it must still fit a phone.
    await layoutCheck('invalid-commit', 375, 'light');
    await layoutCheck('invalid-commit', 375, 'dark');
    const error = await text('sync-error');
    assert.ok(error && error.length > 0, 'error message shown');
    const lines = await page.$$eval('[data-testid="sync-validation-errors"] li', (lis) => lis.map((l) => l.textContent.trim()));
    console.log(`# error: ${error}; validation: ${JSON.stringify(lines)}`);
    if (lines.length) assert.match(lines.join('\n'), /features\.yml:\d+(:\d+)?/);
    await sleep(1500); // another poll or two: still the last good flags
    assert.deepEqual(await seen(), before);
    assert.equal(await page.$eval('[data-testid="flags-table"] tbody', (b) => b.textContent), flagsBefore);
    assert.equal(await page.evaluate(() => window.__noReload), true);

    // A fix brings the status back.
    await commit('Fix the segment', (t) => editFlag(t, 'newHomeUI', '      - segment: no-such-segment\n', '      - segment: premium-users\n'));
    await waitFor(() => document.querySelector('[data-testid="git-sync-status"]')?.getAttribute('data-status') === 'success', null, 5000);
    assert.equal(await text('sync-indicator'), 'Success');
  });

  it('logged no errors in the browser console', () => {
    assert.deepEqual(consoleErrors.filter((e) => !/favicon/.test(e)), []);
  });
});
