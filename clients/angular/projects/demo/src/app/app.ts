import { Component, computed, inject, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { EvaluatedFlag, FlagService, GitSyncService, GitSyncStatusComponent, SWITCHYARD_CONFIG } from 'switchyard-angular';
import { DemoUser, USERS } from './users';

const COLORS: Record<string, string> = { 'variant-a': 'green', 'variant-b': 'blue' };

/** The checkout button colour: the variant's attachment `buttonColor`, else one per variant key. */
export function checkoutColor(flag: EvaluatedFlag | undefined, variant: string): string {
  const raw = flag?.metadata?.['attachment'] ?? flag?.metadata?.['buttonColor'];
  if (typeof raw === 'string') {
    try {
      const parsed = JSON.parse(raw);
      if (parsed && typeof parsed.buttonColor === 'string') return parsed.buttonColor;
    } catch {
      if (/^[a-z]+$|^#[0-9a-f]{3,8}$/i.test(raw)) return raw;
    }
  }
  return COLORS[variant] ?? 'dimgray';
}

@Component({
  selector: 'app-root',
  imports: [GitSyncStatusComponent],
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  private readonly flags = inject(FlagService);
  protected readonly sync = inject(GitSyncService);
  protected readonly server = inject(SWITCHYARD_CONFIG).url;
  protected readonly users = USERS;
  protected readonly user = signal<DemoUser>(USERS[0]);

  protected readonly newHomeUI = toSignal(this.flags.boolean$('newHomeUI', false), { initialValue: false });
  protected readonly newDashboard = toSignal(this.flags.boolean$('newDashboard', false), { initialValue: false });
  protected readonly newPaymentFlow = toSignal(this.flags.boolean$('newPaymentFlow', false), { initialValue: false });
  protected readonly checkoutVariant = toSignal(this.flags.variant$('checkoutExperiment', 'control'), {
    initialValue: 'control',
  });
  private readonly checkoutFlag = toSignal(this.flags.flag$('checkoutExperiment'));
  protected readonly checkoutColor = computed(() => checkoutColor(this.checkoutFlag(), this.checkoutVariant()));
  protected readonly allFlags = toSignal(this.flags.flags$, { initialValue: {} });
  protected readonly flagRows = computed(() => Object.entries(this.allFlags()));
  protected readonly syncMessage = signal('');
  protected readonly live = toSignal(this.sync.connected$, { initialValue: false });

  protected async switchUser(u: DemoUser): Promise<void> {
    this.user.set(u);
    await this.flags.setContext(u.context);
  }

  protected async syncNow(): Promise<void> {
    try {
      await this.sync.requestSync();
      this.syncMessage.set('Sync requested');
    } catch (e: any) {
      this.syncMessage.set(`Sync refused: ${e?.status ?? ''} ${e?.error?.message ?? e?.message ?? ''}`.trim());
    }
  }

  protected json(v: unknown): string {
    return v === undefined ? '' : JSON.stringify(v);
  }
}
