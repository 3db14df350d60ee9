// The sync history of one environment, newest first. Polls that found nothing new are folded into
// the row they follow ("12 later polls found no new commit"), so the list shows what happened, and
// a rejected commit is never shown as "Unchanged".

import { formatDuration, formatValidationError, h, shortSha, timeField } from './dom.js';

const MAX_SHOWN = 50;
/** Applied rows, newest first, whose impact is asked for (each is one diff request). */
const MAX_IMPACTS = 10;
/** Impact answers kept, by `from..to` (commits never change, so neither do their answers). */
const impactCache = new Map();
const MAX_CACHED = 100;

const OUTCOMES = {
  applied: { label: 'Applied', cls: 'success' },
  unchanged: { label: 'No new commit', cls: 'idle' },
  rejected: { label: 'Rejected', cls: 'error' },
  failed: { label: 'Failed', cls: 'error' },
  held: { label: 'Held', cls: 'syncing' },
  break_glass: { label: 'Break-glass', cls: 'syncing' },
};

const GLASS_WORDS = {
  pause: 'Paused', resume: 'Resumed', pin: 'Pinned', override: 'Override set', clear: 'Override ended', expire: 'Override expired',
};

/** How many polls an entry of the API stands for (the server folds repeated unchanged polls). */
const pollsOf = (entry) => 1 + (Number(entry.repeats) > 0 ? Number(entry.repeats) : 0);

/**
 * The rows to show, newest first, from the API's entries (oldest first):
 * - an `unchanged` entry adds its polls to the row before it (`laterPolls`, `lastPoll`);
 * - a `failed` entry with the same error as the row before it is counted there (`attempts`);
 * - an `unchanged` entry with no row before it (the server's ring dropped it) is shown on its own,
 *   as `rejected` when `rejectedSha` (the status's rejected remote commit) is its commit.
 */
export function foldHistory(entries, { rejectedSha } = {}) {
  const rows = [];
  for (const entry of entries ?? []) {
    const last = rows[rows.length - 1];
    if (entry.outcome === 'unchanged' && last) {
      last.laterPolls += pollsOf(entry);
      last.lastPoll = entry.lastTime ?? entry.time ?? last.lastPoll;
      continue;
    }
    if (entry.outcome === 'failed' && last?.outcome === 'failed' && !last.laterPolls
      && last.class === entry.class && last.error === entry.error) {
      last.attempts += 1;
      last.lastAttempt = entry.time;
      continue;
    }
    const row = { ...entry, attempts: 1, laterPolls: 0, lastPoll: null };
    if (entry.outcome === 'unchanged') {
      row.laterPolls = pollsOf(entry) - 1;
      row.lastPoll = entry.lastTime ?? null;
      if (rejectedSha && entry.commit === rejectedSha) {
        row.outcome = 'rejected';
        row.errors = [];
        row.stillRejected = true;
      }
    }
    rows.push(row);
  }
  return rows.reverse();
}

function rowDetails(row) {
  if (row.outcome === 'break_glass') {
    return h('p', { class: 'glass-entry', dataset: { testid: 'glass-entry', action: row.action ?? '' } },
      `${GLASS_WORDS[row.action] ?? row.action} by `, h('strong', { dataset: { testid: 'glass-actor' } }, row.actor ?? ''),
      `: “${row.reason ?? ''}” · ${row.detail ?? ''}`);
  }
  if (row.outcome === 'held') {
    return h('p', { class: 'muted small' }, `A valid commit, not applied: the environment is ${row.held ?? 'held'}.`);
  }
  if (row.outcome === 'rejected') {
    if (row.stillRejected) return h('p', { class: 'error-message' }, 'This commit was rejected; the status above lists its errors.');
    return h('ul', { class: 'validation-errors' },
      (row.errors ?? []).map((e) => h('li', {}, h('code', {}, formatValidationError(e)))));
  }
  if (row.outcome === 'failed') {
    return h('p', { class: 'error-message' }, row.class ? `${row.class}: ` : '', row.error ?? '');
  }
  if (row.diff?.length) {
    return h('ul', { class: 'diff', 'aria-label': 'What changed', dataset: { testid: 'diff' } },
      row.diff.map((line) => h('li', {}, h('code', {}, line))));
  }
  if (row.outcome === 'applied') return h('p', { class: 'muted small' }, 'No flag or segment changed.');
  return null;
}

function laterPollsNote(row) {
  const n = row.laterPolls;
  if (!n) return null;
  const polls = `${n} later poll${n === 1 ? '' : 's'}`;
  const what = row.outcome === 'rejected' ? `${polls}: still this commit` : `${polls} found no new commit`;
  return h('p', { class: 'muted small later-polls', dataset: { testid: 'later-polls', count: String(n) } },
    `${what}, last `, timeField(row.lastPoll));
}

