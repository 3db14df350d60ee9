import { Injectable } from '@angular/core';
import type { FlagMetadata, Provider } from '@openfeature/web-sdk';
import type { FetchFn } from './sse';

/** One flag of an OFREP bulk evaluation response, as the server sent it. */
export interface OfrepFlagResult {
  key: string;
  value?: unknown;
  variant?: string;
  reason?: string;
  errorCode?: string;
  errorDetails?: string;
  metadata?: FlagMetadata;
}

const BULK_PATH = '/ofrep/v1/evaluate/flags';

function requestUrl(input: RequestInfo | URL): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/**
 * The flags of the last OFREP bulk evaluation (`POST /ofrep/v1/evaluate/flags`), read from the
 * responses themselves through the provider's public `fetchImplementation` option, so the library
 * never reads the provider's private cache. `FlagService` uses it to list every flag the server
 * evaluated and to know each one's type.
 *
 * Responses are taken in request order: the answer to an older request (an older context) that
 * arrives after a newer one is ignored, as the provider does; a 304 keeps the flags.
 */
@Injectable({ providedIn: 'root' })
export class OfrepFlagCache {
  private flags = new Map<string, OfrepFlagResult>();
  private requested = 0;
  private applied = 0;
  /** The provider whose requests go through {@link fetchFor}; the cache speaks only for it. */
  private provider?: Provider;

  /** Whether the cache holds the flags of `provider` (it is the one the cache was attached to). */
  followsProvider(provider: Provider | undefined): boolean {
    return !!provider && provider === this.provider;
  }

  /** Whether a bulk response body was recorded (a 304 or the provider's local cache gives none). */
  get loaded(): boolean {
    return this.applied > 0;
  }

  /** Declares the provider whose bulk responses pass through this cache. */
  attach(provider: Provider): void {
    this.provider = provider;
  }

  /** The keys of the last bulk response, sorted. */
  keys(): string[] {
    return [...this.flags.keys()].sort();
  }

  /** The server's result for `key` in the last bulk response. */
  get(key: string): OfrepFlagResult | undefined {
    return this.flags.get(key);
  }

  /** A `fetch` for the OFREP provider that records bulk responses here, then hands them on unread. */
  fetchFor(inner: FetchFn = (input, init) => globalThis.fetch(input, init)): FetchFn {
    return async (input, init) => {
      const bulk = requestUrl(input).split('?')[0].endsWith(BULK_PATH);
      const seq = bulk ? ++this.requested : 0;
      const res = await inner(input, init);
      if (bulk && res.status === 200) await this.record(seq, res.clone());
      return res;
    };
  }

  /** Replaces the flags with those of a bulk response body (test and custom-transport use). */
  accept(body: unknown, seq = ++this.requested): void {
    if (seq < this.applied) return;
    const list = (body as { flags?: unknown })?.flags;
    if (!Array.isArray(list)) return;
    const next = new Map<string, OfrepFlagResult>();
    for (const f of list) {
      if (f && typeof f === 'object' && typeof (f as OfrepFlagResult).key === 'string') {
        next.set((f as OfrepFlagResult).key, f as OfrepFlagResult);
      }
    }
    this.applied = seq;
    this.flags = next;
  }

  private async record(seq: number, res: Response): Promise<void> {
    try {
      this.accept(await res.json(), seq);
    } catch {
      // Not JSON: the provider reports that response itself.
    }
  }
}
