// The sync status panel: one card per environment, with the seed's indicators.

import { authorName, formatValidationError, h, icon, shortSha, timeField } from './dom.js';

export const STATES = {
  success: { label: 'Success', icon: 'success' },
  syncing: { label: 'Syncing', icon: 'syncing' },
  error: { label: 'Error', icon: 'error' },
  idle: { label: 'Idle', icon: 'idle' },
};

export const stateOf = (status) => (STATES[status?.syncStatus] ? status.syncStatus : 'idle');

/** The coloured indicator: icon plus word, so colour is never the only cue. */
export function badge(state) {
  const s = STATES[state] ?? STATES.idle;
  return h('span', { class: `badge badge-${state}`, dataset: { testid: 'sync-badge', state } }, icon(s.icon), s.label);
}

function commitLine(commit) {
  if (!commit) return h('span', { class: 'muted' }, 'none yet');
  return h('span', { class: 'commit' },
    h('code', { class: 'sha', title: commit.sha, dataset: { testid: 'serving-sha' } }, shortSha(commit.sha)),
    ' ',
    h('span', { class: 'commit-message', dataset: { testid: 'serving-message' } }, commit.message || '(no message)'),
    h('span', { class: 'muted' }, ' — ', authorName(commit.author)));
}

const RULES = { 'flipt-v1': 'Flipt v1', 'flipt-v2': 'Flipt v2' };

/** One line on the flag files served: how many, by which generation's rule, and its root file. */
export function discoveryLine(discovery) {
  const files = discovery?.files ?? [];
  const rule = RULES[discovery?.rules] ?? discovery?.rules ?? 'unknown';
  const root = discovery?.rootFile ? ` (${discovery.rootFile} read)` : '';
  return `${files.length} file${files.length === 1 ? '' : 's'} by ${rule}'s rule${root}`;
}

/** The flag files field: the line above, opening onto the rule in words and the file list. */
function discoveryField(discovery) {
  if (!discovery) return null;
  return h('details', { class: 'discovery', dataset: { testid: 'discovery', rules: discovery.rules } },
    h('summary', {}, discoveryLine(discovery)),
    h('p', { class: 'muted small' }, discovery.summary ?? ''),
    h('ul', { class: 'discovery-files', dataset: { testid: 'discovery-files' } },
      (discovery.files ?? []).map((f) => h('li', {}, h('code', {}, f)))),
    discovery.notRead?.length
      ? h('p', { class: 'muted small', dataset: { testid: 'discovery-not-read' } }, 'Not read by this rule: ',
        discovery.notRead.map((f, i) => [i ? ', ' : '', h('code', {}, f)]))
      : null);
}

function field(label, ...value) {
  return h('div', { class: 'field-row' }, h('dt', {}, label), h('dd', {}, ...value));
}

function errorBlock(status) {
  const errors = status.validationErrors ?? [];
  const rejected = status.remoteCommit && status.remoteCommit.sha !== status.servingCommit?.sha ? status.remoteCommit : null;
  const serving = status.servingCommit;
  const title = rejected
    ? ['Commit ', h('code', {}, shortSha(rejected.sha)), ' was rejected']
    : [status.errorClass === 'validation' ? 'The newest commit was rejected' : 'The last sync failed'];
  return h('div', { class: 'error-block', role: 'group', 'aria-label': 'Sync error', dataset: { testid: 'sync-error' } },
    h('p', { class: 'error-title' }, ...title,
      status.errorClass ? h('span', { class: 'tag' }, status.errorClass.replace('_', ' ')) : null),
    // With validation errors the list says it all (the server's message repeats the first one).
    errors.length
      ? h('p', { class: 'error-message' }, `${errors.length} validation error${errors.length === 1 ? '' : 's'}:`)
      : status.errorMessage ? h('p', { class: 'error-message' }, status.errorMessage) : null,
    errors.length
      ? h('ul', { class: 'validation-errors', dataset: { testid: 'validation-errors' } },
        errors.map((e) => h('li', {}, h('code', {}, formatValidationError(e)))))
      : null,
    errors.some((e) => e.extra)
      ? h('p', { class: 'extra-checks-hint', dataset: { testid: 'extra-checks-hint' } },
        `${errors.filter((e) => e.extra).length} of these come from Switchyard's checks beyond Flipt's (Flipt v2.11 would serve this commit): `,
        h('code', {}, 'validation: {extra_checks: warn}'), ' serves it as Flipt does, with warnings.')
      : null,
    h('p', { class: 'still-serving', dataset: { testid: 'still-serving' } },
      serving
        ? ['Still serving ', h('code', { title: serving.sha }, shortSha(serving.sha)), ' ', serving.message || '', h('span', { class: 'muted' }, ' — ', authorName(serving.author))]
        : 'Nothing is served yet: no valid commit has been loaded.'));
}

/** The served snapshot's warnings: it is valid and served, but probably not as meant. */
function warningBlock(warnings) {
  return h('div', { class: 'warning-block', role: 'group', 'aria-label': 'Warnings', dataset: { testid: 'sync-warnings' } },
    h('p', { class: 'warning-title' }, `Served with ${warnings.length} warning${warnings.length === 1 ? '' : 's'}:`),
    h('ul', { class: 'validation-warnings' },
      warnings.map((w) => h('li', {}, h('code', {}, formatValidationError(w))))));
}

const who = (a) => [h('strong', {}, a.actor), ` at ${new Date(a.time).toLocaleString()}: “${a.reason}”`];

/**
 * Break-glass in effect (pause, pin, overrides): who did what, why, until when; a reason field
 * with Resume and an End button per override. `onGlass(env, action, reason, override)` acts.
 */
