import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { EvaluationContext, InMemoryProvider, OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { firstValueFrom, filter } from 'rxjs';
import { SWITCHYARD_CONFIG, resolveSwitchyardConfig } from './config';
import { FlagMap, FlagService } from './flag.service';
import { GitSyncService } from './git-sync.service';
import { OfrepFlagCache } from './ofrep-flag-cache';
import { createSwitchyardProvider, followChanges } from './provide-switchyard';
import { recordingFetch } from './testing/fetch';

/** The seed's flags, with the demo's rules, as an OpenFeature in-memory provider. */
function seedFlags(overrides: Record<string, any> = {}) {
  return {
    newHomeUI: {
      variants: { enabled: 'enabled', disabled: 'disabled' },
      defaultVariant: 'disabled',
      disabled: false,
      contextEvaluator: (ctx: EvaluationContext) => (ctx['plan'] === 'premium' ? 'enabled' : 'disabled'),
    },
    newDashboard: {
      variants: { enabled: 'enabled', disabled: 'disabled' },
      defaultVariant: 'disabled',
      disabled: false,
      contextEvaluator: (ctx: EvaluationContext) => (ctx['betaTester'] === 'true' ? 'enabled' : 'disabled'),
    },
    darkMode: { variants: { on: true, off: false }, defaultVariant: 'off', disabled: false },
    checkoutExperiment: {
      variants: { control: 'control', 'variant-a': 'variant-a', 'variant-b': 'variant-b' },
      defaultVariant: 'control',
      disabled: false,
      contextEvaluator: (ctx: EvaluationContext) => (ctx['plan'] === 'enterprise' ? 'variant-b' : 'control'),
    },
    ...overrides,
  };
}

describe('FlagService', () => {
  let provider: InMemoryProvider;
  let flags: FlagService;

  beforeEach(async () => {
    provider = new InMemoryProvider(seedFlags());
    await OpenFeature.setContext({});
    await OpenFeature.setProviderAndWait(provider);
    TestBed.configureTestingModule({
      providers: [
        { provide: SWITCHYARD_CONFIG, useValue: resolveSwitchyardConfig({ url: 'http://sy', flagKeys: ['darkMode', 'newHomeUI'] }) },
      ],
    });
    flags = TestBed.inject(FlagService);
  });

  afterEach(async () => {
    await OpenFeature.clearProviders();
    await OpenFeature.clearContext();
  });

  it('flags$ reports every known flag with value, variant and reason', async () => {
    const all = await firstValueFrom(flags.flags$);
    expect(all).toEqual({
      darkMode: { value: false, variant: 'off', reason: 'STATIC' },
      newHomeUI: { value: 'disabled', variant: 'disabled', reason: 'TARGETING_MATCH' },
    });
  });

  it('boolean$ reads boolean flags and enabled/disabled variant flags; unknown keys give the fallback', async () => {
    expect(await firstValueFrom(flags.boolean$('darkMode', true))).toBe(false);
    expect(await firstValueFrom(flags.boolean$('newHomeUI', true))).toBe(false);
    expect(await firstValueFrom(flags.boolean$('nope', true))).toBe(true);
    expect(await firstValueFrom(flags.variant$('nope', 'fallback'))).toBe('fallback');
  });

  it('setContext re-evaluates: the user switcher changes the variants', async () => {
    const home: boolean[] = [];
    const checkout: string[] = [];
    flags.boolean$('newHomeUI', false).subscribe((v) => home.push(v));
    flags.variant$('checkoutExperiment', 'control').subscribe((v) => checkout.push(v));
    await flags.setContext({ targetingKey: 'u1', plan: 'premium' });
    await flags.setContext({ targetingKey: 'u2', plan: 'enterprise' });
    await flags.setContext({ targetingKey: 'u3', betaTester: 'true' });
    expect(home).toEqual([false, true, false]);
    expect(checkout).toEqual(['control', 'variant-b', 'control']);
    expect(flags.getContext()).toEqual({ targetingKey: 'u3', betaTester: 'true' });
    expect((await firstValueFrom(flags.flag$('newDashboard')))?.variant).toBe('enabled');
    expect(Object.keys(await firstValueFrom(flags.flags$))).toEqual(['checkoutExperiment', 'darkMode', 'newDashboard', 'newHomeUI']);
  });

  it('a configuration change (a Git push) updates flags$ without any call', async () => {
    const seen: FlagMap[] = [];
    flags.flags$.subscribe((f) => seen.push(f));
    await provider.putConfiguration(seedFlags({ darkMode: { variants: { on: true, off: false }, defaultVariant: 'on', disabled: false } }));
    const last = await firstValueFrom(flags.flags$.pipe(filter((f) => f['darkMode']?.value === true)));
    expect(last['darkMode']).toEqual({ value: true, variant: 'on', reason: 'STATIC' });
    expect(seen.length).toBe(2);
  });

  it('a disabled flag falls back', async () => {
    await provider.putConfiguration(seedFlags({ darkMode: { variants: { on: true, off: false }, defaultVariant: 'on', disabled: true } }));
    expect(await firstValueFrom(flags.boolean$('darkMode', false))).toBe(false);
    expect((await firstValueFrom(flags.flags$))['darkMode'].reason).toBe('DISABLED');
  });
});

describe('followChanges', () => {
  beforeEach(async () => {
    await OpenFeature.setProviderAndWait(new InMemoryProvider(seedFlags()));
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: SWITCHYARD_CONFIG, useValue: resolveSwitchyardConfig({ url: 'http://sy' }) },
      ],
    });
  });
  afterEach(() => OpenFeature.clearProviders());

  it('re-fetches (sets the same context again) when a change event is not followed by a configuration change', async () => {
    const sync = TestBed.inject(GitSyncService);
    const contextChanges: number[] = [];
    const client = OpenFeature.getClient();
    const h = () => contextChanges.push(Date.now());
    client.addHandler(ProviderEvents.ContextChanged, h);
    const stop = followChanges(sync, 20);
    (sync as any).changes.next({ environment: 'default', newDigest: 'x' });
    await new Promise((r) => setTimeout(r, 80));
    expect(contextChanges.length).toBe(1);

    // When the provider's own SSE already delivered the change, nothing more is fetched.
    (sync as any).changes.next({ environment: 'default', newDigest: 'y' });
    (OpenFeature.getProvider() as InMemoryProvider).events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [] });
    await new Promise((r) => setTimeout(r, 80));
    expect(contextChanges.length).toBe(1);
    stop();
    client.removeHandler(ProviderEvents.ContextChanged, h);
  });
});

