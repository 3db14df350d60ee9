// The dashboard's pure functions, imported straight from its ES modules (no browser needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';

const dash = (file) => new URL(`../../crates/switchyard-server/dashboard/assets/${file}`, import.meta.url).href;
const { relativeTime, formatValidationError, formatDuration, shortSha, authorName } = await import(dash('dom.js'));
const { segmentExpr, ruleSummary, rolloutSummary, constraintSummary, matchesQuery } = await import(dash('flags.js'));
const { parseBlock } = await import(dash('events.js'));
const { discoveryLine } = await import(dash('status.js'));

test('relative times read naturally in both directions', () => {
  const now = 1_000_000_000;
  assert.equal(relativeTime(now - 400, now), 'just now');
  assert.equal(relativeTime(now - 12_000, now), '12 s ago');
  assert.equal(relativeTime(now + 3_000, now), 'in 3 s');
  assert.equal(relativeTime(now - 125_000, now), '2 min 5 s ago');
  assert.equal(relativeTime(now - 120_000, now), '2 min ago');
  assert.equal(relativeTime(now - 2 * 3600_000 - 60_000, now), '2 h 1 min ago');
  assert.equal(relativeTime(now - 3 * 86400_000, now), '3 d ago');
});

test('validation errors print as file:line:column: path: message', () => {
  assert.equal(formatValidationError({ file: 'flipt/features.yml', line: 26, column: 18, path: 'flags[1].rules[0].segment', message: 'unknown segment "x"' }),
    'flipt/features.yml:26:18: flags[1].rules[0].segment: unknown segment "x"');
  assert.equal(formatValidationError({ file: 'a.yml', line: 1, column: 1, path: '', message: 'bad' }), 'a.yml:1:1: bad');
});

test('small formatters', () => {
  assert.equal(formatDuration(42), '42 ms');
  assert.equal(formatDuration(1234), '1.23 s');
  assert.equal(shortSha('0123456789abcdef'), '0123456');
  assert.equal(authorName('Ada Lovelace <ada@example.com>'), 'Ada Lovelace');
});

test('rules, rollouts and constraints are summarised in one line', () => {
  assert.equal(segmentExpr('premium-users'), 'premium-users');
  assert.equal(segmentExpr({ keys: ['a', 'b'], operator: 'AND_SEGMENT_OPERATOR' }), 'a AND b');
  assert.equal(segmentExpr({ keys: ['a', 'b'], operator: 'OR_SEGMENT_OPERATOR' }), 'a OR b');
  assert.equal(ruleSummary({ segment: 'premium-users', distributions: [{ variant: 'enabled', rollout: 25 }, { variant: 'disabled', rollout: 75 }] }),
    'premium-users → enabled 25%, disabled 75%');
  assert.equal(ruleSummary({ segment: 'beta', distributions: [] }), 'beta → match only (no variant)');
  assert.equal(rolloutSummary({ threshold: { percentage: 50, value: true } }), '50% of entities → true');
  assert.equal(rolloutSummary({ segment: { key: 'beta', value: false } }), 'segment beta → false');
  assert.equal(constraintSummary({ property: 'plan', operator: 'eq', value: 'premium' }), 'plan eq "premium"');
  assert.equal(constraintSummary({ property: 'betaTester', operator: 'true' }), 'betaTester true');
});

test('search matches key or name, case-insensitively', () => {
  const flag = { key: 'newPaymentFlow', name: 'New Payment Flow' };
  assert.ok(matchesQuery(flag, 'payment'));
  assert.ok(matchesQuery(flag, 'NEW PAYMENT'));
  assert.ok(matchesQuery(flag, ''));
  assert.ok(!matchesQuery(flag, 'checkout'));
});

