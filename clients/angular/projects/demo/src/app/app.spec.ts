import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { EvaluationContext, InMemoryProvider, OpenFeature } from '@openfeature/web-sdk';
import { provideSwitchyard } from 'switchyard-angular';
import { App, checkoutColor } from './app';
import { serverSettings } from './app.config';
import { DEMO_FLAGS } from './users';

/** The demo flags and rules of `switchyard demo`, in memory (percentage splits fixed per user). */
function demoProvider() {
  const v = (pick: (c: EvaluationContext) => string, dflt = 'disabled') => ({
    variants: { enabled: 'enabled', disabled: 'disabled', control: 'control', 'variant-a': 'variant-a', 'variant-b': 'variant-b' },
    defaultVariant: dflt,
    disabled: false,
    contextEvaluator: pick,
  });
  return new InMemoryProvider({
    newHomeUI: v((c) => (c['plan'] === 'premium' ? 'enabled' : 'disabled')),
    newDashboard: v((c) => (c['betaTester'] === 'true' ? 'enabled' : 'disabled')),
    newPaymentFlow: v((c) => (c['plan'] === 'premium' ? 'enabled' : 'disabled')),
    checkoutExperiment: v((c) => (c['plan'] === 'enterprise' ? 'variant-a' : 'control'), 'control'),
  });
}

describe('demo App', () => {
  beforeEach(async () => {
    await OpenFeature.clearContext();
    TestBed.configureTestingModule({
      imports: [App],
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        provideSwitchyard({ url: 'http://sy:8080', provider: demoProvider(), flagKeys: DEMO_FLAGS, syncEvents: false }),
      ],
    });
  });
  afterEach(() => OpenFeature.clearProviders());

  async function render() {
    const fixture = TestBed.createComponent(App);
    await new Promise((r) => setTimeout(r, 10)); // provider ready
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    const q = (id: string) => el.querySelector<HTMLElement>(`[data-testid="${id}"]`);
    const click = async (id: string) => {
      q(id)!.click();
      await new Promise((r) => setTimeout(r, 10));
      await fixture.whenStable();
    };
    return { fixture, el, q, click };
  }

  it('switching users changes the page as the flags say', async () => {
    const { q, click, el } = await render();
    expect(q('home-banner')!.dataset['variant']).toBe('disabled');
    expect(q('dashboard-panel')).toBeNull();
    expect(q('pay-button')!.textContent!.trim()).toBe('Pay now');
    expect(q('checkout-button')!.dataset['variant']).toBe('control');
    expect(q('git-sync-status')).not.toBeNull();

    await click('user-premium');
    expect(q('home-banner')!.dataset['variant']).toBe('enabled');
    expect(q('home-banner')!.textContent).toContain('Welcome to the new home!');
    expect(q('pay-button')!.textContent!.trim()).toBe('Pay with the new one-click flow');
    expect(q('user-premium')!.getAttribute('aria-pressed')).toBe('true');

    await click('user-beta');
    expect(q('home-banner')!.dataset['variant']).toBe('disabled');
    expect(q('dashboard-panel')).not.toBeNull();

    await click('user-enterprise');
    expect(q('dashboard-panel')).toBeNull();
    expect(q('checkout-button')!.dataset['variant']).toBe('variant-a');
    expect(getComputedStyle(q('checkout-button')!).backgroundColor).toBe('rgb(0, 128, 0)');
    expect(el.querySelectorAll('[data-testid="flags-table"] tbody tr').length).toBe(4);

    await click('user-anonymous');
    expect(q('checkout-button')!.dataset['variant']).toBe('control');
  });

  it('"Sync now" POSTs /api/v1/sync', async () => {
    const { click, q } = await render();
    await click('sync-now');
    const req = TestBed.inject(HttpTestingController).expectOne('http://sy:8080/api/v1/sync');
    expect(req.request.method).toBe('POST');
    req.flush({ environment: 'default', triggered: true }, { status: 202, statusText: 'Accepted' });
    await new Promise((r) => setTimeout(r, 10));
    expect(q('sync-message')!.textContent).toBe('Sync requested');
  });
});

describe('demo helpers', () => {
  it('reads the server from ?server=, default localhost:8080', () => {
    expect(serverSettings('').url).toBe('http://localhost:8080');
    expect(serverSettings('?server=http://127.0.0.1:9999&env=prod').url).toBe('http://127.0.0.1:9999');
    expect(serverSettings('?env=prod').environment).toBe('prod');
  });

  it('colours the checkout button from the attachment, else by variant', () => {
    expect(checkoutColor({ value: 'variant-a', metadata: { attachment: '{"buttonColor":"purple"}' } }, 'variant-a')).toBe('purple');
    expect(checkoutColor({ value: 'variant-b' }, 'variant-b')).toBe('blue');
    expect(checkoutColor(undefined, 'control')).toBe('dimgray');
  });
});
