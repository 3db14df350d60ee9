// The sync history of one environment, newest first. Polls that found nothing new are folded into
// the row they follow ("12 later polls found no new commit"), so the list shows what happened, and
// a rejected commit is never shown as "Unchanged".

import { formatDuration, formatValidationError, h, shortSha, timeField } from './dom.js';

const MAX_SHOWN = 50;

const OUTCOMES = {
  applied: { label: 'Applied', cls: 'success' },
  unchanged: { label: 'No new commit', cls: 'idle' },
  rejected: { label: 'Rejected', cls: 'error' },
  failed: { label: 'Failed', cls: 'error' },
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
      h('span', { class: 'muted small' }, ` · took ${formatDuration(row.durationMs)}`),
      attempts),
    rowDetails(row),
    laterPollsNote(row));
}

/**
 * Renders the history (the API lists it oldest first) into the list element. `status` is the
 * environment's sync status, which names a rejected remote commit.
 */
export function renderHistory(list, history, status) {
  const rejectedSha = status?.validationErrors?.length ? status.remoteCommit?.sha : undefined;
  const rows = foldHistory(history?.entries, { rejectedSha }).slice(0, MAX_SHOWN);
  list.replaceChildren(...(rows.length
    ? rows.map(rowItem)
    : [h('li', { class: 'muted' }, 'No sync has run yet.')]));
}
