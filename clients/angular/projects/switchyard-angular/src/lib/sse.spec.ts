import { SseEventTooLargeError, SseHttpError, SseMessage, SseParser, sseRequest, sseStream } from './sse';
import { StreamBody, recordingFetch } from './testing/fetch';

describe('SseParser', () => {
  it('parses events split across chunks, with CRLF, comments and multi-line data', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\n\nevent: sta')).toEqual([]);
    expect(p.push('tus\r\ndata: {"a":\r')).toEqual([]);
    const out = p.push('\ndata: 1}\r\nid: 7\r\n\r\ndata: plain\n\n');
    expect(out).toEqual([
      { event: 'status', data: '{"a":\n1}', id: '7' },
      { event: 'message', data: 'plain', id: '7' },
    ]);
  });

  it('ignores events without data and unknown fields', () => {
    const p = new SseParser();
    expect(p.push('event: x\nretry: 10\n\nfoo: bar\ndata:x\n\n')).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('keeps only the unfinished event: memory stays flat over 100,000 events', () => {
    const p = new SseParser();
    const status = `event: status\ndata: ${JSON.stringify({ environment: 'default', syncStatus: 'success', digest: 'x'.repeat(200) })}\n\n`;
    let events = 0;
    let maxRetained = 0;
    for (let i = 0; i < 100_000; i++) {
      // Chunks cut at arbitrary places, as the network delivers them.
      const cut = i % status.length;
      events += p.push(status.slice(0, cut)).length;
      maxRetained = Math.max(maxRetained, p.retainedChars);
      events += p.push(status.slice(cut)).length;
      maxRetained = Math.max(maxRetained, p.retainedChars);
    }
    expect(events).toBe(100_000);
    expect(maxRetained).toBeLessThanOrEqual(status.length);
    expect(p.retainedChars).toBe(0);
  });

  it('refuses an event that never ends instead of growing without bound', () => {
    const p = new SseParser(1000);
    expect(() => {
      for (let i = 0; i < 100; i++) p.push('data: ' + 'y'.repeat(50) + '\n');
    }).toThrow(SseEventTooLargeError);
    expect(p.retainedChars).toBe(0);
    const q = new SseParser(1000);
    expect(() => q.push('z'.repeat(1001))).toThrow(SseEventTooLargeError);
  });
});

describe('sseRequest (fetch + streaming reader)', () => {
  it('delivers events chunk by chunk, sends the headers and completes with the stream', async () => {
    const body = new StreamBody();
    const { fetchFn, calls } = recordingFetch(() => body.response());
    const got: SseMessage[] = [];
    let done = false;
    sseRequest('http://sy/api/v1/sync/events', { Authorization: 'Bearer t' }, fetchFn).subscribe({
      next: (m) => got.push(m),
      complete: () => (done = true),
    });
    await until(() => calls.length === 1);
    const headers = new Headers(calls[0].init?.headers);
    expect(calls[0].url).toBe('http://sy/api/v1/sync/events');
    expect(headers.get('Accept')).toBe('text/event-stream');
    expect(headers.get('Authorization')).toBe('Bearer t');
    body.write('event: change\ndata: {"environment":"default"}\n\nevent: sta');
    await until(() => got.length === 1);
    expect(got[0].event).toBe('change');
    body.write('tus\ndata: {}\n\n');
    await until(() => got.length === 2);
    body.write('data: last\n\n');
    body.end();
    await until(() => done);
    expect(got.map((m) => m.data)).toEqual(['{"environment":"default"}', '{}', 'last']);
  });

  it('errors with the HTTP status on a refused request', async () => {
    const { fetchFn } = recordingFetch(() => new Response('no', { status: 401, statusText: 'Unauthorized' }));
    const error = await new Promise<unknown>((resolve) => sseRequest('http://sy/e', {}, fetchFn).subscribe({ error: resolve }));
    expect(error).toBeInstanceOf(SseHttpError);
    expect((error as SseHttpError).status).toBe(401);
  });

  it('unsubscribing aborts the request and cancels the body', async () => {
    const body = new StreamBody();
    const { fetchFn, calls } = recordingFetch(() => body.response());
    const sub = sseRequest('http://sy/e', {}, fetchFn).subscribe();
    await until(() => calls.length === 1);
    body.write(': hello\n\n');
    await new Promise((r) => setTimeout(r, 10));
    sub.unsubscribe();
    expect(calls[0].init?.signal?.aborted).toBe(true);
    await until(() => body.cancelled);
  });
});

describe('sseStream', () => {
  it('reconnects after the server ends the stream and after a network error', async () => {
    const bodies: StreamBody[] = [];
    let n = 0;
    const { fetchFn, calls } = recordingFetch(() => {
      n++;
      if (n === 2) return Promise.reject(new TypeError('Failed to fetch'));
      const b = new StreamBody();
      bodies.push(b);
      return b.response();
    });
    const got: string[] = [];
    let reconnects = 0;
    const sub = sseStream(() => 'http://sy/e', {}, () => reconnects++, fetchFn).subscribe((m) => got.push(m.data));
    await until(() => bodies.length === 1);
    bodies[0].write('data: one\n\n');
    bodies[0].end();
    await until(() => bodies.length === 2, 3000);
    bodies[1].write('data: two\n\n');
    await until(() => got.length === 2);
    expect(got).toEqual(['one', 'two']);
    expect(calls.length).toBe(3);
    expect(reconnects).toBe(2); // end, error
    sub.unsubscribe();
  });

  it('does not retry a 401: the token will not change by itself', async () => {
    const { fetchFn, calls } = recordingFetch(() => new Response('', { status: 401 }));
    let error: unknown;
    sseStream(() => 'http://sy/e', {}, undefined, fetchFn).subscribe({ error: (e) => (error = e) });
    await until(() => error !== undefined);
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls.length).toBe(1);
    expect((error as SseHttpError).status).toBe(401);
  });
});

/** Waits for a condition (polling every 5 ms), failing after timeoutMs. */
async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

