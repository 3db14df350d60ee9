// The embedded dashboard in a real browser (Debian's Chromium through playwright-core) against a
// real switchyard that follows a real git repository with a 1 s poll. The tests run in order and
// share one server, one repository and one page; each saves a screenshot under artifacts/.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ARTIFACTS, contrastFailures, freePort, getJson, git, launchBrowser, postJson, sleep, startServer, stopServer, until,
} from './lib.mjs';
import { serverArgs, setupRepo } from './server.mjs';

const ctx = { errors: [], eventsRequests: 0 };

/** Collects the page's Content-Security-Policy violations in window.__cspViolations. */
async function watchCsp(page) {
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
}

/** Counts the page's requests of the sync event stream into counter.eventsRequests. */
function countEventsRequests(page, counter) {
  page.on('request', (r) => { if (new URL(r.url()).pathname.endsWith('/api/v1/sync/events')) counter.eventsRequests += 1; });
}

/** How many requests of the event stream the page makes within ms (a measurement window). */
async function eventsRequestsDuring(counter, ms) {
  const before = counter.eventsRequests;
  await sleep(ms);
  return counter.eventsRequests - before;
}

// A boolean flag added by the second commit (the seed has only variant flags).
const DARK_MODE = `  - key: darkMode
    name: Dark mode
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment:
          key: beta-testers
          value: true
      - threshold:
          percentage: 50
          value: true
`;

