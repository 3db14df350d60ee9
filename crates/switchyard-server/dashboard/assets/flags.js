// The flags browser: one namespace's flags and segments, summarised from its Flipt document.

import { h } from './dom.js';

export const isBoolean = (flag) => flag?.type === 'BOOLEAN_FLAG_TYPE';
const typeLabel = (flag) => (isBoolean(flag) ? 'Boolean' : 'Variant');
const operatorWord = (op) => (String(op ?? '').startsWith('AND') ? 'AND' : 'OR');

/** "premium-users" or "premium-users AND beta-testers" from a rule's or rollout's segment. */
export function segmentExpr(segment) {
  if (!segment) return '';
  if (typeof segment === 'string') return segment;
  const keys = segment.keys?.length ? segment.keys : segment.key ? [segment.key] : [];
  return keys.join(` ${operatorWord(segment.operator)} `);
}

/** A rule in one line: "premium-users → enabled 25%, disabled 75%". */
export function ruleSummary(rule) {
  const dists = (rule.distributions ?? []).map((d) => `${d.variant} ${d.rollout}%`);
  return `${segmentExpr(rule.segment)} → ${dists.length ? dists.join(', ') : 'match only (no variant)'}`;
}

/** A boolean rollout in one line: "50% of entities → true" or "segment premium-users → false". */
export function rolloutSummary(rollout) {
  if (rollout.threshold) return `${rollout.threshold.percentage}% of entities → ${rollout.threshold.value}`;
  if (rollout.segment) return `segment ${segmentExpr(rollout.segment)} → ${rollout.segment.value}`;
  return 'unknown rollout';
}

export function constraintSummary(c) {
  const value = c.value === undefined || c.value === null || c.value === '' ? '' : ` ${JSON.stringify(String(c.value))}`;
  return `${c.property} ${c.operator}${value}`;
}

const typeShort = (t) => String(t ?? '').replace('_COMPARISON_TYPE', '').toLowerCase().replace('_', ' ');
const isAny = (t) => String(t ?? '').startsWith('ANY');

function matchSentence(matchType, n) {
  if (n === 0) return 'No constraints: matches every entity';
  if (n === 1) return 'Matches when its constraint matches';
  return isAny(matchType) ? `Matches when any of its ${n} constraints matches` : `Matches when all ${n} constraints match`;
}

function variantsList(flag) {
  const variants = flag.variants ?? [];
  if (!variants.length) return h('p', { class: 'muted small' }, 'No variants.');
  return h('ul', { class: 'chips', 'aria-label': 'Variants' }, variants.map((v) => h('li', { class: v.default ? 'chip chip-default' : 'chip' },
    h('code', {}, v.key),
    v.default ? h('span', { class: 'chip-note' }, ' default') : null,
    v.attachment !== undefined && v.attachment !== null ? h('span', { class: 'chip-note', title: 'attachment' }, ` ${JSON.stringify(v.attachment)}`) : null)));
}

function orderedSummaries(label, items, summarise) {
  if (!items?.length) return null;
  return h('div', { class: 'summary-block' },
    h('h4', {}, label),
    h('ol', { class: 'rules' }, items.map((item) => h('li', {}, h('code', {}, summarise(item)),
      item.description ? h('span', { class: 'muted small' }, ` — ${item.description}`) : null))));
}

function flagCard(flag) {
  const enabled = Boolean(flag.enabled);
  return h('article', { class: 'flag-card', dataset: { testid: 'flag-card', key: flag.key } },
    h('header', { class: 'flag-head' },
      h('h3', { class: 'flag-key' }, h('code', {}, flag.key)),
      h('span', { class: 'pill pill-type' }, typeLabel(flag)),
      h('span', { class: `pill ${enabled ? 'pill-success' : 'pill-idle'}` }, enabled ? 'Enabled' : 'Disabled')),
    flag.name && flag.name !== flag.key ? h('p', { class: 'flag-name' }, flag.name) : null,
    flag.description ? h('p', { class: 'muted small' }, flag.description) : null,
    isBoolean(flag)
      ? h('p', { class: 'small' }, 'Default value: ', h('code', {}, String(enabled)))
      : variantsList(flag),
    orderedSummaries('Rules', flag.rules, ruleSummary),
    orderedSummaries('Rollouts', flag.rollouts, rolloutSummary),
    !flag.rules?.length && !flag.rollouts?.length ? h('p', { class: 'muted small' }, 'No rules: every entity gets the default.') : null);
}

function segmentCard(segment) {
  const constraints = segment.constraints ?? [];
  return h('article', { class: 'segment-card', dataset: { testid: 'segment-card', key: segment.key } },
    h('h4', {}, h('code', {}, segment.key), segment.name && segment.name !== segment.key ? h('span', { class: 'muted' }, ` ${segment.name}`) : null),
    h('p', { class: 'small' }, matchSentence(segment.match_type, constraints.length)),
    constraints.length
      ? h('ul', { class: 'constraints' }, constraints.map((c) => h('li', {},
        h('code', {}, constraintSummary(c)), h('span', { class: 'muted small' }, ` (${typeShort(c.type)})`))))
      : null);
}

export function matchesQuery(flag, query) {
  const q = query.trim().toLowerCase();
  return !q || flag.key.toLowerCase().includes(q) || String(flag.name ?? '').toLowerCase().includes(q);
}

/** Renders a namespace document; returns the number of flags shown. */
export function renderFlags({ flagList, segmentList, count }, doc, query) {
  const flags = doc?.flags ?? [];
  const shown = flags.filter((f) => matchesQuery(f, query));
  flagList.replaceChildren(...(shown.length
    ? shown.map(flagCard)
    : [h('p', { class: 'muted' }, flags.length ? 'No flag matches the search.' : 'This namespace has no flags.')]));
  const segments = doc?.segments ?? [];
  segmentList.replaceChildren(...(segments.length ? segments.map(segmentCard) : [h('p', { class: 'muted' }, 'No segments.')]));
  count.textContent = `${shown.length} of ${flags.length} flag${flags.length === 1 ? '' : 's'} shown`;
  return shown.length;
}