describe('FlagService with the OFREP web provider', () => {
  const BULK = {
    flags: [
      { key: 'newHomeUI', value: 'enabled', variant: 'enabled', reason: 'TARGETING_MATCH', metadata: {} },
      { key: 'darkMode', value: true, variant: 'true', reason: 'DEFAULT', metadata: {} },
      { key: 'gone', errorCode: 'FLAG_NOT_FOUND', errorDetails: 'no such flag' },
    ],
  };

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [{ provide: SWITCHYARD_CONFIG, useValue: resolveSwitchyardConfig({ url: 'http://sy' }) }],
    });
  });
  afterEach(async () => {
    await OpenFeature.clearProviders();
    await OpenFeature.clearContext();
  });

  it('lists the flags of the bulk responses it saw, never reading the provider\'s private flagCache', async () => {
    let body: object = BULK;
    const { fetchFn, calls } = recordingFetch(
      () => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } }),
    );
    const cache = TestBed.inject(OfrepFlagCache);
    const provider = createSwitchyardProvider(TestBed.inject(SWITCHYARD_CONFIG), cache, fetchFn);
    Object.defineProperty(provider, 'flagCache', {
      get: () => {
        throw new Error('the private flagCache was read');
      },
    });
    await OpenFeature.setProviderAndWait(provider, { targetingKey: 'u1' });
    const flags = TestBed.inject(FlagService);
    const all = await firstValueFrom(flags.flags$.pipe(filter((f) => 'newHomeUI' in f)));
    expect(all).toEqual({
      darkMode: { value: true, variant: 'true', reason: 'DEFAULT' },
      gone: { value: null, errorCode: 'FLAG_NOT_FOUND', reason: 'ERROR' },
      newHomeUI: { value: 'enabled', variant: 'enabled', reason: 'TARGETING_MATCH' },
    });
    expect(calls[0].url).toBe('http://sy/ofrep/v1/evaluate/flags');
    expect(await firstValueFrom(flags.boolean$('newHomeUI', false))).toBe(true);

    // The next bulk response (a new context) replaces the list.
    body = { flags: [{ key: 'newHomeUI', value: 'disabled', variant: 'disabled', reason: 'DEFAULT' }] };
    await flags.setContext({ targetingKey: 'u2' });
    const next = await firstValueFrom(flags.flags$.pipe(filter((f) => !('darkMode' in f))));
    expect(Object.keys(next)).toEqual(['newHomeUI']);
    expect(next['newHomeUI'].variant).toBe('disabled');
  });

  it('with local-cache-first, a later page load answered 304 still reports the values', async () => {
    localStorage.clear();
    const { fetchFn, calls } = recordingFetch(({ request }) =>
      request?.headers.get('If-None-Match')
        ? new Response(null, { status: 304, headers: { ETag: '"e1"' } })
        : new Response(JSON.stringify(BULK), { status: 200, headers: { 'Content-Type': 'application/json', ETag: '"e1"' } }),
    );
    const config = resolveSwitchyardConfig({ url: 'http://sy', cacheMode: 'local-cache-first' });
    await OpenFeature.setProviderAndWait(createSwitchyardProvider(config, TestBed.inject(OfrepFlagCache), fetchFn), { targetingKey: 'u1' });
    await OpenFeature.clearProviders();

    // A new page load: a new injector (empty cache); the provider starts from its local cache.
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({ providers: [{ provide: SWITCHYARD_CONFIG, useValue: config }] });
    const cache = TestBed.inject(OfrepFlagCache);
    await OpenFeature.setProviderAndWait(createSwitchyardProvider(config, cache, fetchFn), { targetingKey: 'u1' });
    const flags = TestBed.inject(FlagService);
    await until(() => calls.some((c) => c.request?.headers.get('If-None-Match')));
    expect(await firstValueFrom(flags.boolean$('newHomeUI', false))).toBe(true);
    expect((await firstValueFrom(flags.flag$('darkMode')))?.value).toBe(true);
    localStorage.clear();
  });

  it('keeps the answer to the newest request when an older one arrives late', () => {
    const cache = TestBed.inject(OfrepFlagCache);
    cache.accept({ flags: [{ key: 'b' }] }, 2);
    cache.accept({ flags: [{ key: 'a' }] }, 1);
    expect(cache.keys()).toEqual(['b']);
    cache.accept({ nonsense: true }, 3);
    expect(cache.keys()).toEqual(['b']);
  });
});

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