test('server-sent event blocks are parsed as the browser does', () => {
  assert.deepEqual(parseBlock('event: status\ndata: {"a":1}'), { event: 'status', data: '{"a":1}' });
  assert.deepEqual(parseBlock('data: one\ndata: two'), { event: 'message', data: 'one\ntwo' });
  assert.deepEqual(parseBlock('event: change\r\ndata:{"b":2}'), { event: 'change', data: '{"b":2}' });
  assert.equal(parseBlock(': keep-alive'), null);
});

const { foldHistory, impactSentences } = await import(dash('history.js'));

test('history: the impact of a commit in sentences, from the diff API', () => {
  const impact = {
    flags: [
      { namespace: 'default', key: 'checkout', changedSegments: [], shares: [{ population: 'everyone', segments: [], moves: [{ from: { variant: 'old' }, to: { variant: 'new' }, percent: '25%' }] }] },
      { namespace: 'team', key: 'dark', changedSegments: ['pro'], shares: [
        { population: 'segments', segments: ['pro'], moves: [{ from: { enabled: false }, to: { enabled: true }, percent: '20%' }] },
        { population: 'noSegment', segments: [], moves: [{ from: null, to: { variant: null }, percent: '100%' }] },
      ] },
    ],
  };
  assert.deepEqual(impactSentences(impact), [
    'checkout: this commit moved 25% of all entities from old to new',
    'team/dark: this commit moved 20% of entities in segment pro from off to on',
    'team/dark: this commit moved 100% of entities in none of its segments from not found to no variant',
    'team/dark: segment pro changed; entities may move between segments',
  ]);
  assert.deepEqual(impactSentences({ flags: [] }), []);
});

test('history: unchanged polls fold into the row they follow; a rejected commit stays on top', () => {
  const entries = [
    { time: 't1', commit: 'a', outcome: 'applied', diff: ['x'], repeats: 0 },
    { time: 't2', commit: 'a', outcome: 'unchanged', repeats: 4, lastTime: 't6' },
    { time: 't7', commit: 'b', outcome: 'rejected', errors: [{ file: 'f.yml', line: 1, column: 1, message: 'bad' }], repeats: 0 },
    { time: 't8', commit: 'b', outcome: 'unchanged', repeats: 2, lastTime: 't10' },
  ];
  const rows = foldHistory(entries);
  assert.deepEqual(rows.map((r) => [r.outcome, r.commit, r.laterPolls, r.lastPoll]), [
    ['rejected', 'b', 3, 't10'],
    ['applied', 'a', 5, 't6'],
  ]);
  assert.equal(rows.some((r) => r.outcome === 'unchanged'), false);
});

test('history: repeated identical failures are counted in one row', () => {
  const fail = (time, error) => ({ time, commit: null, outcome: 'failed', class: 'network', error, repeats: 0 });
  const rows = foldHistory([fail('t1', 'refused'), fail('t2', 'refused'), fail('t3', 'refused'), fail('t4', 'timeout')]);
  assert.deepEqual(rows.map((r) => [r.error, r.attempts, r.lastAttempt ?? null]), [['timeout', 1, null], ['refused', 3, 't3']]);
});

test('history: an unchanged poll with nothing before it is shown as rejected when its commit is', () => {
  const entries = [{ time: 't1', commit: 'c', outcome: 'unchanged', repeats: 9, lastTime: 't10' }];
  assert.equal(foldHistory(entries)[0].outcome, 'unchanged');
  const [row] = foldHistory(entries, { rejectedSha: 'c' });
  assert.equal(row.outcome, 'rejected');
  assert.equal(row.stillRejected, true);
  assert.equal(row.laterPolls, 9);
});

test('the flag files line names the rule set and its root file', () => {
  assert.equal(discoveryLine({ rules: 'flipt-v2', rootFile: null, files: ['a/features.yaml', 'b/features.json'] }),
    "2 files by Flipt v2's rule");
  assert.equal(discoveryLine({ rules: 'flipt-v1', rootFile: '.flipt.yml', files: ['features.yml'] }),
    "1 file by Flipt v1's rule (.flipt.yml read)");
  assert.equal(discoveryLine(undefined), "0 files by unknown's rule");
});
