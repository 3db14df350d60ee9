import { HttpClient, HttpHeaders } from '@angular/common/http';
import { DestroyRef, Injectable, inject } from '@angular/core';
import { BehaviorSubject, Observable, Subject, Subscription, firstValueFrom } from 'rxjs';
import { SWITCHYARD_CONFIG, SWITCHYARD_FETCH } from './config';
import { SseMessage, isAuthError, sseStream } from './sse';

/** A commit as Switchyard reports it. */
export interface SyncCommit {
  sha: string;
  author?: string;
  message?: string;
  /** ISO 8601 time of the commit. */
  time?: string;
}

/** One rejected line of a flag file (`file:line:column: message`). */
export interface ValidationError {
  file: string;
  line?: number;
  column?: number;
  /** Path inside the document, e.g. `flags[2].rules[0].segment`. */
  path?: string;
  message: string;
}

/**
 * The seed's `GitSyncStatus`, unchanged in its first seven fields, plus the extras that
 * `GET /api/v1/sync/status` reports (all optional).
 */
export interface GitSyncStatus {
  enabled: boolean;
  repository?: string;
  branch?: string;
  lastSyncTime?: Date;
  syncStatus: 'idle' | 'syncing' | 'success' | 'error';
  errorMessage?: string;
  pollInterval?: string;

  environment?: string;
  directory?: string;
  errorClass?: string;
  lastSuccessTime?: Date;
  nextSyncTime?: Date;
  /** The commit whose flags are being served (the last good one while `syncStatus` is `error`). */
  servingCommit?: SyncCommit;
  /** The newest commit of the followed branch. */
  remoteCommit?: SyncCommit;
  consecutiveFailures?: number;
  validationErrors?: ValidationError[];
  /** Number of flags served. */
  flags?: number;
  digest?: string;
}

/** A `change` event of `/api/v1/sync/events`: a new snapshot is being served. */
export interface SyncChangeEvent {
  environment: string;
  oldDigest?: string | null;
  newDigest?: string | null;
  commit?: SyncCommit | null;
  diff?: string[];
}

const INITIAL_STATUS: GitSyncStatus = { enabled: false, syncStatus: 'idle' };

function toDate(v: unknown): Date | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const d = new Date(v);
  return isNaN(d.getTime()) ? undefined : d;
}

function orUndefined<T>(v: T | null | undefined): T | undefined {
  return v === null ? undefined : v;
}

/** Converts the server's status JSON (`GET /api/v1/sync/status`, SSE `status`) to a {@link GitSyncStatus}. */
export function parseGitSyncStatus(json: Record<string, any>): GitSyncStatus {
  const s = json['syncStatus'];
  return {
    enabled: json['enabled'] !== false,
    repository: orUndefined(json['repository']),
    branch: orUndefined(json['branch']),
    lastSyncTime: toDate(json['lastSyncTime']),
    syncStatus: s === 'syncing' || s === 'success' || s === 'error' ? s : 'idle',
    errorMessage: orUndefined(json['errorMessage']),
    pollInterval: orUndefined(json['pollInterval']),
    environment: orUndefined(json['environment']),
    directory: orUndefined(json['directory']),
    errorClass: orUndefined(json['errorClass']),
    lastSuccessTime: toDate(json['lastSuccessTime']),
    nextSyncTime: toDate(json['nextSyncTime']),
    servingCommit: orUndefined(json['servingCommit']),
    remoteCommit: orUndefined(json['remoteCommit']),
    consecutiveFailures: orUndefined(json['consecutiveFailures']),
    validationErrors: orUndefined(json['validationErrors']),
    flags: orUndefined(json['flags']),
    digest: orUndefined(json['digest']),
  };
}

/**
 * Tracks Switchyard's Git synchronisation. Keeps the seed's imperative API (`startSync()`,
 * `syncSuccess()`, …) and, once {@link connect} has run (`provideSwitchyard` does it), feeds
 * `status$` live: first `GET /api/v1/sync/status`, then the `status` events of
 * `GET /api/v1/sync/events`, reconnecting by itself.
 */
@Injectable({ providedIn: 'root' })
export class GitSyncService {
  private readonly config = inject(SWITCHYARD_CONFIG, { optional: true });
  private readonly http = inject(HttpClient);
  private readonly fetchFn = inject(SWITCHYARD_FETCH);
  private readonly state = new BehaviorSubject<GitSyncStatus>({ ...INITIAL_STATUS });
  private readonly changes = new Subject<SyncChangeEvent>();
  private readonly connected = new BehaviorSubject<boolean>(false);
  private stream?: Subscription;
  /** Environment whose events are followed; learnt from the first status when not configured. */
  private environment?: string;

