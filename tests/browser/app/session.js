// The session of the browser test's page (tests/browser/app.js): the API's address, the page's
// state (window.vividState), one request as fetch sees it, the in-memory access token refreshed
// through the HttpOnly cookie (one refresh at a time), sign-in on every page load, log out.

const API = window.VIVID_CONFIG.api;

export const state = {
  token: null,
  tokenExpiresAt: 0,
  refreshes: [], // what each refresh answered
  calls: [], // every API call: method, path, status
  hls: null,
  playback: null, // the current playback grant
  overlay: null, // {startSeconds, endSeconds, document}
};
window.vividState = state;

export const $ = (id) => document.getElementById(id);

export function show(text) {
  const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
  console.log(`[vivid] ${line}`);
  const log = $('log');
  if (log) log.textContent += line + '\n';
}

export class ApiError extends Error {
  constructor(call) {
    const p = call.body && typeof call.body === 'object' ? call.body : {};
    super(`${call.method} ${call.path} -> ${call.status}: ${p.code || ''} ${p.detail || p.title || p.message || ''}`);
    this.call = call;
  }
}

// One request to the API, as fetch sees it: status, the headers a page may read, the body.
export async function send(method, path, { body, headers = {}, token, credentials = 'omit' } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    h['content-type'] = h['content-type'] || 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const resp = await fetch(API + path, { method, headers: h, body: payload, credentials, cache: 'no-store' });
  const text = await resp.text();
  let parsed = text;
  const type = resp.headers.get('content-type') || '';
  if (text && type.includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      parsed = { unparsable: text };
    }
  }
  const call = {
    method,
    path,
    status: resp.status,
    body: parsed,
    headers: {
      etag: resp.headers.get('etag'),
      location: resp.headers.get('location'),
      contentType: type,
      cacheControl: resp.headers.get('cache-control'),
    },
  };
  state.calls.push({ method, path, status: resp.status });
  show(`${method} ${path} -> ${resp.status}`);
  return call;
}

function adopt(accessToken, expiresIn) {
  state.token = accessToken;
  state.tokenExpiresAt = Date.now() + Number(expiresIn) * 1000;
}

// Refreshes through the HttpOnly cookie; one refresh at a time (a second concurrent one would
// present a rotated token and end the session).
let refreshing = null;
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const call = await send('POST', '/auth/refresh', { credentials: 'include' });
      const b = call.body || {};
      state.refreshes.push({
        status: call.status,
        cacheControl: call.headers.cacheControl,
        keys: typeof b === 'object' ? Object.keys(b).sort() : [],
        refreshTokenInBody: typeof b === 'object' && 'refreshToken' in b,
        expiresIn: b.expiresIn,
        tokenType: b.tokenType,
        at: Date.now(),
      });
      if (call.status !== 200) {
        state.token = null;
        throw new ApiError(call);
      }
      adopt(b.accessToken, b.expiresIn);
      return call;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// An authenticated call: refreshes shortly before the token expires, and once on a 401.
export async function api(method, path, opts = {}) {
  if (!state.token || Date.now() > state.tokenExpiresAt - 1500) await refresh();
  let call = await send(method, path, { ...opts, token: state.token });
  if (call.status === 401) {
    await refresh();
    call = await send(method, path, { ...opts, token: state.token });
  }
  return call;
}

export async function ok(method, path, opts, expected = [200]) {
  const call = await api(method, path, opts);
  if (!expected.includes(call.status)) throw new ApiError(call);
  return call;
}

// Every page load: the token from the sign-in redirect's fragment, else from the cookie.
export async function boot() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('error')) {
    show(`sign-in failed: ${fragment.get('error')}`);
    return { signedIn: false, error: fragment.get('error') };
  }
  if (fragment.get('accessToken')) {
    adopt(fragment.get('accessToken'), fragment.get('expiresIn'));
    history.replaceState(null, '', location.pathname + location.search); // no token in history
    show('signed in (token from the redirect)');
    return {
      signedIn: true,
      source: 'fragment',
      tokenType: fragment.get('tokenType'),
      expiresIn: Number(fragment.get('expiresIn')),
      token: state.token,
    };
  }
  try {
    await refresh();
    show('signed in (refresh cookie)');
    return { signedIn: true, source: 'cookie', token: state.token };
  } catch (e) {
    show('not signed in');
    if (!e.call) throw e;
    return { signedIn: false, status: e.call.status, body: e.call.body, contentType: e.call.headers.contentType };
  }
}

export function signInUrl() {
  const back = `${location.origin}/signed-in.html`;
  return `${API}/auth/google/login?returnTo=${encodeURIComponent(back)}`;
}

// A call with a token the page no longer uses (the test's proof that it expired).
export async function callWithToken(token, method, path) {
  const call = await send(method, path, { token });
  return { status: call.status, body: call.body };
}

export async function me() {
  return (await ok('GET', '/users/me')).body;
}

// Logout needs the refresh cookie only: no access token (one that expired must not keep the
// browser signed in).
export async function logout() {
  const out = await send('POST', '/auth/logout', { credentials: 'include' });
  state.token = null;
  const after = await send('POST', '/auth/refresh', { credentials: 'include' });
  return {
    logout: { status: out.status, body: out.body },
    refreshAfter: { status: after.status, body: after.body, contentType: after.headers.contentType },
  };
}
