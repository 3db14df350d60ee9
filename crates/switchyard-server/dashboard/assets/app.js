// Switchyard dashboard: entry point. Loads everything from the API, keeps it live through the
// server-sent events of /api/v1/sync/events, and refetches everything after a reconnect.

import { api, ApiError, getToken, NetworkError, setToken } from './api.js';
import { setupConsole } from './console.js';
import { connectEvents } from './events.js';
import { h, icon, parseTime, replace, shortSha, tick } from './dom.js';
import { renderFlags } from './flags.js';
import { renderHistory } from './history.js';
import { STATES, stateOf, statusCard } from './status.js';

const $ = (id) => document.getElementById(id);

const state = {
  environments: [], // [{key, name, default, configuration}]
  statuses: new Map(), // env -> status JSON
  ui: new Map(), // env -> {busy, message, messageKind}
  namespaces: new Map(), // env -> Promise<[namespace]>
  documents: new Map(), // "env/ns" -> Promise<document>
  env: sessionStorage.getItem('switchyard.env') || '',
  ns: 'default',
  online: null, // null until known
  eventsOpened: false,
  streamRefused: false, // the event stream was answered 401/403 and waits for a token
  needsToken: false, // the server answered 401 to a read
  doc: null, // the flags browser's namespace document
  consoleApi: null,
};

// ---- announcements and connection state --------------------------------------------------------

function announce(text) {
  const el = $('announcer');
  el.textContent = '';
  // A fresh text node in a later frame makes screen readers read repeated messages too.
  requestAnimationFrame(() => { el.textContent = text; });
}

function setOnline(online) {
  const conn = $('connection');
  const previous = state.online;
  const changed = previous !== online;
  state.online = online;
  conn.dataset.state = online ? 'live' : 'offline';
  conn.querySelector('.connection-text').textContent = online ? 'Live' : 'Unreachable';
  $('offline-banner').hidden = online;
  if (changed) renderStatuses();
  if (changed && previous !== null) announce(online ? 'Connected to the server again.' : 'Server unreachable, retrying.');
}

/** Runs an API call; a network failure flips the page to the unreachable state. */
async function guard(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof NetworkError) setOnline(false);
    throw err;
  }
}

// ---- data (cached per environment, dropped when a change is served) ----------------------------

function namespacesOf(env) {
  if (!state.namespaces.has(env)) {
    const p = guard(api.namespaces(env)).then((r) => r?.namespaces ?? []);
    p.catch(() => state.namespaces.delete(env));
    state.namespaces.set(env, p);
  }
  return state.namespaces.get(env);
}

function documentOf(env, ns) {
  const key = `${env}/${ns}`;
  if (!state.documents.has(key)) {
    const p = guard(api.document(env, ns));
    p.catch(() => state.documents.delete(key));
    state.documents.set(key, p);
  }
  return state.documents.get(key);
}

function forgetEnv(env) {
  state.namespaces.delete(env);
  for (const key of [...state.documents.keys()]) if (key.startsWith(`${env}/`)) state.documents.delete(key);
}

const envKeys = () => state.environments.map((e) => e.key);
const defaultEnv = () => (state.environments.find((e) => e.default) ?? state.environments[0])?.key ?? 'default';

// ---- status panel -------------------------------------------------------------------------------

const uiOf = (env) => ({ ...state.ui.get(env), offline: state.online === false });

function setUi(env, patch) {
  state.ui.set(env, { ...uiOf(env), ...patch });
  renderCard(env);
}

function renderCard(env) {
  const status = state.statuses.get(env);
  if (!status) return;
  const list = $('status-list');
  const old = [...list.querySelectorAll('.status-card')].find((c) => c.dataset.env === env);
  const focused = old?.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
  const card = statusCard(status, uiOf(env), syncNow, breakGlass);
  if (old) old.replaceWith(card);
  else list.append(card);
  if (focused) card.querySelector(`[data-testid="${focused}"]`)?.focus();
}

function renderStatuses() {
  const list = $('status-list');
  const envs = envKeys().length ? envKeys() : [...state.statuses.keys()];
  list.replaceChildren();
  for (const env of envs) renderCard(env);
  if (!list.children.length) {
    replace(list, h('p', { class: 'muted' }, state.online === false ? 'Waiting for the server…' : 'No environment is configured.'));
  }
}

const settled = new Map(); // env -> last state other than syncing, for announcements

