import { InjectionToken } from '@angular/core';
import type { EvaluationContext, Provider } from '@openfeature/web-sdk';
import type { FetchFn } from './sse';

/** Options of {@link provideSwitchyard}. */
export interface SwitchyardConfig {
  /** Base URL of the Switchyard server, e.g. `http://localhost:8080` (the part before `/ofrep`). */
  url: string;
  /** Environment key, sent as `X-Flipt-Environment` (and `?environment=` on `/api/v1/sync/*`). Default: the server's default environment. */
  environment?: string;
  /** Namespace key, sent as `X-Flipt-Namespace`. Default: the server's `default` namespace. */
  namespace?: string;
  /** Bearer token, sent as `Authorization: Bearer <token>` on every request. */
  token?: string;
  /** Initial OpenFeature evaluation context. */
  context?: EvaluationContext;
  /**
   * Where the OFREP web provider keeps its last bulk evaluation. Default `disabled`, so the page
   * never shows yesterday's values as `CACHED` while the server is being asked.
   */
  cacheMode?: 'local-cache-first' | 'network-first' | 'disabled';
  /**
   * Polling interval of the OFREP provider in ms. Default 0: no polling at all — changes come in
   * through Server-Sent Events (the OFREP `eventStreams` stream and `/api/v1/sync/events`).
   */
  pollInterval?: number;
  /** Follow `/api/v1/sync/events` (sync status and `change` events). Default true. */
  syncEvents?: boolean;
  /** Flag keys that `FlagService.flags$` always reports, in addition to those the server returns. */
  flagKeys?: string[];
  /**
   * Use this OpenFeature provider instead of the OFREP web provider (tests, or an app that brings
   * its own provider). Flags then come from it; sync status still comes from `url`.
   */
  provider?: Provider;
}

/** The normalised configuration, as injected by the library's services. */
export interface ResolvedSwitchyardConfig extends SwitchyardConfig {
  /** `url` without a trailing slash. */
  url: string;
  /** Headers sent on every request to Switchyard. */
  headers: Record<string, string>;
  pollInterval: number;
  cacheMode: 'local-cache-first' | 'network-first' | 'disabled';
  syncEvents: boolean;
}

export const SWITCHYARD_CONFIG = new InjectionToken<ResolvedSwitchyardConfig>('SWITCHYARD_CONFIG');

/**
 * The `fetch` the library uses for `/api/v1/sync/events` and the OFREP provider's requests
 * (default `globalThis.fetch`); provide another to add transport concerns or in tests.
 */
export const SWITCHYARD_FETCH = new InjectionToken<FetchFn>('SWITCHYARD_FETCH', {
  providedIn: 'root',
  factory: () => (input, init) => globalThis.fetch(input, init),
});

/** Normalises user options: trims the URL and derives the headers. */
export function resolveSwitchyardConfig(config: SwitchyardConfig): ResolvedSwitchyardConfig {
  const url = (config.url || 'http://localhost:8080').replace(/\/+$/, '');
  const headers: Record<string, string> = {};
  if (config.environment) headers['X-Flipt-Environment'] = config.environment;
  if (config.namespace) headers['X-Flipt-Namespace'] = config.namespace;
  if (config.token) headers['Authorization'] = `Bearer ${config.token}`;
  return {
    ...config,
    url,
    headers,
    pollInterval: config.pollInterval ?? 0,
    cacheMode: config.cacheMode ?? 'disabled',
    syncEvents: config.syncEvents ?? true,
  };
}
