import { AsyncPipe, DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { GitSyncService, GitSyncStatus } from './git-sync.service';

const INDICATORS: Record<GitSyncStatus['syncStatus'], { icon: string; label: string }> = {
  success: { icon: '🟢', label: 'Success' },
  syncing: { icon: '🟡', label: 'Syncing' },
  error: { icon: '🔴', label: 'Error' },
  idle: { icon: '⏸️', label: 'Idle' },
};

/**
 * Shows Switchyard's Git sync status as the seed does:
 * indicator (🟢 Success / 🟡 Syncing / 🔴 Error / ⏸️ Idle), repository, branch, poll interval,
 * last sync, the error and each validation error as `file:line:column message`.
 * Reads `GitSyncService.status$` unless a `status` input is given.
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
        <span aria-hidden="true">{{ indicator().icon + " " }}</span><strong>{{ indicator().label }}</strong>
      </div>
      <dl>
        @if (s.repository) { <dt>Repository:</dt><dd data-testid="sync-repository">{{ s.repository }}</dd> }
        @if (s.branch) { <dt>Branch:</dt><dd data-testid="sync-branch">{{ s.branch }}</dd> }
        @if (s.pollInterval) { <dt>Poll Interval:</dt><dd data-testid="sync-poll-interval">{{ s.pollInterval }}</dd> }
        <dt>Last Sync:</dt>
        <dd data-testid="sync-last">{{ s.lastSyncTime ? (s.lastSyncTime | date: 'medium') : 'never' }}</dd>
        @if (s.servingCommit?.sha) {
          <dt>Serving:</dt>
          <dd data-testid="sync-commit" [title]="s.servingCommit?.message ?? ''">{{ s.servingCommit!.sha.slice(0, 7) }}
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
    .sy-sync { border: 1px solid #ccc; border-radius: 6px; padding: .5rem .75rem; font: inherit; }
    .sy-error, .sy-validation { color: #a40000; margin: .25rem 0; }
    .sy-sync.sy-state-error { border-color: #d33; }
    dl { display: grid; grid-template-columns: max-content auto; gap: .1rem .5rem; margin: .25rem 0; }
    dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
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
