// The server's JSON API (docs/http.md): the session's CSRF token on every
// state-changing call, errors as ApiError with the error document's kind
// and message.

let csrfToken = null;
let onUnauthenticated = () => {};

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called when any call other than the session's own answers 401. */
export function setUnauthenticatedHandler(handler) {
  onUnauthenticated = handler;
}

export class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(detail.message || `The server answered ${status}`);
    this.status = status;
    this.kind = detail.kind || 'http';
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** Seconds until a retry, from `Retry-After` (seconds or an HTTP date). */
function retryAfterSeconds(header) {
  if (!header) return null;
  const n = Number(header);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** `/api/v1/actions?tab=pending&kind=a&kind=b`: arrays repeat, empty values are left out. */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value == null || value === '') continue;
    if (Array.isArray(value)) value.filter((v) => v !== '').forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * One call. `body` is sent as JSON; `ifMatch` (a version) as `If-Match: "<version>"`.
 * Resolves to `{data, etag, status}`; rejects with ApiError.
 */
export async function request(method, path, { body, ifMatch, query, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  const changes = method !== 'GET' && method !== 'HEAD';
  if (changes) {
    headers['Content-Type'] = 'application/json';
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  }
  if (ifMatch != null) headers['If-Match'] = `"${ifMatch}"`;
  let response;
  try {
    response = await fetch(withQuery(path, query), {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? (method === 'POST' ? '{}' : undefined) : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { kind: 'network', message: 'The server cannot be reached. Check your connection and try again.' });
  }
  let data = null;
  const type = response.headers.get('Content-Type') || '';
  if (response.status !== 204) {
    const text = await response.text();
    if (text && type.includes('json')) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
  }
  if (!response.ok) {
    const detail = (data && (data.error || data)) || {};
    if (!detail.kind && response.status === 401) detail.kind = 'unauthenticated';
    if (!detail.kind && response.status === 429) detail.kind = 'rate_limited';
    if (!detail.message) detail.message = `The server answered ${response.status} ${response.statusText}`.trim();
    const err = new ApiError(response.status, detail, retryAfterSeconds(response.headers.get('Retry-After')));
    err.body = data;
    if (response.status === 401 && !quiet401) onUnauthenticated(err);
    throw err;
  }
  return { data, etag: response.headers.get('ETag'), status: response.status };
}

export const api = {
  get: (path, options) => request('GET', path, options).then((r) => r.data),
  post: (path, body, options) => request('POST', path, { ...options, body }).then((r) => r.data),
  put: (path, body, options) => request('PUT', path, { ...options, body }).then((r) => r.data),
  del: (path, options) => request('DELETE', path, options).then((r) => r.data),
};

/** The version an ETag names: `"7"` and `W/"7"` give 7. */
export function versionFromEtag(etag) {
  if (!etag) return null;
  const m = /"(\d+)"/.exec(etag) || /^(\d+)$/.exec(etag);
  return m ? Number(m[1]) : null;
}

/** A list answer as an array, whether the server sent `[...]` or `{"items": [...]}`. */
export function itemsOf(data, ...keys) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') {
    for (const key of ['items', ...keys]) if (Array.isArray(data[key])) return data[key];
  }
  return [];
}

export function actionPath(id, verb) {
  const base = `/api/v1/actions/${encodeURIComponent(id)}`;
  return verb ? `${base}/${verb}` : base;
}
