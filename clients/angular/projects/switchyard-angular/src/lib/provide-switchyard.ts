import {
  DestroyRef,
  EnvironmentProviders,
  inject,
  makeEnvironmentProviders,
  provideEnvironmentInitializer,
} from '@angular/core';
import { OPEN_FEATURE_CONFIG_TOKEN } from '@openfeature/angular-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { OpenFeature, Provider, ProviderEvents } from '@openfeature/web-sdk';
import { Subscription } from 'rxjs';
import {
  ResolvedSwitchyardConfig,
  SWITCHYARD_CONFIG,
  SWITCHYARD_FETCH,
  SwitchyardConfig,
  resolveSwitchyardConfig,
} from './config';
import { GitSyncService } from './git-sync.service';
import { OfrepFlagCache } from './ofrep-flag-cache';
import type { FetchFn } from './sse';

/**
 * Builds the OFREP web provider for a Switchyard server: SSE change detection, no polling. With
 * a `cache`, its bulk responses are recorded there (through the provider's `fetchImplementation`)
 * for `FlagService.flags$`.
 */
export function createSwitchyardProvider(
  config: ResolvedSwitchyardConfig,
  cache?: OfrepFlagCache,
  fetchFn?: FetchFn,
): OFREPWebProvider {
  const provider = new OFREPWebProvider({
    // Absolute URL: the provider derives the SSE origin of `eventStreams[].endpoint` from it.
    baseUrl: new URL(config.url, globalThis.location?.href).toString().replace(/\/+$/, ''),
    headers: Object.entries(config.headers) as [string, string][],
    pollInterval: config.pollInterval,
    changeDetection: config.pollInterval > 0 ? 'polling' : 'sse',
    cacheMode: config.cacheMode,
    ...(cache ? { fetchImplementation: cache.fetchFor(fetchFn) } : fetchFn ? { fetchImplementation: fetchFn } : {}),
  });
  cache?.attach(provider);
  return provider;
}

/**
 * Connects an Angular application to Switchyard:
 * - installs the OpenFeature OFREP web provider (`@openfeature/ofrep-web-provider`) for
 *   `{url}/ofrep/v1`, with `X-Flipt-Environment`, `X-Flipt-Namespace` and `Authorization: Bearer`
 *   headers as configured, and **no polling** (`pollInterval: 0`);
 * - makes `@openfeature/angular-sdk`'s `FeatureFlagService` and directives work (they use the same
 *   global OpenFeature API);
 * - follows `/api/v1/sync/events`: `status` events feed `GitSyncService.status$`, and a `change`
 *   event makes the provider re-fetch at once if the OFREP SSE stream did not already do it.
 *
 * Needs `provideHttpClient()` in the application.
 */
export function provideSwitchyard(options: SwitchyardConfig): EnvironmentProviders {
  const config = resolveSwitchyardConfig(options);
  return makeEnvironmentProviders([
    { provide: SWITCHYARD_CONFIG, useValue: config },
    {
      provide: OPEN_FEATURE_CONFIG_TOKEN,
      useFactory: () => ({ provider: OpenFeature.getProvider(), context: config.context }),
    },
    provideEnvironmentInitializer(() => {
      const provider: Provider =
        config.provider ?? createSwitchyardProvider(config, inject(OfrepFlagCache), inject(SWITCHYARD_FETCH));
      OpenFeature.setProvider(provider, config.context ?? {});
      const destroyRef = inject(DestroyRef);
      if (!config.syncEvents) return;
      const sync = inject(GitSyncService);
      sync.connect();
      destroyRef.onDestroy(followChanges(sync));
    }),
  ]);
}

/**
 * The safety net behind the provider's own OFREP SSE: when Switchyard reports a new snapshot
 * (`change`) and no `ConfigurationChanged` follows within `graceMs`, re-fetch by setting the same
 * context again (the provider skips SSE refetches while another fetch is in flight).
 * Returns the teardown.
 */
export function followChanges(sync: GitSyncService, graceMs = 400): () => void {
  const client = OpenFeature.getClient();
  let changedAt = 0;
  const onChanged = () => (changedAt = Date.now());
  client.addHandler(ProviderEvents.ConfigurationChanged, onChanged);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const sub: Subscription = sync.changes$.subscribe(() => {
    const seen = Date.now();
    const t = setTimeout(() => {
      timers.delete(t);
      if (changedAt < seen) OpenFeature.setContext({ ...OpenFeature.getContext() }).catch(() => undefined);
    }, graceMs);
    timers.add(t);
  });
  return () => {
    sub.unsubscribe();
    timers.forEach(clearTimeout);
    client.removeHandler(ProviderEvents.ConfigurationChanged, onChanged);
  };
}