  /** The current status, and every later one. */
  readonly status$: Observable<GitSyncStatus> = this.state.asObservable();
  /** `change` events (a new snapshot is served) of the followed environment. */
  readonly changes$: Observable<SyncChangeEvent> = this.changes.asObservable();
  /** Whether the event stream is open. */
  readonly connected$: Observable<boolean> = this.connected.asObservable();

  constructor() {
    this.environment = this.config?.environment;
    inject(DestroyRef).onDestroy(() => this.disconnect());
  }

  // ---- the seed's API -------------------------------------------------------------------

  getStatus(): GitSyncStatus {
    return this.state.value;
  }

  startSync(): void {
    this.updateStatus({ syncStatus: 'syncing' });
  }

  syncSuccess(): void {
    this.updateStatus({
      syncStatus: 'success',
      lastSyncTime: new Date(),
      errorMessage: undefined,
      validationErrors: undefined,
    });
  }

  syncError(error: unknown): void {
    const message =
      error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
    this.updateStatus({ syncStatus: 'error', lastSyncTime: new Date(), errorMessage: message });
  }

  updateStatus(status: Partial<GitSyncStatus>): void {
    this.state.next({ ...this.state.value, ...status });
  }

  // ---- live feed from Switchyard ---------------------------------------------------------

  /** Starts following the server (idempotent). */
  connect(): void {
    if (this.stream || !this.config) return;
    const stream = (this.stream = new Subscription());
    // The status first (it names the default environment), then the event stream.
    this.refresh()
      .catch(() => undefined)
      .finally(() => {
        if (stream.closed) return;
        stream.add(
          sseStream(
            () => `${this.config!.url}/api/v1/sync/events`,
            this.config!.headers,
            () => this.connected.next(false),
            this.fetchFn,
          ).subscribe({
            next: (m) => this.onEvent(m),
            // Only a refused token ends the stream (other errors are retried): say so.
            error: (e) => {
              this.connected.next(false);
              if (isAuthError(e)) this.syncError(`${e.message}: check the token given to provideSwitchyard`);
            },
          }),
        );
      });
  }

  /** Stops following the server. */
  disconnect(): void {
    this.stream?.unsubscribe();
    this.stream = undefined;
    this.connected.next(false);
  }

  /** Reads `GET /api/v1/sync/status` once and publishes it. */
  async refresh(): Promise<GitSyncStatus> {
    const json = await firstValueFrom(
      this.http.get<Record<string, any>>(this.url('/api/v1/sync/status'), { headers: this.headers() }),
    );
    this.accept(json);
    return this.state.value;
  }

  /** Asks the server to sync now (`POST /api/v1/sync`); the outcome arrives on `status$`. */
  async requestSync(): Promise<{ environment: string; triggered: boolean }> {
    this.startSync();
    try {
      return await firstValueFrom(
        this.http.post<{ environment: string; triggered: boolean }>(
          this.url('/api/v1/sync'),
          null,
          { headers: this.headers() },
        ),
      );
    } catch (e: any) {
      this.syncError(e?.error?.message ?? e?.message ?? e);
      throw e;
    }
  }

  private url(path: string): string {
    if (!this.config) throw new Error('GitSyncService: call provideSwitchyard({ url }) first');
    const env = this.config.environment;
    return `${this.config.url}${path}${env ? `?environment=${encodeURIComponent(env)}` : ''}`;
  }

  private headers(): HttpHeaders {
    return new HttpHeaders(this.config?.headers ?? {});
  }

  private onEvent(m: SseMessage): void {
    this.connected.next(true);
    let json: any;
    try {
      json = JSON.parse(m.data);
    } catch {
      return;
    }
    if (m.event === 'status') {
      this.accept(json);
    } else if (m.event === 'change') {
      if (!this.environment || json.environment === this.environment) this.changes.next(json);
    }
  }

  private accept(json: Record<string, any>): void {
    const env = json['environment'];
    if (!this.environment && typeof env === 'string') this.environment = env;
    if (env && this.environment && env !== this.environment) return;
    this.state.next(parseGitSyncStatus(json));
  }
}