function rowItem(row) {
  const o = OUTCOMES[row.outcome] ?? { label: row.outcome ?? 'unknown', cls: 'idle' };
  const attempts = row.attempts > 1
    ? h('span', { class: 'muted small' }, ` · ${row.attempts} attempts, last `, timeField(row.lastAttempt))
    : null;
  return h('li', { class: `history-entry outcome-${row.outcome}`, dataset: { testid: 'history-entry', outcome: row.outcome ?? '' } },
    h('div', { class: 'history-head' },
      h('span', { class: `pill pill-${o.cls}` }, row.stillRejected ? 'Still rejected' : o.label),
      row.commit ? h('code', { class: 'sha', title: row.commit }, shortSha(row.commit)) : null,
      timeField(row.time),
      row.outcome === 'break_glass' ? null : h('span', { class: 'muted small' }, ` · took ${formatDuration(row.durationMs)}`),
      attempts),
    rowDetails(row),
    laterPollsNote(row));
}

/** An answer of the diff API in words: a variant key, on/off, "no variant" or "not found". */
const answerWords = (a) => {
  if (a === null || a === undefined) return 'not found';
  if ('enabled' in a) return a.enabled ? 'on' : 'off';
  return a.variant ?? 'no variant';
};

const populationWords = (share) => {
  if (share.population === 'everyone') return 'all entities';
  if (share.population === 'segments') return `entities in segment${share.segments.length === 1 ? '' : 's'} ${share.segments.join(' and ')}`;
  return 'entities in none of its segments';
};

/**
 * The impact of one commit in sentences, from the diff API's answer: one per flag and population
 * that moved, e.g. "checkout: this commit moved 25% of all entities from old to new".
 */
export function impactSentences(impact) {
  const out = [];
  for (const flag of impact?.flags ?? []) {
    const name = flag.namespace === 'default' ? flag.key : `${flag.namespace}/${flag.key}`;
    for (const share of flag.shares ?? []) {
      for (const move of share.moves ?? []) {
        out.push(`${name}: this commit moved ${move.percent} of ${populationWords(share)} from ${answerWords(move.from)} to ${answerWords(move.to)}`);
      }
    }
    if (flag.changedSegments?.length) {
      out.push(`${name}: segment${flag.changedSegments.length === 1 ? '' : 's'} ${flag.changedSegments.join(', ')} changed; entities may move between segments`);
    }
  }
  return out;
}

function renderImpact(el, impact) {
  const lines = impactSentences(impact);
  el.replaceChildren(...(lines.length
    ? lines.map((line) => h('li', {}, line))
    : [h('li', { class: 'muted' }, 'No entity gets a different answer.')]));
}

async function fillImpact(el, from, to, loadImpact) {
  const key = `${from}..${to}`;
  try {
    let impact = impactCache.get(key);
    if (!impact) {
      impact = await loadImpact(from, to);
      if (impactCache.size >= MAX_CACHED) impactCache.delete(impactCache.keys().next().value);
      impactCache.set(key, impact);
    }
    renderImpact(el, impact);
  } catch (err) {
    el.replaceChildren(h('li', { class: 'muted' }, `Impact unavailable: ${err.message}`));
  }
}

/**
 * Renders the history (the API lists it oldest first) into the list element. `status` is the
 * environment's sync status, which names a rejected remote commit. `loadImpact(from, to)` asks
 * the diff API; the newest applied rows with an applied commit before them show its answer.
 */
export function renderHistory(list, history, status, loadImpact) {
  const rejectedSha = status?.validationErrors?.length ? status.remoteCommit?.sha : undefined;
  const rows = foldHistory(history?.entries, { rejectedSha }).slice(0, MAX_SHOWN);
  const items = rows.map(rowItem);
  list.replaceChildren(...(rows.length
    ? items
    : [h('li', { class: 'muted' }, 'No sync has run yet.')]));
  if (!loadImpact) return;
  let asked = 0;
  rows.forEach((row, i) => {
    if (row.outcome !== 'applied' || !row.commit || asked >= MAX_IMPACTS) return;
    const before = rows.slice(i + 1).find((r) => r.outcome === 'applied' && r.commit);
    if (!before || before.commit === row.commit) return;
    asked += 1;
    const el = h('ul', { class: 'impact', 'aria-label': 'Who this commit moved', dataset: { testid: 'impact' } },
      h('li', { class: 'muted' }, 'Computing the impact…'));
    items[i].append(el);
    fillImpact(el, before.commit, row.commit, loadImpact);
  });
}
