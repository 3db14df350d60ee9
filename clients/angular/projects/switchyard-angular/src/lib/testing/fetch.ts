// Test helpers (used by the *.spec.ts files only; not exported by the library): a `fetch` that
// records its calls and answers with real `Response` objects, and a response body that the test
// writes to chunk by chunk, as a server streaming Server-Sent Events would.

/** One recorded call of {@link recordingFetch}. */
export interface FetchCall {
  url: string;
  init?: RequestInit;
  request?: Request;
}

/** A `fetch` answering each call with `answer(call)`; the calls are kept in order. */
export function recordingFetch(answer: (call: FetchCall) => Response | Promise<Response>) {
  const calls: FetchCall[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : undefined;
    const call: FetchCall = { url: request ? request.url : String(input), init, request };
    calls.push(call);
    return answer(call);
  };
  return { fetchFn, calls };
}

/** A streamed `text/event-stream` body: write() chunks, end() it; `cancelled` once the reader gave up. */
export class StreamBody {
  cancelled = false;
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  private readonly encoder = new TextEncoder();
  private readonly stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      this.controller = c;
    },
    cancel: () => {
      this.cancelled = true;
    },
  });

  response(status = 200): Response {
    return new Response(this.stream, { status, headers: { 'Content-Type': 'text/event-stream' } });
  }

  write(text: string): void {
    this.controller?.enqueue(this.encoder.encode(text));
  }

  end(): void {
    this.controller?.close();
  }
}