/** Saves the viewport (or the whole page) as artifacts/<name>.png. */
async function shot(name, { fullPage = false, top = true } = {}) {
  if (top) await ctx.page.evaluate(() => window.scrollTo(0, 0));
  await ctx.page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

const card = () => ctx.page.locator('[data-testid="status-card"]').first();
const badgeState = () => card().locator('[data-testid="sync-badge"]').getAttribute('data-state');
const servingSha = () => card().locator('[data-testid="serving-sha"]').textContent();

/** Commits the repository's features file after edit(text) -> text; returns the new sha. */
function commitFeatures(edit, message) {
  const file = join(ctx.repo, ctx.featuresPath);
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  git(ctx.repo, 'commit', '-qam', message);
  return git(ctx.repo, 'rev-parse', 'HEAD');
}

/** Evaluates in the page's console (default: the shared page and environment); what it shows. */
async function consoleEvaluate({ flag, entity, context }, page = ctx.page, env = ctx.env) {
  await page.selectOption('[data-testid="eval-env"]', env);
  await page.selectOption('[data-testid="eval-ns"]', 'default');
  await until(() => page.locator(`[data-testid="eval-flag"] option[value="${flag}"]`).count(), 3000, `flag ${flag} in the console`);
  await page.selectOption('[data-testid="eval-flag"]', flag);
  await page.fill('[data-testid="eval-entity"]', entity);
  const rows = page.locator('[data-testid="context-row"]');
  while (await rows.count() > 0) await rows.first().locator('button').click();
  for (const [k, v] of Object.entries(context)) {
    await page.click('#add-context');
    const row = rows.last();
    await row.locator('.ctx-key').fill(k);
    await row.locator('.ctx-value').fill(v);
  }
  const answered = page.waitForResponse((r) => r.url().includes('/evaluate/v1/'));
  await page.click('[data-testid="eval-submit"]');
  const response = await answered;
  await page.locator('[data-testid="eval-output"]').waitFor();
  return {
    path: new URL(response.url()).pathname,
    value: (await page.textContent('[data-testid="eval-value"]')).trim(),
    reason: (await page.textContent('[data-testid="eval-reason"]')).trim(),
    segments: (await page.textContent('[data-testid="eval-segments"]')).trim(),
  };
}

describe('dashboard', () => {
  before(async () => {
    ctx.port = await freePort();
    ctx.base = `http://127.0.0.1:${ctx.port}/`;
    Object.assign(ctx, setupRepo());
    ctx.args = serverArgs(ctx);
    ctx.server = await startServer(ctx.args, ctx.base);
    ctx.env = (await getJson(ctx.base, 'api/v2/environments')).body.environments.find((e) => e.default)?.key ?? 'default';
    ctx.browser = await launchBrowser();
    ctx.page = await ctx.browser.newPage({ viewport: { width: 1280, height: 900 } });
    ctx.page.on('pageerror', (e) => ctx.errors.push(String(e)));
    ctx.page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED|EventSource/.test(m.text())) ctx.errors.push(m.text()); });
    await watchCsp(ctx.page);
    countEventsRequests(ctx.page, ctx);
    ctx.pageResponse = ctx.page.waitForResponse((r) => r.url() === ctx.base);
    await ctx.page.goto(ctx.base);
    await ctx.page.locator('body[data-loaded="true"]').waitFor({ timeout: 10000 });
  });

  after(async () => {
    await ctx.browser?.close();
    await stopServer(ctx.server);
    if (process.exitCode && ctx.server) console.error(`--- switchyard output ---\n${ctx.server.log.slice(-4000)}`);
  });

  test('shows Success with the serving commit', async () => {
    const head = git(ctx.repo, 'rev-parse', 'HEAD');
    await until(async () => (await badgeState()) === 'success' && (await servingSha()) === head.slice(0, 7), 5000, 'Success with HEAD');
    const text = await card().textContent();
    assert.match(text, /Success/);
    assert.match(text, /Repository/);
    assert.match(text, /Poll interval/);
    const message = git(ctx.repo, 'log', '-1', '--format=%s');
    assert.equal((await card().locator('[data-testid="serving-message"]').textContent()).trim(), message);
    // The relative "last sync" keeps ticking.
    const rel = card().locator('time.rel').first();
    const t1 = await rel.textContent();
    await sleep(1100);
    const t2 = await rel.textContent();
    assert.ok(t1 !== t2 || (await badgeState()) === 'success', `relative time ticks (${t1} -> ${t2})`);
    await shot('01-success');
  });

  test('the dashboard is served with a strict CSP, nosniff, no framing and no referrer', async () => {
    for (const response of [await ctx.pageResponse, await fetch(new URL('assets/app.js', ctx.base))]) {
      const get = (name) => (typeof response.headerValue === 'function' ? response.headers()[name] : response.headers.get(name));
      const csp = get('content-security-policy') ?? '';
      for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) {
        assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
      }
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(get('x-content-type-options'), 'nosniff');
      assert.equal(get('x-frame-options'), 'DENY');
      assert.equal(get('referrer-policy'), 'no-referrer');
    }
    // Chromium enforces it: another page cannot frame the dashboard.
    const framer = await ctx.browser.newPage();
    const refusals = [];
    framer.on('console', (m) => { if (/frame-ancestors|X-Frame-Options/.test(m.text())) refusals.push(m.text()); });
    await framer.setContent(`<iframe src="${ctx.base}" width="400" height="300"></iframe>`);
    await until(() => refusals.length > 0, 5000, 'Chromium refusing to frame the dashboard');
    const framed = framer.frames().slice(1);
    for (const frame of framed) {
      const loaded = await frame.evaluate(() => document.body?.dataset.loaded ?? null).catch(() => null);
      assert.notEqual(loaded, 'true', `the framed dashboard did not run (frame at ${frame.url()})`);
    }
    await framer.close();
    // The page works under that policy (it loaded, above) and broke none of it.
    assert.deepEqual(await ctx.page.evaluate(() => window.__cspViolations), []);
  });

  test('a committed change appears with its diff without reload within 2 s', async () => {
    const page = ctx.page;
    await page.evaluate(() => { window.__noReload = 'still-here'; });
    const started = Date.now();
    const sha = commitFeatures((t) => t.replace('rollout: 25', 'rollout: 50').replace('rollout: 75', 'rollout: 50')
      .replace('\nsegments:\n', `\n${DARK_MODE}segments:\n`), 'Roll newPaymentFlow out to 50%, add darkMode');
    await page.waitForFunction((short) => {
      const entry = document.querySelector('[data-testid="history-entry"]');
      const serving = document.querySelector('[data-testid="serving-sha"]');
      return entry && entry.dataset.outcome === 'applied' && entry.textContent.includes(short)
        && /newPaymentFlow/.test(entry.textContent) && serving?.textContent === short;
    }, sha.slice(0, 7), { timeout: 2000, polling: 50 });
    const elapsed = Date.now() - started;
    assert.equal(await page.evaluate(() => window.__noReload), 'still-here', 'the page did not reload');
    const diff = await page.locator('[data-testid="history-entry"]').first().locator('[data-testid="diff"]').textContent();
    assert.match(diff, /newPaymentFlow/);
    assert.match(diff, /25% -> 50%/);
    assert.match(diff, /darkMode/);
    // The entry says who the commit moved (the diff API between it and the commit before).
    const impact = page.locator('[data-testid="history-entry"]').first().locator('[data-testid="impact"]');
    await until(async () => /newPaymentFlow: this commit moved 25% of entities in segment premium-users from disabled to enabled/
      .test(await impact.textContent().catch(() => '')), 5000, 'the impact of the commit');
    const moved = await impact.textContent();
    assert.match(moved, /darkMode: this commit moved 100% of entities in segment beta-testers from not found to on/);
    assert.match(moved, /darkMode: this commit moved 50% of entities in none of its segments from not found to on/);
    const api = await getJson(ctx.base, `api/v1/environments/${ctx.env}/diff?from=${git(ctx.repo, 'rev-parse', 'HEAD~1')}&to=${sha}`);
    assert.equal(api.status, 200);
    assert.equal(api.body.changesEntities, true);
    // The flags browser followed too.
    await page.waitForFunction(() => /enabled 50%, disabled 50%/.test(document.querySelector('[data-testid="flag-card"][data-key="newPaymentFlow"]')?.textContent ?? ''), null, { timeout: 2000 });
    console.log(`# change visible after ${elapsed} ms`);
    await shot('02-change-live');
    await shot('02-change-live-full-page', { fullPage: true });
  });

  test('an invalid commit turns the panel red with file and line while flags still evaluate', async () => {
    const page = ctx.page;
    const good = git(ctx.repo, 'rev-parse', 'HEAD');
    const bad = commitFeatures((t) => t.replace('segment: beta-testers', 'segment: beta-testerz'), 'Break newDashboard');
    await until(async () => (await badgeState()) === 'error', 4000, 'the Error state');
    const errorText = await card().locator('[data-testid="sync-error"]').textContent();
    assert.match(errorText, /features\.ya?ml:\d+:\d+/, 'file:line:column shown');
    assert.match(errorText, /beta-testerz/);
    assert.match(errorText, new RegExp(bad.slice(0, 7)), 'the rejected commit is named');
    const still = await card().locator('[data-testid="still-serving"]').textContent();
    assert.match(still, new RegExp(`Still serving ${good.slice(0, 7)}`));
    // Screen readers hear it too (aria-live region).
    await until(async () => new RegExp(`Error, still serving ${good.slice(0, 7)}`).test(await page.textContent('#announcer')), 2000, 'the aria-live announcement');
    assert.equal(await page.title(), 'Error · Switchyard');
    // Flags still evaluate, in the page's console and directly.
    const shown = await consoleEvaluate({ flag: 'newDashboard', entity: 'user-1', context: { betaTester: 'true' } });
    assert.equal(shown.value, 'enabled');
    const direct = await postJson(ctx.base, 'evaluate/v1/variant', { environmentKey: ctx.env, namespaceKey: 'default', flagKey: 'newDashboard', entityId: 'user-1', context: { betaTester: 'true' } });
    assert.equal(direct.status, 200);
    assert.equal(direct.body.variantKey, 'enabled');
    const history = await page.locator('[data-testid="history-entry"]').first();
    assert.equal(await history.getAttribute('data-outcome'), 'rejected');
    // The next polls find the same rejected commit: they are folded into its row, which stays on top.
    await until(async () => Number(await history.locator('[data-testid="later-polls"]').getAttribute('data-count').catch(() => 0)) >= 2,
      8000, 'two later polls folded into the rejected row');
    assert.equal(await history.getAttribute('data-outcome'), 'rejected', 'the rejected row is still the newest');
    assert.match(await history.locator('[data-testid="later-polls"]').textContent(), /later polls: still this commit/);
    assert.equal(await page.locator('[data-testid="history-entry"][data-outcome="unchanged"]').count(), 0, 'no "No new commit" rows');
    const api = (await getJson(ctx.base, `api/v1/sync/history?environment=${ctx.env}`)).body.entries;
    assert.ok(api.some((e) => e.outcome === 'unchanged'), 'the API does record unchanged polls');
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      assert.deepEqual(await contrastFailures(page), [], `WCAG AA contrast in the ${scheme} theme, error state`);
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('03-invalid-commit-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await shot('03-invalid-commit');
  });

  test('Sync now works (keyboard) and the fixed commit is served', async () => {
    const page = ctx.page;
    const fixed = commitFeatures((t) => t.replace('segment: beta-testerz', 'segment: beta-testers'), 'Fix newDashboard');
    const button = card().locator('[data-testid="sync-now"]');
    await button.focus();
    const posted = page.waitForResponse((r) => r.url().includes('/api/v1/sync') && r.request().method() === 'POST');
    await page.keyboard.press('Enter');
    const res = await posted;
    assert.equal(res.status(), 202);
    await until(async () => /Sync requested/.test(await card().locator('[data-testid="sync-message"]').textContent()), 2000, 'the Sync requested message');
    await until(async () => (await badgeState()) === 'success' && (await servingSha()) === fixed.slice(0, 7), 4000, 'Success with the fixed commit');
    const history = await getJson(ctx.base, `api/v1/sync/history?environment=${ctx.env}`);
    assert.ok(history.body.entries.some((e) => e.commit === fixed && e.outcome === 'applied'));
    await page.waitForFunction((short) => [...document.querySelectorAll('[data-testid="history-entry"][data-outcome="applied"]')]
      .some((e) => e.textContent.includes(short)), fixed.slice(0, 7), { timeout: 2000 });
    await shot('04-sync-now');
  });

  test('a served commit with warnings lists them on the card', async () => {
    const noDefault = (t) => t.replace('      - key: disabled\n        default: true\n    rules:\n      - segment: premium-users',
      '      - key: disabled\n    rules:\n      - segment: premium-users');
    const sha = commitFeatures(noDefault, 'newHomeUI without a default variant');
    await until(async () => (await servingSha()) === sha.slice(0, 7), 4000, 'the commit served');
    await until(async () => (await card().locator('[data-testid="sync-warnings"]').count()) === 1, 2000, 'the warnings block');
    const text = await card().locator('[data-testid="sync-warnings"]').textContent();
    assert.match(text, /Served with 1 warning:/);
    assert.match(text, /features\.ya?ml:\d+:\d+: flags\[0\]: flag default\/newHomeUI has rules but no default variant/);
    assert.equal(await badgeState(), 'success');
    for (const scheme of ['light', 'dark']) {
      await ctx.page.emulateMedia({ colorScheme: scheme });
      assert.deepEqual(await contrastFailures(ctx.page), [], `WCAG AA contrast in the ${scheme} theme, warnings shown`);
    }
    await ctx.page.emulateMedia({ colorScheme: 'light' });
    await shot('04b-warnings');
    // Restored: the block goes away.
    const restored = commitFeatures((t) => t.replace('      - key: disabled\n    rules:\n      - segment: premium-users',
      '      - key: disabled\n        default: true\n    rules:\n      - segment: premium-users'), 'newHomeUI default again');
    await until(async () => (await servingSha()) === restored.slice(0, 7), 4000, 'the restored commit served');
    await until(async () => (await card().locator('[data-testid="sync-warnings"]').count()) === 0, 2000, 'no warnings block');
    // A commit refused only by Switchyard's extra checks (two default variants) says how to serve it.
    commitFeatures((t) => t.replace('      - key: enabled\n      - key: disabled\n        default: true\n    rules:\n      - segment: premium-users',
      '      - key: enabled\n        default: true\n      - key: disabled\n        default: true\n    rules:\n      - segment: premium-users'), 'two defaults');
    await until(async () => (await badgeState()) === 'error', 4000, 'the Error state');
    const hint = await card().locator('[data-testid="extra-checks-hint"]').textContent();
    assert.match(hint, /1 of these come from Switchyard's checks beyond Flipt's/);
    assert.match(hint, /validation: \{extra_checks: warn\}/);
    const back = commitFeatures((t) => t.replace('      - key: enabled\n        default: true\n      - key: disabled', '      - key: enabled\n      - key: disabled'), 'one default again');
    await until(async () => (await badgeState()) === 'success' && (await servingSha()) === back.slice(0, 7), 4000, 'Success again');
  });

  test('the console gives the same answer as the API', async () => {
    const cases = [
      { flag: 'checkoutExperiment', entity: 'user-42', context: { plan: 'enterprise' } },
      { flag: 'newPaymentFlow', entity: 'user-7', context: { plan: 'premium' } },
      { flag: 'newHomeUI', entity: 'user-9', context: { plan: 'free' } },
    ];
    for (const c of cases) {
      const shown = await consoleEvaluate(c);
      assert.equal(shown.path, '/evaluate/v1/variant');
      const direct = await postJson(ctx.base, 'evaluate/v1/variant', { environmentKey: ctx.env, namespaceKey: 'default', flagKey: c.flag, entityId: c.entity, context: c.context });
      assert.equal(direct.status, 200);
      assert.equal(shown.value, direct.body.variantKey || '(no variant)', `${c.flag} variant`);
      assert.equal(shown.reason, direct.body.reason, `${c.flag} reason`);
      assert.equal(shown.segments, direct.body.segmentKeys?.length ? direct.body.segmentKeys.join(', ') : 'none', `${c.flag} segments`);
    }
    const booleans = [
      { flag: 'darkMode', entity: 'user-3', context: { betaTester: 'true' } },
      { flag: 'darkMode', entity: 'user-4', context: {} },
    ];
    for (const c of booleans) {
      const shown = await consoleEvaluate(c);
      assert.equal(shown.path, '/evaluate/v1/boolean');
      const direct = await postJson(ctx.base, 'evaluate/v1/boolean', { environmentKey: ctx.env, namespaceKey: 'default', flagKey: c.flag, entityId: c.entity, context: c.context });
      assert.equal(direct.status, 200);
      assert.equal(shown.value, String(direct.body.enabled), `${c.flag} enabled for ${c.entity}`);
      assert.equal(shown.reason, direct.body.reason, `${c.flag} reason`);
      assert.equal(shown.segments, direct.body.segmentKeys?.length ? direct.body.segmentKeys.join(', ') : 'none', `${c.flag} segments`);
    }
    await ctx.page.locator('#eval-result').scrollIntoViewIfNeeded();
    await shot('05-console', { top: false });
  });

  test('flags browser search filters by key and name', async () => {
    const page = ctx.page;
    await page.fill('[data-testid="flag-search"]', 'payment');
    const keys = await page.locator('[data-testid="flag-card"]').evaluateAll((els) => els.map((e) => e.dataset.key));
    assert.deepEqual(keys, ['newPaymentFlow']);
    await page.fill('[data-testid="flag-search"]', 'Checkout Exp');
    assert.deepEqual(await page.locator('[data-testid="flag-card"]').evaluateAll((els) => els.map((e) => e.dataset.key)), ['checkoutExperiment']);
    await page.fill('[data-testid="flag-search"]', '');
    assert.ok(await page.locator('[data-testid="flag-card"]').count() >= 4);
  });

  test('shows "Server unreachable" while down and recovers after a restart', async () => {
    const page = ctx.page;
    await stopServer(ctx.server);
    await page.locator('[data-testid="offline-banner"]').waitFor({ state: 'visible', timeout: 5000 });
    assert.match(await page.textContent('[data-testid="offline-banner"]'), /Server unreachable — retrying/);
    assert.ok(await card().locator('[data-testid="stale-note"]').isVisible(), 'the card says it shows the last known state');
    assert.ok(await card().locator('[data-testid="sync-now"]').isDisabled(), 'Sync now is disabled while down');
    await shot('06-unreachable');
    // A commit made while the server is down shows up after the restart, without a reload.
    const sha = commitFeatures((t) => t.replace('name: New Home UI', 'name: New Home UI (v2)'), 'Rename newHomeUI');
    ctx.server = await startServer(ctx.args, ctx.base);
    await page.locator('[data-testid="offline-banner"]').waitFor({ state: 'hidden', timeout: 8000 });
    await until(async () => (await badgeState()) === 'success' && (await servingSha()) === sha.slice(0, 7), 8000, 'the new commit after the restart');
    assert.equal(await page.evaluate(() => window.__noReload), 'still-here', 'the page did not reload');
    await until(async () => (await page.textContent('#connection')).includes('Live'), 8000, 'the live stream again');
    // No retry timer left from the outage restarts the healthy stream.
    assert.equal(await eventsRequestsDuring(ctx, 4500), 0, 'the reconnected stream stays open');
    await shot('07-reconnected');
  });

  test('phone width (375 px) in the dark theme has no horizontal scroll', async () => {
    const phone = await ctx.browser.newPage({ viewport: { width: 375, height: 812 }, colorScheme: 'dark' });
    phone.on('pageerror', (e) => ctx.errors.push(String(e)));
    await phone.goto(ctx.base);
    await phone.locator('body[data-loaded="true"]').waitFor({ timeout: 10000 });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal overflow (${overflow}px)`);
    assert.equal(await phone.getAttribute('#theme-toggle', 'aria-pressed'), 'true');
    assert.deepEqual(await contrastFailures(phone), [], 'WCAG AA contrast, dark theme');
    await phone.screenshot({ path: join(ARTIFACTS, '08-phone-dark.png') });
    await phone.screenshot({ path: join(ARTIFACTS, '08-phone-dark-full-page.png'), fullPage: true });
    // The toggle switches to light and back.
    await phone.click('#theme-toggle');
    assert.equal(await phone.getAttribute('html', 'data-theme'), 'light');
    assert.deepEqual(await contrastFailures(phone), [], 'WCAG AA contrast, light theme by the toggle');
    await phone.screenshot({ path: join(ARTIFACTS, '09-phone-light.png') });
    await phone.close();
  });

  test('the four indicators: Success, Syncing, Error and Idle', async () => {
    // The real server's status, reshaped into four environments (Syncing and Idle last too short
    // or only before the first sync to catch them live). The event stream is held back so these
    // stay on screen.
    const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (e) => ctx.errors.push(String(e)));
    const real = (await getJson(ctx.base, 'api/v1/sync/statuses')).body.statuses[0];
    const rejected = { sha: 'f00dfeed'.repeat(5), author: 'Eve <eve@example.com>', message: 'Break a rule', time: real.lastSyncTime };
    const statuses = [
      { ...real, environment: 'production', syncStatus: 'success' },
      { ...real, environment: 'staging', syncStatus: 'syncing' },
      { ...real, environment: 'canary', syncStatus: 'error', errorClass: 'validation', errorMessage: 'rejected', remoteCommit: rejected,
        validationErrors: [{ file: 'flipt/features.yml', line: 12, column: 5, path: 'flags[0].name', message: 'the flag is missing required field `name`' }] },
      { ...real, environment: 'dev', syncStatus: 'idle', servingCommit: null, lastSyncTime: null, flags: 0 },
    ];
    const envs = statuses.map((st, i) => ({ key: st.environment, name: st.environment, default: i === 0, configuration: {} }));
    await page.route('**/api/v1/sync/statuses', (r) => r.fulfill({ json: { statuses } }));
    await page.route('**/api/v2/environments', (r) => r.fulfill({ json: { environments: envs } }));
    await page.route('**/api/v1/sync/events', (r) => r.abort());
    await page.route(/\/api\/v1\/environments\/(production|staging|canary|dev)\//, (r) => r.continue({ url: r.request().url().replace(/environments\/\w+\//, `environments/${ctx.env}/`) }));
    await page.route(/\/api\/v1\/sync\/history/, (r) => r.continue({ url: `${ctx.base}api/v1/sync/history?environment=${ctx.env}` }));
    await page.goto(ctx.base);
    await page.locator('body[data-loaded="true"]').waitFor({ timeout: 10000 });
    const shown = await page.locator('[data-testid="sync-badge"]').evaluateAll((els) => els.map((e) => e.textContent.trim()));
    assert.deepEqual(shown, ['Success', 'Syncing', 'Error', 'Idle']);
    assert.match(await page.textContent('[data-env="canary"] [data-testid="validation-errors"]'), /flipt\/features\.yml:12:5: flags\[0\]\.name/);
    assert.deepEqual(await contrastFailures(page), [], 'WCAG AA contrast of the four indicators');
    await page.screenshot({ path: join(ARTIFACTS, '12-indicators.png') });
    await page.close();
  });

  test('no script errors and no CSP violations on the page', async () => {
    assert.deepEqual(ctx.errors, []);
    assert.deepEqual(await ctx.page.evaluate(() => window.__cspViolations), []);
  });
});

describe('dashboard with authentication on and two environments', () => {
  const TOKEN = 's3cret-admin-token';
  const auth = { errors: [], eventsRequests: 0 };

  before(async () => {
    auth.port = await freePort();
    auth.base = `http://127.0.0.1:${auth.port}/`;
    Object.assign(auth, setupRepo({ twoEnvironments: true }));
    // A 30 s poll: a change that shows up within seconds was fetched by Sync now.
    auth.server = await startServer(serverArgs(auth, { poll: '30s', token: TOKEN }), auth.base);
    auth.browser = await launchBrowser();
    auth.page = await auth.browser.newPage({ viewport: { width: 1000, height: 760 } });
    auth.page.on('pageerror', (e) => auth.errors.push(String(e)));
    await watchCsp(auth.page);
    countEventsRequests(auth.page, auth);
  });

  after(async () => {
    await auth.browser?.close();
    await stopServer(auth.server);
  });

  test('asks for a token, refuses a wrong one, then streams live with the right one', async () => {
    const page = auth.page;
    await page.goto(auth.base);
    await page.locator('#token-dialog[open]').waitFor({ timeout: 5000 });
    assert.match(await page.textContent('#token-reason'), /needs a token/);
    await page.screenshot({ path: join(ARTIFACTS, '10-token-dialog.png') });
    // Without a token the refused stream is not retried (it was retried every 2 s forever).
    await until(() => auth.eventsRequests >= 1, 5000, 'the first request of the event stream');
    assert.equal(await eventsRequestsDuring(auth, 5000), 0, 'no retry of a 401 stream while no token is given');
    assert.match(await page.textContent('#connection'), /Token needed/);
    await page.fill('#token-input', 'wrong-token');
    await page.keyboard.press('Enter');
    await until(async () => /refused/.test(await page.textContent('#token-reason')) && await page.locator('#token-dialog[open]').count(), 5000, 'the refused-token prompt');
    await page.fill('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('body[data-loaded="true"]').waitFor({ timeout: 5000 });
    await until(async () => (await page.textContent('#connection')).includes('Live'), 5000, 'the live event stream');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('switchyard.token')), TOKEN);
    assert.equal(await eventsRequestsDuring(auth, 3000), 0, 'the authorised stream stays open');
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  });

  test('Sync now fetches a new commit at once (30 s poll) and it arrives through the stream', async () => {
    const page = auth.page;
    await page.evaluate(() => { window.__noReload = 'still-here'; });
    const file = join(auth.repo, auth.featuresPath);
    writeFileSync(file, readFileSync(file, 'utf8').replace('rollout: 25', 'rollout: 40').replace('rollout: 75', 'rollout: 60'));
    git(auth.repo, 'commit', '-qam', 'Roll newPaymentFlow out to 40%');
    const sha = git(auth.repo, 'rev-parse', 'HEAD');
    const started = Date.now();
    const posted = page.waitForResponse((r) => r.url().includes('/api/v1/sync') && r.request().method() === 'POST');
    await page.locator('[data-env="production"] [data-testid="sync-now"]').click();
    assert.equal((await posted).status(), 202);
    await page.waitForFunction((short) => {
      const entry = document.querySelector('[data-testid="history-entry"]');
      return entry?.dataset.outcome === 'applied' && entry.textContent.includes(short) && /25% -> 40%/.test(entry.textContent)
        && document.querySelector('[data-env="production"] [data-testid="serving-sha"]')?.textContent === short;
    }, sha.slice(0, 7), { timeout: 3000, polling: 50 });
    console.log(`# Sync now -> change visible after ${Date.now() - started} ms`);
    assert.equal(await page.evaluate(() => window.__noReload), 'still-here');
    await page.screenshot({ path: join(ARTIFACTS, '11-auth-sync-now.png') });
  });

  test('a card per environment; the environment picker switches history, flags and console', async () => {
    const page = auth.page;
    const envs = await page.locator('[data-testid="status-card"]').evaluateAll((els) => els.map((e) => e.dataset.env));
    assert.deepEqual(envs.sort(), ['production', 'staging']);
    // A Flipt v2 configuration: Flipt v2's rule, and the one file it read in production/
    const discovery = page.locator('[data-env="production"] [data-testid="discovery"]');
    assert.equal(await discovery.getAttribute('data-rules'), 'flipt-v2');
    assert.match(await discovery.locator('summary').textContent(), /^1 file by Flipt v2's rule$/);
    assert.deepEqual(await page.locator('[data-env="production"] [data-testid="discovery-files"] li').allTextContents(), ['default/features.yml']);
    const flagText = () => page.textContent('[data-testid="flag-card"][data-key="newPaymentFlow"]');
    assert.match(await flagText(), /enabled 40%, disabled 60%/);
    await page.selectOption('[data-testid="env-select"]', 'staging');
    await until(async () => /enabled 60%, disabled 40%/.test(await flagText()), 3000, 'the staging flags');
    await until(async () => /History · staging/.test(await page.textContent('#history-heading')), 2000, 'the staging history');
    assert.equal(await page.inputValue('[data-testid="eval-env"]'), 'staging');
    const direct = await fetch(new URL('api/v1/sync/history?environment=staging', auth.base), { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
    const newest = direct.entries[direct.entries.length - 1];
    assert.equal(await page.locator('[data-testid="history-entry"]').first().getAttribute('data-outcome'), newest.outcome);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, '13-two-environments.png') });
    assert.deepEqual(auth.errors, []);
  });
});

