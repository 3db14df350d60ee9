import { AsyncPipe, DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { GitSyncService, GitSyncStatus } from './git-sync.service';

/** Outline paths (24×24, stroked) of each indicator; drawn as inline SVG, never as emoji. */
const INDICATORS: Record<GitSyncStatus['syncStatus'], { paths: string[]; label: string }> = {
  success: { paths: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M8 12.5l2.5 2.5L16 9.5'], label: 'Success' },
  syncing: { paths: ['M20 12a8 8 0 0 1-14 5.3', 'M4 12a8 8 0 0 1 14-5.3', 'M18 3v4h-4', 'M6 21v-4h4'], label: 'Syncing' },
  error: { paths: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M9 9l6 6M15 9l-6 6'], label: 'Error' },
  idle: { paths: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M10 9v6M14 9v6'], label: 'Idle' },
};

/**
 * Shows Switchyard's Git sync status as the seed does: the indicator (Success / Syncing / Error /
 * Idle, each with its own inline SVG icon and colour, so no emoji font is needed), repository,
 * branch, poll interval, last sync, the error and each validation error as
 * `file:line:column message`. Reads `GitSyncService.status$` unless a `status` input is given.
 *
 * Colours follow the page's light or dark scheme and can be themed with the CSS custom properties
 * `--sy-success`, `--sy-syncing`, `--sy-error`, `--sy-idle`, `--sy-border`, `--sy-surface`.
 */
@Component({
  selector: 'switchyard-git-sync-status',
  standalone: true,
  imports: [DatePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @let s = current();
    <section class="sy-sync" [class]="'sy-sync sy-state-' + s.syncStatus" role="status" aria-live="polite"
             aria-label="Git sync status" data-testid="git-sync-status" [attr.data-status]="s.syncStatus">
      <div class="sy-indicator" data-testid="sync-indicator">
        <svg class="sy-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          @for (d of indicator().paths; track $index) { <path [attr.d]="d" /> }
        </svg>
        <strong>{{ indicator().label }}</strong>
      </div>
      <dl>
        @if (s.repository) { <dt>Repository:</dt><dd data-testid="sync-repository">{{ s.repository }}</dd> }
        @if (s.branch) { <dt>Branch:</dt><dd data-testid="sync-branch">{{ s.branch }}</dd> }
        @if (s.pollInterval) { <dt>Poll Interval:</dt><dd data-testid="sync-poll-interval">{{ s.pollInterval }}</dd> }
        <dt>Last Sync:</dt>
        <dd data-testid="sync-last">{{ s.lastSyncTime ? (s.lastSyncTime | date: 'medium') : 'never' }}</dd>
        @if (s.servingCommit?.sha) {
          <dt>Serving:</dt>
          <dd data-testid="sync-commit" [title]="s.servingCommit?.message ?? ''"><code>{{ s.servingCommit!.sha.slice(0, 7) }}</code>
            @if (s.servingCommit?.message) { — {{ firstLine(s.servingCommit!.message!) }} }</dd>
        }
      </dl>
      @if (s.syncStatus === 'error' && s.errorMessage) {
        <p class="sy-error" role="alert" data-testid="sync-error">{{ s.errorMessage }}</p>
      }
      @if (s.syncStatus === 'error' && s.validationErrors?.length) {
        <ul class="sy-validation" data-testid="sync-validation-errors">
          @for (e of s.validationErrors; track $index) {
            <li><code>{{ location(e) }}</code> {{ e.message }}</li>
          }
        </ul>
      }
    </section>
  `,
  styles: `
    :host {
      display: block;
      min-width: 0;
      --sy-success: light-dark(#0d5a28, #86e0a6);
      --sy-syncing: light-dark(#5f4500, #f3d36e);
      --sy-error: light-dark(#9b1c1c, #ffa8a8);
      --sy-idle: light-dark(#333c48, #cbd3de);
      --sy-border: light-dark(#cfd6df, #344050);
      --sy-surface: light-dark(#ffffff, #161c23);
      --sy-accent: var(--sy-idle);
    }
    .sy-sync {
      border: 1px solid var(--sy-border);
      border-left: 4px solid var(--sy-accent);
      border-radius: 8px;
      padding: .6rem .85rem;
      background: var(--sy-surface);
      font: inherit;
      overflow-wrap: anywhere;
      min-width: 0;
    }
    .sy-state-success { --sy-accent: var(--sy-success); }
    .sy-state-syncing { --sy-accent: var(--sy-syncing); }
    .sy-state-error { --sy-accent: var(--sy-error); }
    .sy-state-idle { --sy-accent: var(--sy-idle); }
    .sy-indicator { display: flex; align-items: center; gap: .4rem; color: var(--sy-accent); }
    .sy-icon { width: 1.25em; height: 1.25em; flex: none; fill: none; stroke: currentColor; stroke-width: 2;
      stroke-linecap: round; stroke-linejoin: round; }
    .sy-state-syncing .sy-icon { animation: sy-spin 1.2s linear infinite; }
    @media (prefers-reduced-motion: reduce) { .sy-state-syncing .sy-icon { animation: none; } }
    @keyframes sy-spin { to { transform: rotate(360deg); } }
    .sy-error, .sy-validation { color: var(--sy-error); margin: .25rem 0; }
    .sy-validation { padding-left: 1.1rem; }
    dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .1rem .6rem; margin: .4rem 0 .25rem; }
    dt { font-weight: 600; } dd { margin: 0; min-width: 0; }
    code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
  `,
})
export class GitSyncStatusComponent {
  private readonly sync = inject(GitSyncService);
  /** Show this status instead of the service's live one. */
  readonly status = input<GitSyncStatus | undefined>(undefined);
  private readonly live = toSignal(this.sync.status$, { initialValue: this.sync.getStatus() });
  protected readonly current = computed(() => this.status() ?? this.live());
  protected readonly indicator = computed(() => INDICATORS[this.current().syncStatus] ?? INDICATORS.idle);

  protected location(e: { file: string; line?: number; column?: number }): string {
    return [e.file, e.line, e.column].filter((x) => x !== undefined && x !== null).join(':');
  }

  protected firstLine(s: string): string {
    return s.split('\n')[0];
  }
}
