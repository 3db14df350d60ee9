// Small DOM and formatting helpers. Server text only ever reaches the page through textContent
// (h() children that are strings become text nodes), never through innerHTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an element: h('p', {class: 'x', dataset: {id: 1}}, 'text', child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// Icon outlines (24x24, stroked), drawn with createElementNS.
const ICONS = {
  success: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M8 12.5l2.5 2.5L16 9.5'],
  syncing: ['M20 12a8 8 0 0 1-14 5.3', 'M4 12a8 8 0 0 1 14-5.3', 'M18 3v4h-4', 'M6 21v-4h4'],
  error: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M9 9l6 6M15 9l-6 6'],
  idle: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M10 9v6M14 9v6'],
  unknown: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 8v5M12 16h.01'],
  commit: ['M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z', 'M3 12h6M15 12h6'],
  plus: ['M12 5v14M5 12h14'],
  trash: ['M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3'],
  sun: ['M12 17a5 5 0 1 0 0-10 5 5 0 0 0 0 10z', 'M12 1v2M12 21v2M4.2 4.2l1.4 1.4M18.4 18.4l1.4 1.4M1 12h2M21 12h2M4.2 19.8l1.4-1.4M18.4 5.6l1.4-1.4'],
  moon: ['M12 3a9 9 0 1 0 9 9 7 7 0 0 1-9-9z'],
};

/** An inline SVG icon, hidden from assistive technology (the text next to it says the same). */
export function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', cls);
  for (const d of ICONS[name] ?? ICONS.unknown) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

export const shortSha = (sha) => (sha ? String(sha).slice(0, 7) : '');

/** "Ada Lovelace <ada@example.com>" -> "Ada Lovelace". */
export const authorName = (author) => String(author ?? '').replace(/\s*<[^>]*>\s*$/, '') || 'unknown author';

/** Parses an RFC 3339 time; null when absent or unparsable. */
export function parseTime(value) {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

const absFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});

export const absoluteTime = (ms) => absFormat.format(new Date(ms));

/** "just now", "12 s ago", "in 3 s", "5 min ago", "2 h ago", "3 d ago". */
export function relativeTime(ms, now = Date.now()) {
  const delta = ms - now;
  if (Math.abs(delta) < 1000) return delta > 0 ? 'now' : 'just now';
  const diff = Math.trunc(delta / 1000);
  const abs = Math.abs(diff);
  let text;
  if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.floor(abs / 60)} min ${abs % 60 ? `${abs % 60} s` : ''}`.trim();
  else if (abs < 86400) text = `${Math.floor(abs / 3600)} h ${Math.floor((abs % 3600) / 60)} min`;
  else text = `${Math.floor(abs / 86400)} d`;
  return diff > 0 ? `in ${text}` : `${text} ago`;
}

/**
 * A <time> element showing a relative time that tick() keeps current, with the absolute time
 * next to it (visible) and in its datetime/title attributes.
 */
export function timeField(value, { future = false } = {}) {
  const ms = parseTime(value);
  if (ms === null) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'time-field' },
    h('time', { class: 'rel', datetime: new Date(ms).toISOString(), title: absoluteTime(ms), dataset: { ts: String(ms), future: future ? '1' : '' } },
      relativeTime(ms)),
    h('span', { class: 'abs muted' }, absoluteTime(ms)));
}

/** Updates every relative time on the page; called once a second. */
export function tick(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time.rel[data-ts]')) {
    const ms = Number(el.dataset.ts);
    let text = relativeTime(ms, now);
    if (el.dataset.future && ms <= now) text = 'due now';
    if (el.textContent !== text) el.textContent = text;
  }
}

export function formatDuration(ms) {
  if (ms === undefined || ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

/** One validation error as the CLI prints it: file:line:column: path: message. */
export function formatValidationError(e) {
  const loc = [e.file, e.line, e.column].filter((x) => x !== undefined && x !== null && x !== '').join(':');
  return [loc, e.path, e.message].filter(Boolean).join(': ');
}
