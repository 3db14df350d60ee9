/*
 * Public API of switchyard-angular.
 */
export * from './lib/config';
export * from './lib/sse';
export * from './lib/git-sync.service';
export * from './lib/ofrep-flag-cache';
export * from './lib/flag.service';
export * from './lib/provide-switchyard';
export * from './lib/git-sync-status.component';