function glassBlock(status, ui, onGlass) {
  const env = status.environment;
  const drift = status.drift ?? [];
  if (!status.paused && !status.pinned && !drift.length) return null;
  const held = status.paused || status.pinned;
  const reasonId = `glass-reason-${env}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const reason = () => document.getElementById(reasonId)?.value ?? '';
  const items = [];
  if (status.paused) items.push(h('li', { dataset: { testid: 'glass-paused' } }, 'Paused by ', ...who(status.paused), ' New commits are validated but not applied.'));
  if (status.pinned) {
    items.push(h('li', { dataset: { testid: 'glass-pinned' } }, 'Pinned to ', h('code', { title: status.pinned.commit }, shortSha(status.pinned.commit)), ' by ', ...who(status.pinned)));
  }
  if (status.heldCommit) {
    items.push(h('li', { dataset: { testid: 'glass-held' } }, 'The branch is at ', h('code', { title: status.heldCommit.sha }, shortSha(status.heldCommit.sha)), ` (${status.heldCommit.message || 'no message'}): valid, not applied.`));
  }
  for (const d of drift) {
    const name = d.namespace === 'default' ? d.flag : `${d.namespace}/${d.flag}`;
    items.push(h('li', { class: 'glass-drift', dataset: { testid: 'glass-drift', flag: d.flag } },
      'Override: flag ', h('code', {}, name), ` ${d.description}, by `, ...who(d),
      ` Expires ${new Date(d.expires).toLocaleString()}.`,
      d.gitMatches
        ? h('span', { class: 'tag', dataset: { testid: 'glass-git-matches' } }, 'Git now has this change')
        : null,
      ' ',
      h('button', { type: 'button', class: 'button ghost small-button', dataset: { testid: 'end-override' }, disabled: ui.offline, onclick: () => onGlass(env, 'end', reason(), d) }, 'End override'),
      d.patch
        ? h('details', { class: 'glass-patch' }, h('summary', {}, 'The change that makes Git match'), h('pre', { dataset: { testid: 'glass-patch' } }, d.patch))
        : null));
  }
  return h('div', { class: 'glass-block', role: 'group', 'aria-label': 'Break-glass in effect', dataset: { testid: 'break-glass' } },
    h('p', { class: 'glass-title' }, 'Break-glass in effect: what is served differs from Git'),
    h('ul', { class: 'glass-items' }, items),
    h('div', { class: 'glass-actions' },
      h('label', { class: 'field grow' }, h('span', {}, 'Reason (required, recorded with your token\'s name)'),
        // Kept in the UI state as it is typed: a status event redraws the card.
        h('input', { id: reasonId, type: 'text', autocomplete: 'off', value: ui.glassReason ?? '', dataset: { testid: 'glass-reason' }, oninput: (e) => onGlass(env, 'typing', e.target.value) })),
      held
        ? h('button', { type: 'button', class: 'button primary', dataset: { testid: 'resume' }, disabled: ui.offline, onclick: () => onGlass(env, 'resume', reason()) }, 'Resume')
        : null),
    ui.glassMessage ? h('p', { class: `sync-message ${ui.glassKind ?? ''}`, role: 'status', dataset: { testid: 'glass-message' } }, ui.glassMessage) : null);
}

/**
 * One environment's card. `ui` holds per-environment UI state: {message, busy}.
 * onSync(env) is called by the Sync now button.
 */
export function statusCard(status, ui, onSync, onGlass) {
  const env = status.environment;
  const state = stateOf(status);
  const headingId = `status-${env}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const syncButton = h('button', {
    // Not disabled while busy: a disabled button would drop the keyboard focus.
    type: 'button', class: 'button', dataset: { testid: 'sync-now' }, disabled: ui.offline || status.enabled === false, 'aria-busy': ui.busy ? 'true' : null,
    'aria-describedby': `${headingId}-msg`, onclick: () => onSync(env),
  }, icon('syncing'), ui.busy ? 'Syncing…' : 'Sync now');
  return h('article', { class: `status-card state-${state}`, 'aria-labelledby': headingId, dataset: { testid: 'status-card', env } },
    h('header', { class: 'card-head' },
      h('h3', { id: headingId, class: 'card-title' }, h('span', { class: 'muted small' }, 'Environment '), env),
      badge(state)),
    ui.offline ? h('p', { class: 'stale-note', dataset: { testid: 'stale-note' } }, 'Last known state: the server is not answering.') : null,
    glassBlock(status, ui, onGlass),
    state === 'error' ? errorBlock(status) : null,
    status.warnings?.length ? warningBlock(status.warnings) : null,
    h('dl', { class: 'fields' },
      field('Repository', h('span', { class: 'break', dataset: { testid: 'repository' } }, status.repository || '(local directory)')),
      field('Branch', h('code', {}, status.branch || '—'), status.directory ? h('span', { class: 'muted' }, ` · directory ${status.directory}`) : null),
      field('Poll interval', status.pollInterval || '—'),
      field('Last sync', timeField(status.lastSyncTime)),
      field('Serving commit', commitLine(status.servingCommit)),
      field('Next sync', status.enabled === false ? h('span', { class: 'muted' }, 'sync disabled') : timeField(status.nextSyncTime, { future: true })),
      status.discovery ? field('Flag files', discoveryField(status.discovery)) : null,
      field('Flags', String(status.flags ?? 0), status.consecutiveFailures ? h('span', { class: 'muted' }, ` · ${status.consecutiveFailures} failed attempt${status.consecutiveFailures === 1 ? '' : 's'} in a row`) : null)),
    h('div', { class: 'card-actions' },
      syncButton,
      h('span', { id: `${headingId}-msg`, class: `sync-message ${ui.messageKind ?? ''}`, dataset: { testid: 'sync-message' } }, ui.message ?? '')));
}
