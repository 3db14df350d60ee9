// HTTP client for the Switchyard API (docs/api.md). URLs are relative to the page so the dashboard
// also works behind a reverse proxy that mounts it under a sub-path.

const TOKEN_KEY = 'switchyard.token';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The error raised when the server cannot be reached at all. */
export class NetworkError extends Error {}

export const getToken = () => sessionStorage.getItem(TOKEN_KEY) || '';
export const setToken = (token) => (token ? sessionStorage.setItem(TOKEN_KEY, token) : sessionStorage.removeItem(TOKEN_KEY));

const enc = encodeURIComponent;

/** fetch + JSON with the admin token (when the user gave one) and the server's error messages. */
export async function request(path, { method = 'GET', body, query, signal } = {}) {
  const url = new URL(path, document.baseURI);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new NetworkError(`server unreachable (${err.message})`);
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    const message = (data && typeof data === 'object' && (data.message || data.error || data.errorDetails)) || `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, String(message), data);
  }
  return data;
}

export const api = {
  health: () => request('health'),
  environments: () => request('api/v2/environments'),
  statuses: () => request('api/v1/sync/statuses'),
  status: (env) => request('api/v1/sync/status', { query: { environment: env } }),
  history: (env) => request('api/v1/sync/history', { query: { environment: env } }),
  diff: (env, from, to) => request(`api/v1/environments/${enc(env)}/diff`, { query: { from, to } }),
  triggerSync: (env) => request('api/v1/sync', { method: 'POST', query: { environment: env } }),
  resume: (env, reason) => request(`api/v1/environments/${enc(env)}/resume`, { method: 'POST', body: { reason } }),
  endOverride: (env, ns, flag, reason) => request(`api/v1/environments/${enc(env)}/overrides/${enc(ns)}/${enc(flag)}`, { method: 'DELETE', body: { reason } }),
  namespaces: (env) => request(`api/v1/environments/${enc(env)}/namespaces`),
  document: (env, ns) => request(`api/v1/environments/${enc(env)}/namespaces/${enc(ns)}/document`),
  evaluate: (kind, body) => request(`evaluate/v1/${kind === 'boolean' ? 'boolean' : 'variant'}`, { method: 'POST', body }),
  eventsUrl: () => new URL('api/v1/sync/events', document.baseURI).href,
};
