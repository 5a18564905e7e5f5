// SPDX-License-Identifier: EUPL-1.2
// The admin endpoints (docs/api.md section 6, docs/console.md), fetched from the
// hub that served this page. When the hub has an admin token, the console
// asks for it once and keeps it in sessionStorage (this tab only), sending
// it as "Authorization: Bearer <token>".

const TOKEN_KEY = 'carrefour.adminToken';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let askToken = null;   // set by the app: () => Promise<string>
let statusListener = () => {};
let pendingAsk = null;

export function onTokenNeeded(fn) { askToken = fn; }
export function onHubStatus(fn) { statusListener = fn; }
export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function forgetToken() { sessionStorage.removeItem(TOKEN_KEY); }

async function once(path, signal) {
  const headers = { Accept: 'application/json' };
  const saved = token();
  if (saved) headers.Authorization = `Bearer ${saved}`;
  let response;
  try {
    response = await fetch(path, { headers, signal, cache: 'no-store' });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    statusListener('down');
    throw new ApiError(0, 'unreachable', 'The hub does not answer (is it running?).');
  }
  statusListener('live');
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) {
    const error = body && body.error ? body.error : { code: `http-${response.status}`, message: text || response.statusText };
    throw new ApiError(response.status, error.code, error.message);
  }
  if (body === null) throw new ApiError(response.status, 'invalid-json', `${path} did not answer JSON`);
  return body;
}

// GET `path` (with its query), as parsed JSON. Throws ApiError; a missing or
// wrong token makes the console ask for one, then tries again.
export async function get(path, { signal } = {}) {
  for (let attempt = 0; ; attempt++) {
    const used = token();
    try {
      return await once(path, signal);
    } catch (error) {
      const needsToken = error instanceof ApiError && error.status === 403 && error.code === 'not-authorized';
      if (!needsToken || !askToken || attempt > 5) throw error;
      // Another request may have had a new token entered meanwhile.
      if (token() && token() !== used) continue;
      forgetToken();
      // Several pages' requests may fail at once: one dialog answers them all.
      pendingAsk = pendingAsk || askToken(used !== '').finally(() => { pendingAsk = null; });
      sessionStorage.setItem(TOKEN_KEY, await pendingAsk);
    }
  }
}

export function query(path, params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
