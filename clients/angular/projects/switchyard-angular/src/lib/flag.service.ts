import { DestroyRef, Injectable, inject } from '@angular/core';
import {
  EvaluationContext,
  EvaluationDetails,
  FlagMetadata,
  JsonValue,
  OpenFeature,
  ProviderEvents,
  ProviderStatus,
} from '@openfeature/web-sdk';
import { BehaviorSubject, Observable, distinctUntilChanged, map, shareReplay } from 'rxjs';
import { SWITCHYARD_CONFIG } from './config';
import { OfrepFlagCache, OfrepFlagResult } from './ofrep-flag-cache';

/** One evaluated flag as {@link FlagService.flags$} reports it. */
export interface EvaluatedFlag {
  value: JsonValue;
  variant?: string;
  reason?: string;
  errorCode?: string;
  metadata?: FlagMetadata;
}

/** All evaluated flags: key → result. */
export type FlagMap = Record<string, EvaluatedFlag>;

const TRUE_WORDS = new Set(['true', 'on', 'enabled', 'yes']);
const FALSE_WORDS = new Set(['false', 'off', 'disabled', 'no']);

function sameJson<T>(a: T, b: T): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Flag values as observables, re-evaluated whenever OpenFeature reports that the provider became
 * ready, the configuration changed (a Switchyard push over SSE) or the context changed.
 *
 * Works with the OFREP web provider that `provideSwitchyard` installs (then `flags$` lists every
 * flag the server evaluated) and with any other OpenFeature web provider (then `flags$` lists the
 * configured `flagKeys` and every key asked for through `boolean$` / `variant$`).
 */
@Injectable({ providedIn: 'root' })
export class FlagService {
  private readonly config = inject(SWITCHYARD_CONFIG, { optional: true });
  private readonly client = OpenFeature.getClient();
  private readonly bulk = inject(OfrepFlagCache);
  private readonly knownKeys = new Set<string>(this.config?.flagKeys ?? []);
  private readonly tick = new BehaviorSubject<number>(0);
  private readonly handlers: Array<[ProviderEvents, () => void]> = [];

  /** Every evaluated flag: key → {value, variant, reason}; emits on every change. */
  readonly flags$: Observable<FlagMap> = this.tick.pipe(
    map(() => this.evaluateAll()),
    distinctUntilChanged(sameJson),
    shareReplay({ bufferSize: 1, refCount: true }),
  );

  constructor() {
    const bump = () => this.tick.next(this.tick.value + 1);
    for (const ev of [
      ProviderEvents.Ready,
      ProviderEvents.ConfigurationChanged,
      ProviderEvents.ContextChanged,
      ProviderEvents.Stale,
      ProviderEvents.Error,
    ]) {
      this.client.addHandler(ev, bump);
      this.handlers.push([ev, bump]);
    }
    inject(DestroyRef).onDestroy(() => {
      for (const [ev, h] of this.handlers) this.client.removeHandler(ev, h);
    });
  }

  /**
   * A boolean flag. Variant flags whose variant (or string value) is `enabled`/`on`/`true`/`yes`
   * or `disabled`/`off`/`false`/`no` count too, so the seed's enabled/disabled variant flags work.
   */
  boolean$(key: string, fallback: boolean): Observable<boolean> {
    this.track(key);
    return this.flags$.pipe(
      map(() => this.booleanValue(key, fallback)),
      distinctUntilChanged(),
    );
  }

  /** The variant of a flag (for Switchyard's variant flags the variant key), or `fallback`. */
  variant$(key: string, fallback: string): Observable<string> {
    this.track(key);
    return this.flags$.pipe(
      map(() => this.variantValue(key, fallback)),
      distinctUntilChanged(),
    );
  }

  /** The full evaluation of one flag. */
  flag$(key: string): Observable<EvaluatedFlag | undefined> {
    this.track(key);
    return this.flags$.pipe(
      map((flags) => flags[key]),
      distinctUntilChanged(sameJson),
    );
  }

  /** Replaces the OpenFeature evaluation context; flags are re-evaluated by the server. */
  setContext(context: EvaluationContext): Promise<void> {
    return OpenFeature.setContext(context);
  }

  /** The current evaluation context. */
  getContext(): EvaluationContext {
    return OpenFeature.getContext();
  }