function announceState(env, status) {
  const now = stateOf(status);
  if (now === 'syncing') return;
  const before = settled.get(env);
  settled.set(env, now);
  if (before === undefined || before === now) return;
  const extra = now === 'error' && status.servingCommit ? `, still serving ${shortSha(status.servingCommit.sha)}` : '';
  announce(`Environment ${env}: ${STATES[now].label}${extra}.`);
}

/** "Error · Switchyard" when any environment is in error, so a background tab shows it. */
function updateTitle() {
  const states = [...state.statuses.values()].map(stateOf);
  const worst = ['error', 'syncing', 'success', 'idle'].find((s) => states.includes(s));
  document.title = worst === 'error' ? `${STATES.error.label} · Switchyard` : 'Switchyard';
}

const syncingTimers = new Map();
function onStatus(status) {
  const env = status.environment ?? defaultEnv();
  state.statuses.set(env, status);
  announceState(env, status);
  updateTitle();
  const ui = state.ui.get(env);
  const synced = parseTime(status.lastSyncTime);
  if (ui?.requestedAt && synced !== null && synced >= ui.requestedAt - 1000 && status.syncStatus !== 'syncing') {
    const outcome = status.syncStatus === 'error' ? 'failed' : 'done';
    state.ui.set(env, { ...ui, requestedAt: 0, message: `Sync requested and ${outcome} at ${new Date(synced).toLocaleTimeString()}`, messageKind: outcome === 'done' ? 'ok' : 'error' });
  }
  if (!envKeys().includes(env)) renderStatuses();
  else if (stateOf(status) === 'syncing') {
    // A quick poll goes syncing -> success within milliseconds: show Syncing only if it lasts.
    clearTimeout(syncingTimers.get(env));
    syncingTimers.set(env, setTimeout(() => { if (state.statuses.get(env) === status) renderCard(env); }, 300));
  } else renderCard(env);
  if (env === state.env) scheduleHistory();
}

function onChange(change) {
  const env = change.environment ?? defaultEnv();
  forgetEnv(env);
  const n = change.diff?.length ?? 0;
  const sha = change.commit ? ` ${shortSha(change.commit.sha)}` : '';
  announce(`Environment ${env}: now serving${sha}, ${n} change${n === 1 ? '' : 's'}.`);
  if (env === state.env) {
    // The server may record the attempt just after announcing the change: ask again shortly.
    loadHistory();
    scheduleHistory(400);
    loadFlags();
  }
  if (state.consoleApi?.currentEnv() === env) state.consoleApi.refreshFlags();
}

function focusSyncButton(env) {
  const card = [...document.querySelectorAll('.status-card')].find((c) => c.dataset.env === env);
  card?.querySelector('[data-testid="sync-now"]')?.focus();
}

async function syncNow(env) {
  if (uiOf(env).busy) return;
  setUi(env, { busy: true, message: 'Requesting a sync…', messageKind: '' });
  try {
    await guard(api.triggerSync(env));
    setUi(env, { busy: false, message: `Sync requested at ${new Date().toLocaleTimeString()}`, messageKind: 'ok', requestedAt: Date.now() });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      const refused = getToken() ? (err.status === 403 ? 'That token may not trigger a sync.' : 'The server refused that token.') : '';
      setUi(env, { busy: false, message: 'A token is needed to trigger a sync.', messageKind: 'error' });
      const token = await askToken(refused || 'Triggering a sync needs an admin token.');
      focusSyncButton(env);
      if (token) {
        setToken(token);
        if (state.streamRefused) reconnectEvents();
        return syncNow(env);
      }
      return;
    }
    setUi(env, { busy: false, message: `Sync not triggered: ${err.message}`, messageKind: 'error' });
  }
}

/** Resume (`action` resume) or end an override (`end`, with the override), with a reason. */
async function breakGlass(env, action, reason, override) {
  if (action === 'typing') {
    state.ui.set(env, { ...state.ui.get(env), glassReason: reason });
    return;
  }
  setUi(env, { glassMessage: action === 'resume' ? 'Resuming…' : 'Ending the override…', glassKind: '' });
  try {
    if (action === 'resume') await guard(api.resume(env, reason));
    else await guard(api.endOverride(env, override.namespace, override.flag, reason));
    setUi(env, { glassMessage: action === 'resume' ? 'Resumed: the branch is served again.' : `Override of ${override.flag} ended.`, glassKind: 'ok', glassReason: '' });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      setUi(env, { glassMessage: 'An admin token is needed for break-glass actions.', glassKind: 'error' });
      const token = await askToken(err.status === 403 ? 'That token may not do break-glass actions.' : 'Break-glass actions need an admin token.');
      if (token) {
        setToken(token);
        if (state.streamRefused) reconnectEvents();
        return breakGlass(env, action, reason, override);
      }
      return;
    }
    setUi(env, { glassMessage: `Not done: ${err.message}`, glassKind: 'error' });
  }
}

