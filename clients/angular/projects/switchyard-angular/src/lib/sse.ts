import { HttpBackend, HttpClient, HttpEventType, HttpHeaders } from '@angular/common/http';
import { Observable, defer, retry, repeat, timer } from 'rxjs';

/** One Server-Sent Event. */
export interface SseMessage {
  /** The `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines joined by `\n`. */
  data: string;
  id?: string;
}

/** Incremental `text/event-stream` parser (WHATWG HTML §9.2.6): feed it chunks, get whole events. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id?: string;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A lone trailing \r may be the first half of \r\n: wait for more input.
      if (this.buffer[nl] === '\r' && nl === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (this.data.length > 0) {
          out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
        }
        this.data = [];
        this.event = '';
        continue;
      }
      if (line.startsWith(':')) continue; // comment / keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id') this.id = value;
    }
    return out;
  }
}

/**
 * Reads a Server-Sent Events stream with Angular's HTTP backend (so custom headers such as
 * `Authorization` can be sent, which `EventSource` cannot, and tests can use
 * `HttpTestingController`). The request goes straight to `HttpBackend`, not through the
 * interceptor chain, so an endless stream does not keep the application "unstable"
 * (pending HTTP tasks block `whenStable()`).
 *
 * Completes when the server closes the stream; errors on HTTP or network errors.
 */
export function sseRequest(
  backend: HttpBackend,
  url: string,
  headers: Record<string, string>,
): Observable<SseMessage> {
  const http = new HttpClient(backend);
  return new Observable<SseMessage>((subscriber) => {
    const parser = new SseParser();
    let seen = 0;
    const feed = (text: string | undefined | null) => {
      if (text == null || text.length <= seen) return;
      const chunk = text.slice(seen);
      seen = text.length;
      for (const m of parser.push(chunk)) subscriber.next(m);
    };
    const sub = http
      .get(url, {
        headers: new HttpHeaders({ ...headers, Accept: 'text/event-stream' }),
        observe: 'events',
        responseType: 'text',
        reportProgress: true,
      })
      .subscribe({
        next: (ev) => {
          if (ev.type === HttpEventType.DownloadProgress) {
            feed(ev.partialText);
          } else if (ev.type === HttpEventType.Response) {
            feed(ev.body);
            subscriber.complete();
          }
        },
        error: (e) => subscriber.error(e),
      });
    return () => sub.unsubscribe();
  });
}

/** Like {@link sseRequest}, but reconnects forever: after an end at once, after errors with backoff (1 s … 15 s). */
export function sseStream(
  backend: HttpBackend,
  url: () => string,
  headers: Record<string, string>,
  onReconnect?: () => void,
): Observable<SseMessage> {
  return defer(() => sseRequest(backend, url(), headers)).pipe(
    retry({
      delay: (_error, retryCount) => {
        onReconnect?.();
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
