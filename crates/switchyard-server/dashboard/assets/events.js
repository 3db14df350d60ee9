// The live stream of /api/v1/sync/events, read with fetch() and a streaming reader (so it can carry
// the Authorization header, which EventSource cannot, and so an HTTP status is seen). It reconnects
// after a network error or a server error with one timer at a time, and stops on 401/403 until a
// token is given (reconnect()).

import { api, ApiError, getToken } from './api.js';

const RETRY_MS = 2000;
/** After the server ended the stream (e.g. a restart): reconnect soon, but never in a loop. */
const ENDED_RETRY_MS = 500;
/** The longest event the reader keeps while waiting for its end; a longer one drops the stream. */
const MAX_EVENT_BYTES = 1 << 20;

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

/**
 * Reads the stream once. Resolves with 'unauthorized' (401/403), 'ended' (the server closed it)
 * or 'failed' (network or other HTTP error); 'aborted' when signal was aborted.
 */
async function readOnce(h, signal) {
  const headers = { Accept: 'text/event-stream' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    const res = await fetch(api.eventsUrl(), { headers, cache: 'no-store', signal });
    if (res.status === 401 || res.status === 403) return 'unauthorized';
    if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
    h.open();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'ended';
      buffer += value;
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const msg = parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        if (msg) h.event(msg.event, msg.data);
      }
      if (buffer.length > MAX_EVENT_BYTES) {
        await reader.cancel().catch(() => {});
        return 'failed';
      }
    }
  } catch {
    return signal.aborted ? 'aborted' : 'failed';
  }
}

/**
 * Connects and keeps connecting. handlers: open(), event(name, data), down(), unauthorized().
 * Returns reconnect(), which drops the current stream and any pending retry and opens a new one
 * (e.g. after a token was given).
 */
export function connectEvents(handlers) {
  let ctrl = null;
  let timer = 0;
  const connect = () => {
    clearTimeout(timer);
    timer = 0;
    ctrl?.abort();
    const mine = (ctrl = new AbortController());
    readOnce(handlers, mine.signal).then((outcome) => {
      if (mine !== ctrl || outcome === 'aborted') return; // replaced by a newer connection
      if (outcome === 'unauthorized') {
        handlers.unauthorized();
        return; // no retry: only a new token (reconnect()) can change the answer
      }
      handlers.down();
      timer = setTimeout(connect, outcome === 'ended' ? ENDED_RETRY_MS : RETRY_MS);
    });
  };
  connect();
  return connect;
}