/** Shows the token dialog; resolves to the token, or null when cancelled. */
function askToken(reason) {
  const dialog = $('token-dialog');
  const input = $('token-input');
  $('token-reason').textContent = `${reason} It is kept only in this browser tab.`;
  input.value = '';
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.removeEventListener('close', onClose);
      resolve(value);
    };
    const onClose = () => done(dialog.returnValue === 'ok' && input.value.trim() ? input.value.trim() : null);
    dialog.addEventListener('close', onClose);
    dialog.returnValue = '';
    dialog.showModal();
    input.focus();
  });
}

// ---- history and flags of the selected environment ----------------------------------------------

let historyTimer = 0;
function scheduleHistory(delay = 150) {
  clearTimeout(historyTimer);
  historyTimer = setTimeout(loadHistory, delay);
}

let historySeq = 0;
async function loadHistory() {
  const env = state.env;
  const seq = ++historySeq;
  try {
    const history = await guard(api.history(env));
    if (seq === historySeq) renderHistory($('history-list'), history, state.statuses.get(env), (from, to) => api.diff(env, from, to));
  } catch (err) {
    if (seq === historySeq && !(err instanceof NetworkError)) replace($('history-list'), h('li', { class: 'form-error' }, `History unavailable: ${err.message}`));
  }
}

let flagsSeq = 0;
async function loadFlags() {
  const env = state.env;
  const seq = ++flagsSeq;
  const nsSel = $('ns-select');
  try {
    const namespaces = await namespacesOf(env);
    if (seq !== flagsSeq) return;
    if (!namespaces.some((n) => n.key === state.ns)) state.ns = namespaces[0]?.key ?? 'default';
    nsSel.replaceChildren(...namespaces.map((n) => h('option', { value: n.key, selected: n.key === state.ns },
      `${n.name && n.name !== n.key ? `${n.name} (${n.key})` : n.key} · ${n.flags} flag${n.flags === 1 ? '' : 's'}`)));
    const doc = await documentOf(env, state.ns);
    if (seq !== flagsSeq) return;
    state.doc = doc;
    renderFlagList();
  } catch (err) {
    if (seq === flagsSeq && !(err instanceof NetworkError)) replace($('flag-list'), h('p', { class: 'form-error' }, `Flags unavailable: ${err.message}`));
  }
}

function renderFlagList() {
  renderFlags({ flagList: $('flag-list'), segmentList: $('segment-list'), count: $('flag-count') }, state.doc, $('flag-search').value);
}

// ---- environments --------------------------------------------------------------------------------

function renderEnvSelect() {
  const sel = $('env-select');
  if (!envKeys().includes(state.env)) state.env = defaultEnv();
  sel.replaceChildren(...state.environments.map((e) => h('option', { value: e.key, selected: e.key === state.env },
    `${e.name && e.name !== e.key ? e.name : e.key}${e.default ? ' (default)' : ''}`)));
  for (const el of document.querySelectorAll('[data-env-label]')) el.textContent = `· ${state.env}`;
}

function selectEnv(env) {
  state.env = env;
  sessionStorage.setItem('switchyard.env', env);
  state.ns = 'default';
  renderEnvSelect();
  loadHistory();
  loadFlags();
  state.consoleApi.setEnv(env);
}

// ---- loading everything ------------------------------------------------------------------------

async function loadHealth() {
  try {
    const health = await guard(api.health());
    $('health').textContent = `server ${health?.status ?? 'up'}`;
  } catch {
    $('health').textContent = 'server unreachable';
  }
}

