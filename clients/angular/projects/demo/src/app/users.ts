import type { EvaluationContext } from '@openfeature/web-sdk';

/** The demo's users: each sets the OpenFeature context the server's segments look at. */
export interface DemoUser {
  id: string;
  label: string;
  context: EvaluationContext;
}

export const USERS: DemoUser[] = [
  { id: 'anonymous', label: 'Anonymous', context: {} },
  { id: 'premium', label: 'Premium user', context: { targetingKey: 'premium-user', plan: 'premium' } },
  { id: 'beta', label: 'Beta tester', context: { targetingKey: 'beta-tester', betaTester: 'true' } },
  { id: 'enterprise', label: 'Enterprise user', context: { targetingKey: 'enterprise-user', plan: 'enterprise' } },
];

/** The seed's flags. */
export const DEMO_FLAGS = ['newHomeUI', 'newDashboard', 'newPaymentFlow', 'checkoutExperiment'];
