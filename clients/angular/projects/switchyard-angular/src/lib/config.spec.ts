import { resolveSwitchyardConfig } from './config';
import { createSwitchyardProvider } from './provide-switchyard';

describe('resolveSwitchyardConfig', () => {
  it('derives the Switchyard headers and the no-polling defaults', () => {
    const c = resolveSwitchyardConfig({ url: 'http://sy:8080//', environment: 'prod', namespace: 'team-a', token: 's3cret' });
    expect(c.url).toBe('http://sy:8080');
    expect(c.headers).toEqual({ 'X-Flipt-Environment': 'prod', 'X-Flipt-Namespace': 'team-a', Authorization: 'Bearer s3cret' });
    expect(c.pollInterval).toBe(0);
    expect(c.cacheMode).toBe('disabled');
    expect(c.syncEvents).toBe(true);
    expect(resolveSwitchyardConfig({ url: 'http://sy' }).headers).toEqual({});
  });
});

describe('createSwitchyardProvider', () => {
  it('configures the OFREP web provider: absolute base URL, headers, SSE and no polling', () => {
    const p = createSwitchyardProvider(resolveSwitchyardConfig({ url: 'http://sy:8080/', token: 't', namespace: 'ns' }));
    const o = (p as any)._options;
    expect(p.metadata.name).toContain('OpenFeature Remote Evaluation Protocol');
    expect(o.baseUrl).toBe('http://sy:8080');
    expect(o.headers).toEqual([['X-Flipt-Namespace', 'ns'], ['Authorization', 'Bearer t']]);
    expect(o.pollInterval).toBe(0);
    expect(o.changeDetection).toBe('sse');
    expect(o.cacheMode).toBe('disabled');
  });

  it('resolves a relative URL against the page, as the provider needs an origin for SSE', () => {
    const o = (createSwitchyardProvider(resolveSwitchyardConfig({ url: '/flags' })) as any)._options;
    expect(o.baseUrl).toBe(`${location.origin}/flags`);
  });

  it('polls only when asked to', () => {
    const o = (createSwitchyardProvider(resolveSwitchyardConfig({ url: 'http://sy', pollInterval: 30000 })) as any)._options;
    expect(o.pollInterval).toBe(30000);
    expect(o.changeDetection).toBe('polling');
  });
});
