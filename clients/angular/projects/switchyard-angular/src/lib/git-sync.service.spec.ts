import { HttpEventType, provideHttpClient } from '@angular/common/http';
import { HttpTestingController, TestRequest, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { SWITCHYARD_CONFIG, resolveSwitchyardConfig } from './config';
import { GitSyncService, GitSyncStatus, SyncChangeEvent, parseGitSyncStatus } from './git-sync.service';

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

function push(req: TestRequest, state: { text: string }, chunk: string) {
  state.text += chunk;
  req.event({ type: HttpEventType.DownloadProgress, loaded: state.text.length, partialText: state.text });
}

describe('GitSyncService', () => {
  let service: GitSyncService;
  let ctl: HttpTestingController;

  function setup(env?: string) {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        {
          provide: SWITCHYARD_CONFIG,
          useValue: resolveSwitchyardConfig({ url: 'http://sy:8080/', environment: env, token: 'tok' }),
        },
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

    const sse = ctl.expectOne('http://sy:8080/api/v1/sync/events');
    expect(sse.request.headers.get('Accept')).toBe('text/event-stream');
    const state = { text: '' };
    const changes: SyncChangeEvent[] = [];
    service.changes$.subscribe((c) => changes.push(c));

    // Another environment's status is ignored; ours is taken.
    push(sse, state, `event: status\ndata: ${JSON.stringify({ ...STATUS, environment: 'staging', syncStatus: 'error' })}\n\n`);
    expect(service.getStatus().syncStatus).toBe('success');
    const bad = {
      ...STATUS,
      syncStatus: 'error',
      errorMessage: 'features.yml: invalid',
      validationErrors: [{ file: 'features.yml', line: 12, column: 7, path: 'flags[0]', message: 'unknown segment' }],
    };
    push(sse, state, `event: status\ndata: ${JSON.stringify(bad)}\n\n`);
    expect(service.getStatus().syncStatus).toBe('error');
    expect(service.getStatus().validationErrors?.[0].line).toBe(12);
    expect(service.getStatus().servingCommit?.sha).toBe('abc1234def');

    push(sse, state, `: keep-alive\n\nevent: change\ndata: {"environment":"staging","diff":[]}\n\n`);
    push(sse, state, `event: change\ndata: {"environment":"production","oldDigest":"a","newDigest":"b","diff":["flag x enabled"]}\n\n`);
    expect(changes.map((c) => c.newDigest)).toEqual(['b']);
    ctl.verify();
  });

  it('learns the default environment from the first status when none is configured', async () => {
    setup();
    service.connect();
    ctl.expectOne('http://sy:8080/api/v1/sync/status').flush({ ...STATUS, environment: 'default' });
    await settle();
    const sse = ctl.expectOne('http://sy:8080/api/v1/sync/events');
    const state = { text: '' };
    push(sse, state, `event: status\ndata: ${JSON.stringify({ ...STATUS, environment: 'other', branch: 'x' })}\n\n`);
    push(sse, state, `event: status\ndata: ${JSON.stringify({ ...STATUS, environment: 'default', branch: 'dev' })}\n\n`);
    expect(service.getStatus().branch).toBe('dev');
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
