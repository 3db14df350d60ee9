import { ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideHttpClient, withFetch } from '@angular/common/http';
import { provideSwitchyard } from 'switchyard-angular';
import { DEMO_FLAGS, USERS } from './users';

/**
 * Where the Switchyard server is: `?server=http://host:port` (also `?env=`, `?namespace=`,
 * `?token=`), default `http://localhost:8080` — what `switchyard demo` listens on.
 */
export function serverSettings(search = globalThis.location?.search ?? '') {
  const q = new URLSearchParams(search);
  return {
    url: q.get('server') || 'http://localhost:8080',
    environment: q.get('env') || undefined,
    namespace: q.get('namespace') || undefined,
    token: q.get('token') || undefined,
  };
}

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideHttpClient(withFetch()),
    provideSwitchyard({ ...serverSettings(), context: USERS[0].context, flagKeys: DEMO_FLAGS }),
  ],
};
