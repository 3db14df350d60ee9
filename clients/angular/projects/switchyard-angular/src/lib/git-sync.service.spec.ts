import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { SWITCHYARD_CONFIG, SWITCHYARD_FETCH, resolveSwitchyardConfig } from './config';
import { GitSyncService, GitSyncStatus, SyncChangeEvent, parseGitSyncStatus } from './git-sync.service';
import { FetchCall, StreamBody, recordingFetch } from './testing/fetch';

const STATUS = {
  environment: 'production',
  enabled: true,
  repository: 'https://git.example/flags.git',
  branch: 'main',
  directory: '',
  pollInterval: '30s',
  syncStatus: 'success',
  lastSyncTime: '2026-01-21T14:45:00Z',
  errorMessage: null,
  errorClass: null,
  lastSuccessTime: '2026-01-21T14:45:00Z',
  nextSyncTime: '2026-01-21T14:45:30Z',
  servingCommit: { sha: 'abc1234def', author: 'A', message: 'Enable dark mode', time: '2026-01-21T14:44:00Z' },
  remoteCommit: { sha: 'abc1234def', author: 'A', message: 'Enable dark mode', time: '2026-01-21T14:44:00Z' },
  consecutiveFailures: 0,
  validationErrors: [],
  flags: 4,
  digest: 'd1',
};

/** Writes a chunk to the event stream (the service reads it asynchronously). */
function push(body: StreamBody, chunk: string) {
  body.write(chunk);
}

