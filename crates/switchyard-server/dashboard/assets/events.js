// The live stream of /api/v1/sync/events. Without a token: the browser's EventSource, which
// reconnects by itself. With a token (auth on): EventSource cannot send an Authorization header,
// so the same stream is read with fetch() and reconnected here.

import { api, ApiError, getToken } from './api.js';

const RETRY_MS = 2000;

/** Splits one SSE block into {event, data}; null for comments and keep-alives. */
export function parseBlock(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length ? { event, data: data.join('\n') } : null;
}

function withEventSource(h) {
  const es = new EventSource(api.eventsUrl());
  es.addEventListener('open', () => h.open());
  for (const name of ['status', 'change']) es.addEventListener(name, (e) => h.event(name, e.data));
  es.addEventListener('error', () => {
    h.down();
    // The browser retries by itself while CONNECTING; after CLOSED (an HTTP error) we do.
    if (es.readyState === EventSource.CLOSED) setTimeout(h.restart, RETRY_MS);
  });
  return () => es.close();
}

function withFetch(h) {
  const ctrl = new AbortController();
  (async () => {
    try {
      const res = await fetch(api.eventsUrl(), {
        headers: { Accept: 'text/event-stream', Authorization: `Bearer ${getToken()}` },
        cache: 'no-store',
        signal: ctrl.signal,
      });
      if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
      h.open();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const msg = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          if (msg) h.event(msg.event, msg.data);
        }
      }
    } catch (err) {
      if (ctrl.signal.aborted) return;
      if (err instanceof ApiError && err.status === 401) return h.unauthorized();
    }
    if (ctrl.signal.aborted) return;
    h.down();
    setTimeout(h.restart, RETRY_MS);
  })();
  return () => ctrl.abort();
}

/**
 * Connects and keeps connecting. handlers: open(), event(name, data), down(), unauthorized().
 * Returns reconnect(), which drops the current stream and opens a new one (e.g. after a token
 * was given).
 */
export function connectEvents(handlers) {
  let close = () => {};
  const restart = () => {
    close();
    close = (getToken() ? withFetch : withEventSource)({ ...handlers, restart });
  };
  restart();
  return restart;
}