let loading = null;
let reloadTimer = 0;
async function loadAll() {
  if (loading) return loading;
  loading = (async () => {
    try {
      const [envs, statuses] = await Promise.all([guard(api.environments()), guard(api.statuses())]);
      state.environments = envs?.environments ?? [];
      state.namespaces.clear();
      state.documents.clear();
      state.statuses.clear();
      for (const s of statuses?.statuses ?? []) {
        state.statuses.set(s.environment ?? defaultEnv(), s);
        announceState(s.environment ?? defaultEnv(), s);
      }
      updateTitle();
      state.needsToken = false;
      setOnline(true);
      renderEnvSelect();
      renderStatuses();
      await Promise.all([loadHistory(), loadFlags(), state.consoleApi.refresh(), loadHealth()]);
      document.body.dataset.loaded = 'true';
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        const reason = getToken() ? 'The server refused that token.' : 'The server needs a token to show its status.';
        setToken('');
        setTimeout(() => needToken(reason), 0);
      } else if (!(err instanceof NetworkError)) {
        replace($('status-list'), h('p', { class: 'form-error', role: 'alert' }, `Could not load the status: ${err.message}`));
      } else {
        // One retry timer at a time; the event stream's reconnect also reloads everything.
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => { if (!state.online) loadAll(); }, 3000);
      }
    } finally {
      loading = null;
    }
  })();
  return loading;
}

// ---- live events ---------------------------------------------------------------------------------

function parse(data) {
  try { return JSON.parse(data); } catch { return null; }
}

let reconnectEvents = () => {};

function startEvents() {
  reconnectEvents = connectEvents({
    open() {
      // Anything may have changed while the stream was down: refetch it all.
      if (state.eventsOpened || state.online === false) loadAll();
      state.eventsOpened = true;
      state.streamRefused = false;
      setOnline(true);
    },
    event(name, data) {
      const value = parse(data);
      if (!value) return;
      if (name === 'status') onStatus(value);
      else if (name === 'change') onChange(value);
    },
    down() {
      api.health()
        .then(() => { $('connection').querySelector('.connection-text').textContent = state.needsToken ? 'Token needed' : 'Reconnecting…'; })
        .catch(() => setOnline(false));
    },
    unauthorized() {
      state.streamRefused = true; // it stays closed until a token is given
      $('connection').querySelector('.connection-text').textContent = 'Token needed';
    },
  });
}

/** The server wants a token even to read: say so, and ask for one. */
async function needToken(reason) {
  if (state.needsToken && $('token-dialog').open) return; // already asking
  state.needsToken = true;
  $('connection').querySelector('.connection-text').textContent = 'Token needed';
  replace($('status-list'), h('div', { class: 'form-error', role: 'alert' },
    h('p', {}, reason),
    h('button', { type: 'button', class: 'button', onclick: () => askForReadToken(reason) }, 'Enter a token')));
  await askForReadToken(reason);
}

async function askForReadToken(reason) {
  const token = await askToken(`${reason}`);
  if (!token) return;
  setToken(token);
  await loadAll();
  reconnectEvents();
}

// ---- theme -------------------------------------------------------------------------------------

const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

function effectiveTheme() {
  return document.documentElement.dataset.theme || (darkQuery.matches ? 'dark' : 'light');
}

function renderThemeButton() {
  const dark = effectiveTheme() === 'dark';
  const btn = $('theme-toggle');
  btn.setAttribute('aria-pressed', String(dark));
  replace(btn, icon(dark ? 'sun' : 'moon'), h('span', { class: 'visually-hidden' }, 'Dark theme'));
  btn.title = dark ? 'Switch to the light theme' : 'Switch to the dark theme';
}

function setupTheme() {
  const stored = localStorage.getItem('switchyard.theme');
  if (stored === 'dark' || stored === 'light') document.documentElement.dataset.theme = stored;
  renderThemeButton();
  $('theme-toggle').addEventListener('click', () => {
    const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('switchyard.theme', next);
    renderThemeButton();
  });
  darkQuery.addEventListener('change', renderThemeButton);
}

// ---- start ---------------------------------------------------------------------------------------

function start() {
  setupTheme();
  state.consoleApi = setupConsole({
    environments: envKeys,
    defaultEnv: () => state.env || defaultEnv(),
    namespaces: namespacesOf,
    document: documentOf,
  });
  $('env-select').addEventListener('change', (e) => selectEnv(e.target.value));
  $('ns-select').addEventListener('change', (e) => { state.ns = e.target.value; loadFlags(); });
  $('flag-search').addEventListener('input', renderFlagList);
  $('token-cancel').addEventListener('click', () => $('token-dialog').close('cancel'));
  setInterval(() => tick(), 1000);
  loadAll();
  startEvents();
}

start();
