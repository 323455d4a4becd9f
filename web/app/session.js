// @ts-check
// The session of the study page: the API's address (/config.js), the page's state
// (window.vividState), one request as fetch sees it, the in-memory access token refreshed through
// the HttpOnly cookie (one refresh at a time) -- or, for a session an LMS launch made (lti.js),
// with the refresh token it holds in memory, sent in the body -- sign-in on every page load, log
// out. And the page's small DOM helpers.

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

/**
 * The browser's storage of this kind, or null where this document may not use it: a third-party
 * iframe whose browser blocks its storage (the page inside an LMS: lti.js) throws on any access.
 * @param {'localStorage' | 'sessionStorage'} kind
 * @returns {Storage | null}
 */
export function storage(kind) {
  try {
    return window[kind];
  } catch {
    return null;
  }
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
 * @property {boolean} [keepalive]  the request outlives the page (a report sent as it is hidden or left)
 */

/** @param {string} text @returns {unknown} */
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
async function request(method, path, { body, headers = {}, token, credentials = 'omit', keepalive = false } = {}) {
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
  const init = { method, headers: h, credentials, cache: 'no-store', keepalive };
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

// The refresh token of a session an LMS launch made (POST /lti/session answers it in the body):
// in this module's memory only, never on `window` nor in any storage. Inside the LMS's iframe no
// cookie reaches the API (third-party cookies blocked), so this session refreshes with it in the
// body. Null for the Google sign-in's session, whose refresh token is the HttpOnly cookie.
/** @type {string | null} */
let bodyRefreshToken = null;

/**
 * Adopts a session whose refresh token travels in request bodies (an LMS launch's: lti.js).
 * @param {string} accessToken
 * @param {number} expiresIn
 * @param {string} refreshToken
 */
export function adoptSession(accessToken, expiresIn, refreshToken) {
  adopt(accessToken, expiresIn);
  bodyRefreshToken = refreshToken;
}

// Refreshes through the HttpOnly cookie, or with the launch's refresh token in the body (which
// the answer rotates); one refresh at a time (a second concurrent one would present a rotated
// token and end the session).
/** @type {Promise<void> | null} */
let refreshing = null;
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const presented = bodyRefreshToken;
      const call = presented
        ? await request('POST', '/auth/refresh', { body: { refreshToken: presented } })
        : await request('POST', '/auth/refresh', { credentials: 'include' });
      const b = isObject(call.body) ? call.body : {};
      state.refreshes.push({
        status: call.status,
        cacheControl: call.headers.cacheControl,
        keys: Object.keys(b).sort(),
        refreshTokenInBody: 'refreshToken' in b,
        expiresIn: b['expiresIn'],
        tokenType: b['tokenType'],
        at: Date.now(),
      });
      const { accessToken, expiresIn, refreshToken } = b;
      if (call.status !== 200 || typeof accessToken !== 'string' || typeof expiresIn !== 'number') {
        state.token = null;
        throw new ApiError(call);
      }
      if (presented) {
        if (typeof refreshToken !== 'string') throw new ApiError(call);
        bodyRefreshToken = refreshToken;
      }
      adopt(accessToken, expiresIn);
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
 * The required fields of each schema the page asks `ok` for, as the document lists them (typed:
 * a field the schema lacks does not compile). `ok` types a body by its schema only when it is an
 * object carrying every one of them; their values' types and any nested shape are the API's word,
 * not checked here (the contract test and the black-box tier check the server's answers against
 * the document). A schema missing from this table is refused at run time.
 * @type {{ readonly [K in SchemaName]?: ReadonlyArray<keyof Schemas[K]> }}
 */
const REQUIRED = {
  User: ['userId', 'email', 'name', 'personalSpaceId', 'createdAt'],
  Profile: ['userId', 'email', 'name', 'personalSpaceId', 'createdAt', 'webexConnected', 'zoomConnected', 'usage'],
  Space: ['spaceId', 'name', 'description', 'personal', 'hostId', 'role', 'memberCount', 'videoCount', 'createdAt', 'updatedAt'],
  SpaceList: ['items'],
  Video: ['videoId', 'spaceId', 'title', 'status', 'fileName', 'contentType', 'sizeBytes', 'createdAt', 'updatedAt', 'progress'],
  CreatedVideo: ['videoId', 'spaceId', 'title', 'status', 'fileName', 'contentType', 'sizeBytes', 'createdAt', 'upload'],
  VideoList: ['items'],
  UploadResume: ['uploadId', 'partSize', 'partCount', 'uploadedParts', 'parts', 'completeUrl', 'expiresAt'],
  PlaybackGrant: ['signedQuery', 'expiresAt', 'videoId'],
  Memo: ['videoId', 'stateJson', 'videoTime', 'version', 'updatedAt'],
  Checkpoint: ['checkpointId', 'stateJson', 'videoTime', 'version', 'createdAt'],
  CheckpointList: ['items'],
  CreatedSnapshot: ['snapshotId', 'videoId', 'videoSeconds', 'contentType', 'createdAt', 'upload'],
  SnapshotList: ['items'],
  Bookmark: ['bookmarkId', 'videoId', 'videoSeconds', 'label', 'createdAt'],
  BookmarkList: ['items'],
  SearchResult: ['query', 'terms', 'items'],
  DrawingWithDocument: ['drawingId', 'kind', 'sizeBytes', 'updatedAt', 'document'],
  DrawingList: ['items'],
  InvitationList: ['items'],
  WebexRecordingList: ['items'],
  ZoomMeetingList: ['items'],
  CoverageView: ['percent', 'watchedSeconds', 'ranges', 'completed'],
};

/**
 * Whether `body` is an object with every field REQUIRED lists for `schema` (see there for what
 * this does not check).
 * @template {SchemaName} K
 * @param {K} schema
 * @param {unknown} body
 * @returns {body is Schemas[K]}
 */
function conforms(schema, body) {
  /** @type {ReadonlyArray<PropertyKey> | undefined} */
  const fields = REQUIRED[schema];
  return isObject(body) && fields !== undefined && fields.every((f) => f in body);
}

/**
 * An authenticated call that must answer one of `expected`, with the body the document names
 * `schema` (a name of the generated types: the answer is typed by it once `conforms` saw its
 * required fields).
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
  const body = call.body;
  if (!conforms(schema, body)) throw new Error(`${method} ${path}: not the ${schema} the document promises`);
  return { ...call, body };
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

// Login CSRF: a sign-in this tab started keeps a random value here and carries it through the
// redirect in the returning address's `signin=` parameter; a fragment token is taken only with it.
const SIGN_IN_KEY = 'vivid.signIn';
const SIGN_IN_PARAM = 'signin';

/**
 * Every page load: the token from the sign-in redirect's fragment when this tab started that
 * sign-in, else from the cookie. A fragment token arriving without this tab's sign-in value (a link
 * with someone else's token) is dropped, and the page stays signed out.
 * @returns {Promise<Boot>}
 */
export async function boot() {
  const query = new URLSearchParams(location.search);
  const carried = query.get(SIGN_IN_PARAM);
  query.delete(SIGN_IN_PARAM);
  const rest = query.toString();
  const clean = location.pathname + (rest ? `?${rest}` : '');
  const tab = storage('sessionStorage');
  const expected = tab ? tab.getItem(SIGN_IN_KEY) : null;
  const started = carried !== null && expected !== null && carried === expected;
  if (started && tab) tab.removeItem(SIGN_IN_KEY);
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (carried !== null || location.hash) history.replaceState(null, '', clean); // no token in history
  const error = fragment.get('error');
  if (error) {
    // A refused sign-in (declined at Google, or the API's problem: `error_description` says what
    // to do, e.g. for email_taken) comes back here too. Only one this page started may speak:
    // anybody can write an address with a fragment (a lure in error_description), so an error
    // this page did not start is told in the page's own words, its text never shown.
    if (!started) {
      const said = 'a sign-in this page did not start came back refused: sign in again';
      show(`sign-in failed: ${said}`);
      return { signedIn: false, error: 'foreign_sign_in', errorDescription: said };
    }
    const errorDescription = fragment.get('error_description') || '';
    show(`sign-in failed: ${error} ${errorDescription}`);
    return { signedIn: false, error, errorDescription };
  }
  const token = fragment.get('accessToken');
  if (token && !started) {
    show('not signed in: a sign-in this page did not start was ignored');
    return { signedIn: false, error: 'foreign_sign_in', errorDescription: 'a sign-in link this page did not start was ignored' };
  }
  if (token) {
    const expiresIn = Number(fragment.get('expiresIn'));
    adopt(token, expiresIn);
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
 * fragment, which sends the person on to `back` (this page's path by default) with this tab's
 * sign-in value added to its query (one per tab until a sign-in uses it; `boot` checks it). Where
 * the page may keep no value (its storage blocked), the sign-in it returns with is refused.
 * @param {string} [back]
 */
export function signInUrl(back = location.pathname + location.search) {
  const tab = storage('sessionStorage');
  let value = tab ? tab.getItem(SIGN_IN_KEY) : null;
  if (!value) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    value = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    if (tab) tab.setItem(SIGN_IN_KEY, value);
  }
  const next = new URL(back, location.origin);
  next.searchParams.set(SIGN_IN_PARAM, value);
  const returnTo = `${location.origin}/signed-in.html?next=${encodeURIComponent(next.pathname + next.search)}`;
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

/** The signed-in user's id, as the access token names it (`sub`); null signed out. */
export function userId() {
  try {
    const payload = (state.token || '').split('.')[1] || '';
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return isObject(claims) && typeof claims['sub'] === 'string' ? claims['sub'] : null;
  } catch {
    return null;
  }
}

/**
 * Where this user's unfinished multipart upload is remembered in `localStorage` (uploads.js); null
 * signed out, or where the page has no storage (then nothing is remembered).
 */
export function resumeKey() {
  const id = userId();
  return id && storage('localStorage') ? `vivid.multipart.${id}` : null;
}

// Logout needs the refresh token only (the cookie, or a launch's in the body): no access token
// (one that expired must not keep the browser signed in). What this user left in the browser's
// storage goes too.
export async function logout() {
  const key = resumeKey();
  const kept = storage('localStorage');
  if (key && kept) kept.removeItem(key);
  if (kept) kept.removeItem('vivid.multipart'); // the unkeyed record of earlier versions
  const presented = bodyRefreshToken;
  /** @type {SendOptions} */
  const send = presented ? { body: { refreshToken: presented } } : { credentials: 'include' };
  const out = await request('POST', '/auth/logout', send);
  state.token = null;
  bodyRefreshToken = null;
  const after = await request('POST', '/auth/refresh', send);
  return {
    logout: { status: out.status, body: out.body },
    refreshAfter: { status: after.status, body: after.body, contentType: after.headers.contentType },
  };
}