describe('GitSyncService', () => {
  let service: GitSyncService;
  let ctl: HttpTestingController;
  let streams: StreamBody[];
  let streamCalls: FetchCall[];

  function setup(env?: string, answer?: () => Response) {
    streams = [];
    const recorder = recordingFetch(() => {
      if (answer) return answer();
      const body = new StreamBody();
      streams.push(body);
      return body.response();
    });
    streamCalls = recorder.calls;
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        {
          provide: SWITCHYARD_CONFIG,
          useValue: resolveSwitchyardConfig({ url: 'http://sy:8080/', environment: env, token: 'tok' }),
        },
        { provide: SWITCHYARD_FETCH, useValue: recorder.fetchFn },
      ],
    });
    service = TestBed.inject(GitSyncService);
    ctl = TestBed.inject(HttpTestingController);
  }

  afterEach(() => service.disconnect());

  it('keeps the seed API: getStatus, startSync, syncSuccess, syncError, updateStatus', () => {
    setup();
    const seen: GitSyncStatus[] = [];
    service.status$.subscribe((s) => seen.push(s));
    expect(service.getStatus()).toEqual({ enabled: false, syncStatus: 'idle' });
    service.updateStatus({ enabled: true, repository: 'r', branch: 'main', pollInterval: '30s' });
    service.startSync();
    expect(service.getStatus().syncStatus).toBe('syncing');
    service.syncSuccess();
    expect(service.getStatus().syncStatus).toBe('success');
    expect(service.getStatus().lastSyncTime).toBeInstanceOf(Date);
    service.syncError(new Error('boom'));
    expect(service.getStatus()).toEqual(
      partial({ syncStatus: 'error', errorMessage: 'boom', repository: 'r', branch: 'main' }),
    );
    service.syncError('plain');
    expect(service.getStatus().errorMessage).toBe('plain');
    expect(seen.map((s) => s.syncStatus)).toEqual(['idle', 'idle', 'syncing', 'success', 'error', 'error']);
  });

  it('parses the server status: dates, nulls, extras', () => {
    const s = parseGitSyncStatus(STATUS);
    expect(s.lastSyncTime).toEqual(new Date('2026-01-21T14:45:00Z'));
    expect(s.errorMessage).toBeUndefined();
    expect(s.servingCommit?.sha).toBe('abc1234def');
    expect(s.flags).toBe(4);
    expect(parseGitSyncStatus({ syncStatus: 'weird' }).syncStatus).toBe('idle');
  });

  it('feeds status$ from GET /api/v1/sync/status, then the status events of /api/v1/sync/events', async () => {
    setup('production');
    const seen: GitSyncStatus[] = [];
    service.status$.subscribe((s) => seen.push(s));
    service.connect();
    const get = ctl.expectOne('http://sy:8080/api/v1/sync/status?environment=production');
    expect(get.request.method).toBe('GET');
    expect(get.request.headers.get('Authorization')).toBe('Bearer tok');
    expect(get.request.headers.get('X-Flipt-Environment')).toBe('production');
    get.flush(STATUS);
    await settle();
    expect(service.getStatus().syncStatus).toBe('success');
    expect(service.getStatus().repository).toBe('https://git.example/flags.git');

    await until(() => streams.length === 1);
    const sse = streams[0];
    expect(streamCalls[0].url).toBe('http://sy:8080/api/v1/sync/events');
    const sent = new Headers(streamCalls[0].init?.headers);
    expect(sent.get('Accept')).toBe('text/event-stream');
    expect(sent.get('Authorization')).toBe('Bearer tok');
    const changes: SyncChangeEvent[] = [];
    service.changes$.subscribe((c) => changes.push(c));

    // Another environment's status is ignored; ours is taken.
    push(sse, `event: status\ndata: ${JSON.stringify({ ...STATUS, environment: 'staging', syncStatus: 'error', branch: 'x' })}\n\n`);
    const bad = {
      ...STATUS,
      syncStatus: 'error',
      errorMessage: 'features.yml: invalid',
      validationErrors: [{ file: 'features.yml', line: 12, column: 7, path: 'flags[0]', message: 'unknown segment' }],
    };
    push(sse, `event: status\ndata: ${JSON.stringify(bad)}\n\n`);
    await until(() => service.getStatus().syncStatus === 'error');
    expect(seen.some((st) => st.branch === 'x')).toBe(false);
    expect(service.getStatus().validationErrors?.[0].line).toBe(12);
    expect(service.getStatus().servingCommit?.sha).toBe('abc1234def');

    push(sse, `: keep-alive\n\nevent: change\ndata: {"environment":"staging","diff":[]}\n\n`);
    push(sse, `event: change\ndata: {"environment":"production","oldDigest":"a","newDigest":"b","diff":["flag x enabled"]}\n\n`);
    await until(() => changes.length > 0);
    expect(changes.map((c) => c.newDigest)).toEqual(['b']);
    ctl.verify();
  });

  it('learns the default environment from the first status when none is configured', async () => {
    setup();
    service.connect();
    ctl.expectOne('http://sy:8080/api/v1/sync/status').flush({ ...STATUS, environment: 'default' });
    await until(() => streams.length === 1);
    const sse = streams[0];
    const seen: GitSyncStatus[] = [];
    service.status$.subscribe((st) => seen.push(st));
    push(sse, `event: status\ndata: ${JSON.stringify({ ...STATUS, environment: 'other', branch: 'x' })}\n\n`);
    push(sse, `event: status\ndata: ${JSON.stringify({ ...STATUS, environment: 'default', branch: 'dev' })}\n\n`);
    await until(() => service.getStatus().branch === 'dev');
    expect(seen.some((st) => st.branch === 'x')).toBe(false);
  });

  it('a refused event stream (401) is not retried and shows as an error', async () => {
    setup('production', () => new Response('{"message":"token refused"}', { status: 401, statusText: 'Unauthorized' }));
    const connected: boolean[] = [];
    service.connected$.subscribe((c) => connected.push(c));
    service.connect();
    ctl.expectOne('http://sy:8080/api/v1/sync/status?environment=production').flush(STATUS);
    await until(() => service.getStatus().syncStatus === 'error');
    expect(service.getStatus().errorMessage).toMatch(/HTTP 401.*check the token/);
    await new Promise((r) => setTimeout(r, 1500)); // a window in which a retry would have happened
    expect(streamCalls.length).toBe(1);
    expect(connected.at(-1)).toBe(false);
  });

  it('requestSync POSTs /api/v1/sync and marks the status as syncing', async () => {
    setup('production');
    const p = service.requestSync();
    expect(service.getStatus().syncStatus).toBe('syncing');
    const req = ctl.expectOne('http://sy:8080/api/v1/sync?environment=production');
    expect(req.request.method).toBe('POST');
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    req.flush({ environment: 'production', triggered: true }, { status: 202, statusText: 'Accepted' });
    await expect(p).resolves.toEqual({ environment: 'production', triggered: true });
  });

  it('requestSync reports a refused sync as an error', async () => {
    setup();
    const p = service.requestSync();
    ctl.expectOne('http://sy:8080/api/v1/sync').flush(
      { code: 16, message: 'missing token' },
      { status: 401, statusText: 'Unauthorized' },
    );
    await expect(p).rejects.toBeTruthy();
    expect(service.getStatus()).toEqual(partial({ syncStatus: 'error', errorMessage: 'missing token' }));
  });
});

function partial(o: object) {
  return expect.objectContaining(o);
}

function settle() {
  return new Promise((r) => setTimeout(r, 0));
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
