//! The cookies the API sets, and their policy.
//!
//! - `vivid_refresh`: the browser's refresh token. `HttpOnly; Secure; SameSite=Strict;
//!   Path=/auth`, host-only on the API's domain. With the API and the front end on sibling
//!   subdomains of one site (`api.example.com`, `app.example.com`), the front end's
//!   `fetch('/auth/refresh', {credentials: 'include'})` is a same-site request and carries it;
//!   from another site no browser sends it (the SPA then keeps the refresh token itself and sends
//!   it in the body).
//! - `vivid_login`: binds a Google login to the browser that started it. `SameSite=Lax`: it must
//!   come back on the top-level redirect from Google.

use vivid_domain::{
    sessions::{LOGIN_TTL_SECS, REFRESH_TTL_SECS, TokenPair},
    types::unix_now,
};
use vivid_edge::http::{SameSite, clear_cookie, cookie};

pub const REFRESH: &str = "vivid_refresh";
const REFRESH_PATH: &str = "/auth";
pub const LOGIN: &str = "vivid_login";
const LOGIN_PATH: &str = "/auth/google";

/// The refresh cookie for a token pair: it lives as long as the token does (at most
/// [`REFRESH_TTL_SECS`], less when the session ends sooner), so a browser never keeps a token
/// the API would refuse.
pub fn refresh(pair: &TokenPair) -> String {
    let max_age = pair.refresh_expires_in(unix_now()).min(REFRESH_TTL_SECS);
    cookie(REFRESH, &pair.refresh, REFRESH_PATH, max_age, SameSite::Strict, None)
}

pub fn clear_refresh() -> String {
    clear_cookie(REFRESH, REFRESH_PATH, SameSite::Strict, None)
}

pub fn login(binding: &str) -> String {
    cookie(LOGIN, binding, LOGIN_PATH, LOGIN_TTL_SECS, SameSite::Lax, None)
}

pub fn clear_login() -> String {
    clear_cookie(LOGIN, LOGIN_PATH, SameSite::Lax, None)
}
