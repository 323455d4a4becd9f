// @ts-check
// The session of the study page: the API's address (/config.js), the page's state
// (window.vividState), one request as fetch sees it, the in-memory access token refreshed through
// the HttpOnly cookie (one refresh at a time), sign-in on every page load, log out. And the
// page's small DOM helpers.

/** @import { Answer, ReadableHeaders, SchemaName, Schemas } from './types.js' */

const API = window.VIVID_CONFIG.api;

/**
 * @typedef {object} RefreshSeen  what each refresh answered (the browser test reads them)
 * @property {number} status
 * @property {string | null} cacheControl
 * @property {string[]} keys
 * @property {boolean} refreshTokenInBody
 * @property {unknown} expiresIn
 * @property {unknown} tokenType
 * @property {number} at
 */

export const state = {
  /** @type {string | null} */
  token: null,
  tokenExpiresAt: 0,
  /** @type {RefreshSeen[]} */
  refreshes: [],
  /** @type {Array<{ method: string, path: string, status: number }>} every API call */
  calls: [],
  /** @type {Schemas['PlaybackGrant'] | null} the current playback grant */
  playback: null,
};
window.vividState = state;

/**
 * The element `id` of the page, of the type asked (an error if the page has no such element).
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T, prototype: T }} type
 * @returns {T}
 */
export function el(id, type) {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return e;
}

/** @param {string} id */
export const $ = (id) => document.getElementById(id);

/** @param {string} text */
export function show(text) {
  const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
  console.log(`[vivid] ${line}`);
  const log = $('log');
  if (log) log.textContent = (line + '\n' + (log.textContent || '')).slice(0, 20000);
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
export const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

export class ApiError extends Error {
  /** @param {Answer<unknown>} call */
  constructor(call) {
    const p = isObject(call.body) ? call.body : {};
    super(`${call.method} ${call.path} -> ${call.status}: ${p['code'] || ''} ${p['detail'] || p['title'] || p['message'] || ''}`);
    this.call = call;
  }
}

/**
 * @typedef {object} SendOptions
 * @property {unknown} [body]  JSON (an object) or text as is
 * @property {Record<string, string>} [headers]
 * @property {string | null} [token]
 * @property {RequestCredentials} [credentials]
 */

/** @param {string} text */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return { unparsable: text };
  }
}

/**
 * One request to the API, as fetch sees it. The body is what the API answered, parsed: callers
 * type it by the schema they expect (`ok`) or treat it as unknown (`api`).
 * @param {string} method
 * @param {string} path
 * @param {SendOptions} [options]
 */
