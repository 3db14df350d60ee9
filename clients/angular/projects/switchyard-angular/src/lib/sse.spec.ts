import { HttpBackend, HttpEventType, provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { SseMessage, SseParser, sseRequest, sseStream } from './sse';

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
});

describe('sseRequest', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
  });

  it('streams events from download progress and completes with the response', () => {
    const backend = TestBed.inject(HttpBackend);
    const ctl = TestBed.inject(HttpTestingController);
    const got: SseMessage[] = [];
    let done = false;
    sseRequest(backend, 'http://sy/api/v1/sync/events', { Authorization: 'Bearer t' }).subscribe({
      next: (m) => got.push(m),
      complete: () => (done = true),
    });
    const req = ctl.expectOne('http://sy/api/v1/sync/events');
    expect(req.request.headers.get('Accept')).toBe('text/event-stream');
    expect(req.request.headers.get('Authorization')).toBe('Bearer t');
    let text = 'event: change\ndata: {"environment":"default"}\n\n';
    req.event({ type: HttpEventType.DownloadProgress, loaded: text.length, partialText: text });
    expect(got.map((m) => m.event)).toEqual(['change']);
    text += 'event: status\ndata: {}\n\n';
    req.event({ type: HttpEventType.DownloadProgress, loaded: text.length, partialText: text });
    expect(got.map((m) => m.event)).toEqual(['change', 'status']);
    req.flush(text + 'data: last\n\n');
    expect(got.map((m) => m.data)).toEqual(['{"environment":"default"}', '{}', 'last']);
    expect(done).toBe(true);
    ctl.verify();
  });
});

describe('sseStream', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
  });

  it('reconnects after the server ends the stream and after an error', async () => {
    const ctl = TestBed.inject(HttpTestingController);
    const got: string[] = [];
    let reconnects = 0;
    const sub = sseStream(TestBed.inject(HttpBackend), () => 'http://sy/api/v1/sync/events', {}, () => reconnects++).subscribe((m) => got.push(m.data));
    ctl.expectOne('http://sy/api/v1/sync/events').flush('data: one\n\n');
    await new Promise((r) => setTimeout(r, 600));
    ctl.expectOne('http://sy/api/v1/sync/events').error(new ProgressEvent('error'));
    await new Promise((r) => setTimeout(r, 1100));
    ctl.expectOne('http://sy/api/v1/sync/events').flush('data: two\n\n');
    expect(got).toEqual(['one', 'two']);
    expect(reconnects).toBe(3); // end, error, end (the last one is waiting to reconnect)
    sub.unsubscribe();
  });
});
