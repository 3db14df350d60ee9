import { Observable, defer, retry, repeat, throwError, timer } from 'rxjs';

/** One Server-Sent Event. */
export interface SseMessage {
  /** The `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines joined by `\n`. */
  data: string;
  id?: string;
}

/** The `fetch` the stream uses (`globalThis.fetch` by default). */
export type FetchFn = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** The longest event (in characters) a {@link SseParser} holds while waiting for its end. */
export const MAX_SSE_EVENT_CHARS = 1 << 20;

/** An event grew past {@link MAX_SSE_EVENT_CHARS} without ending; the stream is dropped. */
export class SseEventTooLargeError extends Error {
  constructor(limit: number) {
    super(`a server-sent event is longer than ${limit} characters; dropping the stream`);
    this.name = 'SseEventTooLargeError';
  }
}

/** The server answered the stream request with an HTTP error. */
export class SseHttpError extends Error {
  constructor(readonly status: number, statusText: string) {
    super(`event stream refused: HTTP ${status} ${statusText}`.trim());
    this.name = 'SseHttpError';
  }
}

const LINE_END = /\r\n|\r|\n/g;

/**
 * Incremental `text/event-stream` parser (WHATWG HTML §9.2.6): feed it chunks, get whole events.
 * It keeps only the unfinished line and the data lines of the unfinished event, never the text
 * already parsed, and refuses an event longer than `maxEventChars`.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private dataChars = 0;
  private event = '';
  private id?: string;

  constructor(private readonly maxEventChars = MAX_SSE_EVENT_CHARS) {}

  /** Characters held back for the unfinished event (bounded by `maxEventChars`). */
  get retainedChars(): number {
    return this.buffer.length + this.dataChars;
  }

  /** Parses a chunk; returns the events it completed. Throws {@link SseEventTooLargeError}. */
  push(chunk: string): SseMessage[] {
    const text = this.buffer + chunk;
    const out: SseMessage[] = [];
    let pos = 0;
    LINE_END.lastIndex = 0;
    for (let m = LINE_END.exec(text); m; m = LINE_END.exec(text)) {
      // A lone trailing \r may be the first half of \r\n: wait for more input.
      if (m[0] === '\r' && m.index === text.length - 1) break;
      this.line(text.slice(pos, m.index), out);
      pos = m.index + m[0].length;
    }
    this.buffer = text.slice(pos);
    if (this.retainedChars > this.maxEventChars) {
      this.buffer = '';
      this.reset();
      throw new SseEventTooLargeError(this.maxEventChars);
    }
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.dataChars += value.length + 1;
    } else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
  }

  private reset(): void {
    this.data = [];
    this.dataChars = 0;
    this.event = '';
  }
}

/**
 * Reads a Server-Sent Events stream with `fetch` and a streaming reader: each chunk goes through
 * {@link SseParser} and is dropped, so a stream left open for hours holds only the event being
 * read (the `HttpClient` progress events it replaces accumulated the whole response). `fetch`
 * can send `Authorization`, which `EventSource` cannot, and as it is not `HttpClient`, an
 * endless stream does not keep the application "unstable" for `whenStable()`.
 *
 * Completes when the server closes the stream; errors with {@link SseHttpError} on an HTTP error,
 * or with the network error. Unsubscribing aborts the request.
 */
export function sseRequest(
  url: string,
  headers: Record<string, string>,
  fetchFn: FetchFn = (input, init) => globalThis.fetch(input, init),
): Observable<SseMessage> {
  return new Observable<SseMessage>((subscriber) => {
    const ctrl = new AbortController();
    const parser = new SseParser();
    (async () => {
      const res = await fetchFn(url, {
        headers: { ...headers, Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: ctrl.signal,
      });
      if (!res.ok) throw new SseHttpError(res.status, res.statusText);
      if (!res.body) throw new Error('event stream: the response has no body');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      // Unsubscribing cancels the body too (whatever fetch implementation produced it).
      const cancel = () => void reader.cancel().catch(() => undefined);
      if (ctrl.signal.aborted) cancel();
      ctrl.signal.addEventListener('abort', cancel, { once: true });
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const m of parser.push(value)) subscriber.next(m);
        }
      } finally {
        ctrl.signal.removeEventListener('abort', cancel);
        reader.releaseLock();
      }
      if (!ctrl.signal.aborted) subscriber.complete();
    })().catch((e) => {
      if (!ctrl.signal.aborted) subscriber.error(e);
    });
    return () => ctrl.abort();
  });
}

/** Whether an error of {@link sseRequest} means the credentials were refused (401/403). */
export function isAuthError(error: unknown): boolean {
  return error instanceof SseHttpError && (error.status === 401 || error.status === 403);
}

/**
 * Like {@link sseRequest}, but reconnects: after an end at once (500 ms), after errors with
 * backoff (1 s … 15 s). A 401/403 is not retried (the configured token will not change): the
 * observable errors with the {@link SseHttpError}.
 */
export function sseStream(
  url: () => string,
  headers: Record<string, string>,
  onReconnect?: () => void,
  fetchFn?: FetchFn,
): Observable<SseMessage> {
  return defer(() => sseRequest(url(), headers, fetchFn)).pipe(
    retry({
      delay: (error, retryCount) => {
        onReconnect?.();
        if (isAuthError(error)) return throwError(() => error);
        return timer(Math.min(1000 * 2 ** (retryCount - 1), 15000));
      },
      resetOnSuccess: true,
    }),
    repeat({
      delay: () => {
        onReconnect?.();
        return timer(500);
      },
    }),
  );
}