async function request(method, path, { body, headers = {}, token, credentials = 'omit' } = {}) {
  /** @type {Record<string, string>} */
  const h = { ...headers };
  if (token) h['authorization'] = `Bearer ${token}`;
  /** @type {string | undefined} */
  let payload;
  if (body !== undefined) {
    h['content-type'] = h['content-type'] || 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  /** @type {RequestInit} */
  const init = { method, headers: h, credentials, cache: 'no-store' };
  if (payload !== undefined) init.body = payload;
  const resp = await fetch(API + path, init);
  const text = await resp.text();
  const type = resp.headers.get('content-type') || '';
  /** @type {ReadableHeaders} */
  const readable = {
    etag: resp.headers.get('etag'),
    location: resp.headers.get('location'),
    contentType: type,
    cacheControl: resp.headers.get('cache-control'),
  };
  state.calls.push({ method, path, status: resp.status });
  show(`${method} ${path} -> ${resp.status}`);
  const parsed = text && type.includes('json') ? parseJson(text) : text;
  return { method, path, status: resp.status, body: parsed, headers: readable };
}

/**
 * A request without the access token (refresh, logout, a token of the caller's).
 * @param {string} method
 * @param {string} path
 * @param {SendOptions} [options]
 * @returns {Promise<Answer<unknown>>}
 */
export const send = (method, path, options) => request(method, path, options);

/** @param {string} accessToken @param {number} expiresIn */
function adopt(accessToken, expiresIn) {
  state.token = accessToken;
  state.tokenExpiresAt = Date.now() + expiresIn * 1000;
}

// Refreshes through the HttpOnly cookie; one refresh at a time (a second concurrent one would
// present a rotated token and end the session).
/** @type {Promise<void> | null} */
let refreshing = null;
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const call = await request('POST', '/auth/refresh', { credentials: 'include' });
      /** @type {Schemas['RefreshedTokens'] | Schemas['Problem']} */
      const b = call.body;
      state.refreshes.push({
        status: call.status,
        cacheControl: call.headers.cacheControl,
        keys: isObject(b) ? Object.keys(b).sort() : [],
        refreshTokenInBody: isObject(b) && 'refreshToken' in b,
        expiresIn: 'expiresIn' in b ? b.expiresIn : undefined,
        tokenType: 'tokenType' in b ? b.tokenType : undefined,
        at: Date.now(),
      });
      if (call.status !== 200 || !('accessToken' in b)) {
        state.token = null;
        throw new ApiError(call);
      }
      adopt(b.accessToken, b.expiresIn);
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/**
 * An authenticated call: refreshes shortly before the token expires, and once on a 401.
 * @param {string} method
 * @param {string} path
 * @param {SendOptions} [options]
 */
async function authed(method, path, options = {}) {
  if (!state.token || Date.now() > state.tokenExpiresAt - 1500) await refresh();
  let call = await request(method, path, { ...options, token: state.token });
  if (call.status === 401) {
    await refresh();
    call = await request(method, path, { ...options, token: state.token });
  }
  return call;
}

/**
 * An authenticated call whatever it answers (the caller looks at the status).
 * @param {string} method
 * @param {string} path
 * @param {SendOptions} [options]
 * @returns {Promise<Answer<unknown>>}
 */
export const api = (method, path, options) => authed(method, path, options);

/**
 * An authenticated call that must answer one of `expected`, with the body the document names
 * `schema` (a name of the generated types: the answer is typed by it).
 * @template {SchemaName} K
 * @param {K} schema
 * @param {string} method
 * @param {string} path
 * @param {SendOptions} [options]
 * @param {number[]} [expected]
 * @returns {Promise<Answer<Schemas[K]>>}
 */
export async function ok(schema, method, path, options, expected = [200]) {
  const call = await authed(method, path, options);
  if (!expected.includes(call.status)) throw new ApiError(call);
  if (!isObject(call.body)) throw new Error(`${method} ${path}: not the ${schema} the document promises`);
  return call;
}

/**
 * What the sign-in redirect or the cookie gave a page load.
 * @typedef {object} Boot
 * @property {boolean} signedIn
 * @property {string} [source]
 * @property {string | null} [tokenType]
 * @property {number} [expiresIn]
 * @property {string | null} [token]
 * @property {string} [error]
 * @property {string} [errorDescription]  what to do about it (the API's problem detail)
 * @property {number} [status]
 * @property {unknown} [body]
 * @property {string} [contentType]
 */

/**
 * Every page load: the token from the sign-in redirect's fragment, else from the cookie.
 * @returns {Promise<Boot>}
 */
export async function boot() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const error = fragment.get('error');
  if (error) {
    // A refused sign-in (declined at Google, or the API's problem: `error_description` says what
    // to do, e.g. for email_taken) comes back here too.
    const errorDescription = fragment.get('error_description') || '';
    show(`sign-in failed: ${error} ${errorDescription}`);
    history.replaceState(null, '', location.pathname + location.search);
    return { signedIn: false, error, errorDescription };
  }
  const token = fragment.get('accessToken');
  if (token) {
    const expiresIn = Number(fragment.get('expiresIn'));
    adopt(token, expiresIn);
    history.replaceState(null, '', location.pathname + location.search); // no token in history
    show('signed in (token from the redirect)');
    return { signedIn: true, source: 'fragment', tokenType: fragment.get('tokenType'), expiresIn, token: state.token };
  }
  try {
    await refresh();
    show('signed in (refresh cookie)');
    return { signedIn: true, source: 'cookie', token: state.token };
  } catch (e) {
    show('not signed in');
    if (!(e instanceof ApiError)) throw e;
    return { signedIn: false, status: e.call.status, body: e.call.body, contentType: e.call.headers.contentType };
  }
}

/**
 * Google sign-in (the stand-in in the local stack): back to signed-in.html with the token in the
 * fragment, which sends the person on to `back` (this page's path by default).
 * @param {string} [back]
 */
export function signInUrl(back = location.pathname + location.search) {
  const returnTo = `${location.origin}/signed-in.html?next=${encodeURIComponent(back)}`;
  return `${API}/auth/google/login?returnTo=${encodeURIComponent(returnTo)}`;
}

/**
 * A call with a token the page no longer uses (the test's proof that it expired).
 * @param {string} token
 * @param {string} method
 * @param {string} path
 */
export async function callWithToken(token, method, path) {
  const call = await request(method, path, { token });
  return { status: call.status, body: call.body };
}

export async function me() {
  return (await ok('User', 'GET', '/users/me')).body;
}

// Logout needs the refresh cookie only: no access token (one that expired must not keep the
// browser signed in).
export async function logout() {
  const out = await request('POST', '/auth/logout', { credentials: 'include' });
  state.token = null;
  const after = await request('POST', '/auth/refresh', { credentials: 'include' });
  return {
    logout: { status: out.status, body: out.body },
    refreshAfter: { status: after.status, body: after.body, contentType: after.headers.contentType },
  };
}