describe('break-glass in the dashboard', () => {
  const TOKEN = 'break-glass-admin-token';
  const bg = { errors: [] };
  const act = (path, body, method = 'POST') => fetch(new URL(`api/v1/environments/default/${path}`, bg.base), {
    method, headers: { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));

  before(async () => {
    bg.port = await freePort();
    bg.base = `http://127.0.0.1:${bg.port}/`;
    Object.assign(bg, setupRepo());
    bg.first = git(bg.repo, 'rev-parse', 'HEAD');
    bg.server = await startServer(serverArgs(bg, { poll: '1s', token: TOKEN }), bg.base);
    bg.browser = await launchBrowser();
    bg.page = await bg.browser.newPage({ viewport: { width: 1000, height: 900 } });
    bg.page.on('pageerror', (e) => bg.errors.push(String(e)));
    await watchCsp(bg.page);
    await bg.page.addInitScript((t) => sessionStorage.setItem('switchyard.token', t), TOKEN);
  });

  after(async () => {
    await bg.browser?.close();
    await stopServer(bg.server);
  });

  test('pause, pin and an override show as a banner with who, why and expiry; history lists them', async () => {
    const page = bg.page;
    const file = join(bg.repo, bg.featuresPath);
    writeFileSync(file, readFileSync(file, 'utf8').replace('rollout: 25', 'rollout: 40').replace('rollout: 75', 'rollout: 60'));
    git(bg.repo, 'commit', '-qam', 'Roll newPaymentFlow out to 40%');
    const second = git(bg.repo, 'rev-parse', 'HEAD');
    await page.goto(bg.base);
    await page.locator('body[data-loaded="true"]').waitFor({ timeout: 5000 });
    await until(async () => (await page.textContent('[data-testid="serving-sha"]')) === second.slice(0, 7), 10000, 'the second commit served');
    assert.equal((await act('pause', { reason: 'freeze for the launch' })).status, 200);
    assert.equal((await act('pin', { commit: bg.first, reason: 'roll back to 25%' })).status, 200);
    const set = await act('overrides', { flag: 'newHomeUI', variant: 'enabled', reason: 'incident 42', duration: '30m' });
    assert.equal(set.status, 201, JSON.stringify(set.body));
    const banner = page.locator('[data-testid="break-glass"]');
    await banner.waitFor({ timeout: 5000 });
    await until(async () => (await page.locator('[data-testid="glass-drift"]').count()) === 1, 5000, 'the override in the banner');
    assert.match(await page.textContent('[data-testid="glass-paused"]'), /Paused by admin .*freeze for the launch/);
    assert.match(await page.textContent('[data-testid="glass-pinned"]'), new RegExp(`Pinned to ${bg.first.slice(0, 7)} by admin .*roll back to 25%`));
    const drift = await page.textContent('[data-testid="glass-drift"]');
    assert.match(drift, /newHomeUI variant "enabled" for everyone, by admin .*incident 42/);
    assert.match(drift, /Expires /);
    assert.equal(await page.textContent('[data-testid="serving-sha"]'), bg.first.slice(0, 7));
    // The history shows each action with its actor and reason.
    await until(async () => (await page.locator('[data-testid="glass-entry"]').count()) >= 3, 5000, 'the break-glass history entries');
    const entries = await page.locator('[data-testid="glass-entry"]').allTextContents();
    assert.match(entries[0], /Override set by admin: “incident 42”/);
    assert.match(entries[1], /Pinned by admin: “roll back to 25%”/);
    assert.match(entries[2], /Paused by admin: “freeze for the launch”/);
    // The console evaluates against the override.
    const shown = await consoleEvaluate({ flag: 'newHomeUI', entity: 'user-7', context: {} }, page, 'default');
    assert.equal(shown.value, 'enabled');
    assert.match(shown.reason, /DEFAULT/);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, '20-break-glass-banner.png') });
    assert.deepEqual(await contrastFailures(page), []);
  });

  test('Resume needs a reason, then serves the branch again; End override clears the drift', async () => {
    const page = bg.page;
    await page.click('[data-testid="resume"]');
    await until(async () => /a reason is required/.test(await page.textContent('[data-testid="glass-message"]') ?? ''), 5000, 'the refusal without a reason');
    const head = git(bg.repo, 'rev-parse', 'HEAD');
    await page.fill('[data-testid="glass-reason"]', 'launch done');
    await page.click('[data-testid="resume"]');
    await until(async () => (await page.textContent('[data-testid="serving-sha"]')) === head.slice(0, 7), 5000, 'the branch head served after Resume');
    await until(async () => (await page.locator('[data-testid="glass-paused"]').count()) === 0 && (await page.locator('[data-testid="resume"]').count()) === 0, 5000, 'no pause or pin left');
    assert.equal(await page.locator('[data-testid="glass-drift"]').count(), 1, 'the override stays until ended');
    await page.fill('[data-testid="glass-reason"]', 'fixed in Git');
    await page.click('[data-testid="end-override"]');
    await until(async () => (await page.locator('[data-testid="break-glass"]').count()) === 0, 5000, 'the banner gone');
    const status = await fetch(new URL('api/v1/sync/status', bg.base), { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
    assert.deepEqual(status.drift, []);
    assert.equal(status.paused, null);
    await until(async () => (await page.locator('[data-testid="glass-entry"]').count()) >= 5, 5000, 'resume and clear in the history');
    const entries = await page.locator('[data-testid="glass-entry"]').allTextContents();
    assert.match(entries[0], /Override ended by admin: “fixed in Git”/);
    assert.match(entries[1], /Resumed by admin: “launch done”/);
    await page.screenshot({ path: join(ARTIFACTS, '21-break-glass-resumed.png') });
    assert.deepEqual(bg.errors, []);
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  });
});