  /** Re-fetches the flags for the current context (the same as setting it again). */
  refresh(): Promise<void> {
    return OpenFeature.setContext({ ...OpenFeature.getContext() });
  }

  /** Evaluates every known flag now. */
  snapshot(): FlagMap {
    return this.evaluateAll();
  }

  private track(key: string): void {
    if (!this.knownKeys.has(key)) {
      this.knownKeys.add(key);
      this.tick.next(this.tick.value + 1);
    }
  }

  private booleanValue(key: string, fallback: boolean): boolean {
    const f = this.evaluateOne(key);
    if (!f || f.errorCode) return fallback;
    if (typeof f.value === 'boolean') return f.value;
    for (const word of [f.variant, typeof f.value === 'string' ? f.value : undefined]) {
      const w = (word ?? '').toLowerCase();
      if (TRUE_WORDS.has(w)) return true;
      if (FALSE_WORDS.has(w)) return false;
    }
    return fallback;
  }

  private variantValue(key: string, fallback: string): string {
    const f = this.evaluateOne(key);
    if (!f || f.errorCode) return fallback;
    if (f.variant) return f.variant;
    return typeof f.value === 'string' ? f.value : fallback;
  }

  /**
   * The last OFREP bulk response, when the current provider is the one `provideSwitchyard` made.
   * A ready provider whose values came without a recorded body (its local cache, then a 304) is
   * asked type by type instead, as any other provider.
   */
  private cache(): OfrepFlagCache | undefined {
    if (!this.bulk.followsProvider(OpenFeature.getProvider())) return undefined;
    if (!this.bulk.loaded && this.client.providerStatus === ProviderStatus.READY) return undefined;
    return this.bulk;
  }

  /** The keys of the last bulk response plus the keys asked for. */
  private keys(): string[] {
    const keys = new Set(this.knownKeys);
    for (const k of this.cache()?.keys() ?? []) keys.add(k);
    return [...keys].sort();
  }

  private evaluateAll(): FlagMap {
    const out: FlagMap = {};
    for (const key of this.keys()) {
      const f = this.evaluateOne(key);
      if (f) out[key] = f;
    }
    return out;
  }

  /** Evaluates a flag with the type its value has (boolean, string, number, object). */
  private evaluateOne(key: string): EvaluatedFlag | undefined {
    const evaluators: Record<string, () => EvaluationDetails<JsonValue>> = {
      boolean: () => this.client.getBooleanDetails(key, false),
      string: () => this.client.getStringDetails(key, ''),
      number: () => this.client.getNumberDetails(key, 0),
      object: () => this.client.getObjectDetails(key, {}),
    };
    const cache = this.cache();
    if (cache) {
      // OFREP: the server's result tells the type; no value means "use the code default".
      const item: OfrepFlagResult | undefined = cache.get(key);
      if (!item) return undefined;
      if (item.errorCode) return { value: null, errorCode: item.errorCode, reason: 'ERROR' };
      const type = typeof item.value;
      if (item.value === undefined || item.value === null || !(type in evaluators)) {
        const f: EvaluatedFlag = { value: null, reason: item.reason ?? 'DEFAULT' };
        if (item.variant !== undefined) f.variant = item.variant;
        if (item.metadata && Object.keys(item.metadata).length) f.metadata = item.metadata;
        return f;
      }
      return toFlag(evaluators[type]());
    }
    // Any other provider: try the types in turn.
    let first: EvaluationDetails<JsonValue> | undefined;
    for (const t of Object.values(evaluators)) {
      const d = t();
      first ??= d;
      if (!d.errorCode) return toFlag(d);
      if (d.errorCode !== 'TYPE_MISMATCH') break;
    }
    return first && first.errorCode !== 'FLAG_NOT_FOUND' ? toFlag(first) : undefined;
  }
}

function toFlag(d: EvaluationDetails<JsonValue>): EvaluatedFlag {
  const f: EvaluatedFlag = { value: d.value };
  if (d.variant !== undefined) f.variant = d.variant;
  if (d.reason !== undefined) f.reason = d.reason;
  if (d.errorCode) f.errorCode = d.errorCode;
  if (d.flagMetadata && Object.keys(d.flagMetadata).length) f.metadata = d.flagMetadata;
  return f;
}
