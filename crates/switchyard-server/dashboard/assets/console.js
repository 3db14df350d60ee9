// The evaluation console: asks /evaluate/v1/variant or /evaluate/v1/boolean (by the flag's type).

import { api } from './api.js';
import { h, icon, replace } from './dom.js';
import { isBoolean } from './flags.js';

const REASONS = {
  MATCH_EVALUATION_REASON: 'a rule or rollout matched',
  DEFAULT_EVALUATION_REASON: 'nothing matched: the default applies',
  FLAG_DISABLED_EVALUATION_REASON: 'the flag is disabled',
  UNKNOWN_EVALUATION_REASON: 'unknown',
};

const $ = (id) => document.getElementById(id);

function option(value, label = value, selected = false) {
  return h('option', { value, selected }, label);
}

function contextRow(key = '', value = '') {
  const row = h('div', { class: 'context-row', dataset: { testid: 'context-row' } });
  const n = document.querySelectorAll('.context-row').length + 1;
  const keyInput = h('input', { type: 'text', class: 'ctx-key', value: key, autocomplete: 'off', spellcheck: 'false', 'aria-label': `Context key ${n}`, placeholder: 'key' });
  const valueInput = h('input', { type: 'text', class: 'ctx-value', value, autocomplete: 'off', spellcheck: 'false', 'aria-label': `Context value ${n}`, placeholder: 'value' });
  const remove = h('button', { type: 'button', class: 'button ghost icon-button', onclick: () => { row.remove(); $('add-context').focus(); } },
    icon('trash'), h('span', { class: 'visually-hidden' }, `Remove context key ${n}`));
  row.append(keyInput, valueInput, remove);
  return row;
}

function readContext() {
  const context = {};
  for (const row of document.querySelectorAll('.context-row')) {
    const key = row.querySelector('.ctx-key').value.trim();
    if (key) context[key] = row.querySelector('.ctx-value').value;
  }
  return context;
}

function formatMillis(ms) {
  if (typeof ms !== 'number') return '—';
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

function resultRow(label, ...value) {
  return h('div', { class: 'field-row' }, h('dt', {}, label), h('dd', {}, ...value));
}

function renderResult(flag, res) {
  const reason = res.reason ?? '';
  const segments = res.segmentKeys ?? [];
  const value = isBoolean(flag)
    ? h('strong', { dataset: { testid: 'eval-value' } }, String(res.enabled))
    : h('strong', { dataset: { testid: 'eval-value' } }, res.variantKey || '(no variant)');
  return h('div', { class: 'result-card', dataset: { testid: 'eval-output' } },
    h('h3', {}, 'Result for ', h('code', {}, res.flagKey ?? flag.key)),
    h('dl', { class: 'fields' },
      resultRow(isBoolean(flag) ? 'Enabled' : 'Variant', value),
      isBoolean(flag) ? null : resultRow('Match', String(Boolean(res.match))),
      resultRow('Reason', h('code', { dataset: { testid: 'eval-reason' } }, reason), h('span', { class: 'muted' }, ` — ${REASONS[reason] ?? ''}`)),
      resultRow('Matched segments', h('span', { dataset: { testid: 'eval-segments' } }, segments.length ? segments.join(', ') : 'none')),
      res.variantAttachment && res.variantAttachment !== 'null' ? resultRow('Attachment', h('code', { class: 'break' }, res.variantAttachment)) : null,
      resultRow('Took', formatMillis(res.requestDurationMillis))),
    h('details', {}, h('summary', {}, 'Raw response'), h('pre', { class: 'raw' }, JSON.stringify(res, null, 2))));
}

/**
 * Wires the console. `data` gives: environments() -> [key], defaultEnv(), namespaces(env) ->
 * Promise<[{key,name}]>, document(env, ns) -> Promise<doc>.
 */
export function setupConsole(data) {
  const form = $('eval-form');
  const envSel = $('eval-env');
  const nsSel = $('eval-ns');
  const flagSel = $('eval-flag');
  const out = $('eval-result');
  let flags = [];

  async function fillFlags() {
    const keep = flagSel.value;
    const doc = await data.document(envSel.value, nsSel.value).catch(() => null);
    flags = doc?.flags ?? [];
    flagSel.replaceChildren(...flags.map((f) => option(f.key, `${f.key} (${isBoolean(f) ? 'boolean' : 'variant'})`, f.key === keep)));
    if (!flags.length) flagSel.append(option('', 'no flags in this namespace'));
  }

  async function fillNamespaces() {
    const keep = nsSel.value || 'default';
    const namespaces = await data.namespaces(envSel.value).catch(() => []);
    nsSel.replaceChildren(...namespaces.map((n) => option(n.key, n.key, n.key === keep)));
    await fillFlags();
  }

  async function refresh() {
    const keep = envSel.value || data.defaultEnv();
    envSel.replaceChildren(...data.environments().map((e) => option(e, e, e === keep)));
    await fillNamespaces();
  }

  async function evaluate(event) {
    event.preventDefault();
    const flag = flags.find((f) => f.key === flagSel.value);
    const entityId = $('eval-entity').value.trim();
    if (!flag) return replace(out, h('p', { class: 'form-error', role: 'alert' }, 'Choose a flag first.'));
    if (!entityId) {
      $('eval-entity').focus();
      return replace(out, h('p', { class: 'form-error', role: 'alert' }, 'An entity id is required.'));
    }
    const body = { environmentKey: envSel.value, namespaceKey: nsSel.value, flagKey: flag.key, entityId, context: readContext() };
    replace(out, h('p', { class: 'muted' }, 'Evaluating…'));
    try {
      const res = await api.evaluate(isBoolean(flag) ? 'boolean' : 'variant', body);
      replace(out, renderResult(flag, res));
    } catch (err) {
      replace(out, h('p', { class: 'form-error', role: 'alert', dataset: { testid: 'eval-error' } },
        `Evaluation failed: ${err.status ? `${err.status} ` : ''}${err.message}`));
    }
  }

  envSel.addEventListener('change', fillNamespaces);
  nsSel.addEventListener('change', fillFlags);
  form.addEventListener('submit', evaluate);
  $('add-context').addEventListener('click', () => {
    const row = contextRow();
    $('context-rows').append(row);
    row.querySelector('input').focus();
  });
  $('context-rows').append(contextRow('plan', 'premium'));
  function setEnv(env) {
    if (envSel.value === env) return;
    envSel.value = env;
    fillNamespaces();
  }

  return { refresh, setEnv, refreshFlags: fillFlags, currentEnv: () => envSel.value, currentNs: () => nsSel.value };
}
