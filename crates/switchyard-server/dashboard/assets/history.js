// The sync history of one environment, newest first.

import { formatDuration, formatValidationError, h, shortSha, timeField } from './dom.js';

const MAX_SHOWN = 50;

const OUTCOMES = {
  applied: { label: 'Applied', cls: 'success' },
  unchanged: { label: 'Unchanged', cls: 'idle' },
  rejected: { label: 'Rejected', cls: 'error' },
  failed: { label: 'Failed', cls: 'error' },
};

function entryDetails(entry) {
  if (entry.outcome === 'rejected') {
    return h('ul', { class: 'validation-errors' },
      (entry.errors ?? []).map((e) => h('li', {}, h('code', {}, formatValidationError(e)))));
  }
  if (entry.outcome === 'failed') {
    return h('p', { class: 'error-message' }, entry.class ? `${entry.class}: ` : '', entry.error ?? '');
  }
  if (entry.diff?.length) {
    return h('ul', { class: 'diff', 'aria-label': 'What changed', dataset: { testid: 'diff' } },
      entry.diff.map((line) => h('li', {}, h('code', {}, line))));
  }
  if (entry.outcome === 'applied') return h('p', { class: 'muted small' }, 'No flag or segment changed.');
  return null;
}

function entryItem(entry) {
  const o = OUTCOMES[entry.outcome] ?? { label: entry.outcome ?? 'unknown', cls: 'idle' };
  const repeats = entry.repeats > 0
    ? h('span', { class: 'muted small' }, ` · ${entry.repeats + 1} polls, last `, timeField(entry.lastTime))
    : null;
  return h('li', { class: `history-entry outcome-${entry.outcome}`, dataset: { testid: 'history-entry', outcome: entry.outcome ?? '' } },
    h('div', { class: 'history-head' },
      h('span', { class: `pill pill-${o.cls}` }, o.label),
      entry.commit ? h('code', { class: 'sha', title: entry.commit }, shortSha(entry.commit)) : null,
      timeField(entry.time),
      h('span', { class: 'muted small' }, ` · took ${formatDuration(entry.durationMs)}`),
      repeats),
    entryDetails(entry));
}

/** Renders history entries (the API lists them oldest first) into the list element. */
export function renderHistory(list, history) {
  const entries = [...(history?.entries ?? [])].reverse().slice(0, MAX_SHOWN);
  list.replaceChildren(...(entries.length
    ? entries.map(entryItem)
    : [h('li', { class: 'muted' }, 'No sync has run yet.')]));
}
