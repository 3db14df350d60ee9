import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { SWITCHYARD_CONFIG, resolveSwitchyardConfig } from './config';
import { GitSyncStatusComponent } from './git-sync-status.component';
import { GitSyncService } from './git-sync.service';

describe('GitSyncStatusComponent', () => {
  let fixture: ComponentFixture<GitSyncStatusComponent>;
  let sync: GitSyncService;
  let el: HTMLElement;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [GitSyncStatusComponent],
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: SWITCHYARD_CONFIG, useValue: resolveSwitchyardConfig({ url: 'http://sy' }) },
      ],
    });
    sync = TestBed.inject(GitSyncService);
    fixture = TestBed.createComponent(GitSyncStatusComponent);
    el = fixture.nativeElement;
    await fixture.whenStable();
  });

  const text = (id: string) => el.querySelector(`[data-testid="${id}"]`)?.textContent?.replace(/\s+/g, ' ').trim();

  it('is an accessible live region and starts idle', () => {
    const region = el.querySelector('[role="status"]')!;
    expect(region.getAttribute('aria-live')).toBe('polite');
    expect(text('sync-indicator')).toBe('Idle');
    expect(text('sync-last')).toBe('never');
  });

  it('draws each indicator as an inline SVG icon, with no emoji anywhere', async () => {
    const emoji = /\p{Extended_Pictographic}/u;
    for (const syncStatus of ['idle', 'syncing', 'success', 'error'] as const) {
      sync.updateStatus({ enabled: true, syncStatus, errorMessage: 'x' });
      await fixture.whenStable();
      const indicator = el.querySelector('[data-testid="sync-indicator"]')!;
      const paths = indicator.querySelectorAll('svg.sy-icon path');
      expect(paths.length).toBeGreaterThan(0);
      expect(indicator.querySelector('svg')!.getBoundingClientRect().width).toBeGreaterThan(0);
      expect(emoji.test(el.textContent ?? '')).toBe(false);
    }
    // Each state has its own colour.
    const colours = new Set<string>();
    for (const syncStatus of ['idle', 'syncing', 'success', 'error'] as const) {
      sync.updateStatus({ syncStatus });
      await fixture.whenStable();
      colours.add(getComputedStyle(el.querySelector('[data-testid="sync-indicator"]')!).color);
    }
    expect(colours.size).toBe(4);
  });

  it('shows the seed fields and follows the service: syncing, success, error', async () => {
    sync.updateStatus({
      enabled: true,
      repository: 'https://github.com/flipt-io/example.git',
      branch: 'main',
      pollInterval: '30s',
      servingCommit: { sha: '0123456789abcdef', message: 'Enable dark mode\n\nbody' },
    });
    sync.startSync();
    await fixture.whenStable();
    expect(text('sync-indicator')).toBe('Syncing');
    expect(text('sync-repository')).toBe('https://github.com/flipt-io/example.git');
    expect(text('sync-branch')).toBe('main');
    expect(text('sync-poll-interval')).toBe('30s');
    expect(text('sync-commit')).toBe('0123456 — Enable dark mode');

    sync.updateStatus({ syncStatus: 'success', lastSyncTime: new Date(2026, 0, 21, 14, 45) });
    await fixture.whenStable();
    expect(text('sync-indicator')).toBe('Success');
    expect(text('sync-last')).toContain('Jan 21, 2026');
    expect(el.querySelector('[data-testid="sync-error"]')).toBeNull();

    sync.updateStatus({
      syncStatus: 'error',
      errorMessage: 'commit 9f8e7d6 rejected: 1 validation error',
      validationErrors: [{ file: 'flipt/features.yml', line: 12, column: 7, message: 'unknown segment "vip"' }],
    });
    await fixture.whenStable();
    expect(text('sync-indicator')).toBe('Error');
    expect(text('sync-error')).toBe('commit 9f8e7d6 rejected: 1 validation error');
    expect(el.querySelector('[role="alert"]')).not.toBeNull();
    expect(text('sync-validation-errors')).toBe('flipt/features.yml:12:7 unknown segment "vip"');
    expect(el.querySelector('[data-testid="git-sync-status"]')!.getAttribute('data-status')).toBe('error');
  });

  it('shows a status given as input instead of the live one', async () => {
    fixture.componentRef.setInput('status', { enabled: true, syncStatus: 'error', errorMessage: 'x' });
    await fixture.whenStable();
    expect(text('sync-indicator')).toBe('Error');
    expect(text('sync-error')).toBe('x');
  });
});
