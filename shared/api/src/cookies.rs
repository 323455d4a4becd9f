//! The cookies the API sets, and their policy.
//!
//! - `__Host-vivid_refresh`: the browser's refresh token. `HttpOnly; Secure; SameSite=Strict;
//!   Path=/`, no `Domain`. The `__Host-` prefix makes browsers accept it only when set by the API's
//!   own host over HTTPS with exactly those two attributes, so no sibling subdomain (nor a page on
//!   plain HTTP) can plant or shadow one: a refresh cannot be made to run with someone else's
//!   session (session fixation). The prefix demands `Path=/`, so the cookie now goes with every
//!   credentialed request to the API host, not only `/auth/*`; only `/auth/refresh` and
//!   `/auth/logout` read it, every other route authenticates by the `Authorization` header alone,
//!   so the wider path gives a cross-site request nothing new. With the API and the front end on
//!   sibling subdomains of one site (`api.example.com`, `app.example.com`), the front end's
//!   `fetch('/auth/refresh', {credentials: 'include'})` is a same-site request and carries it;
//!   from another site no browser sends it (`SameSite=Strict`: the defence of `/auth/refresh` and
//!   `/auth/logout` against cross-site requests; the API's CORS policy keeps another origin from
//!   reading the tokens a refresh answers). A client of another site keeps the refresh token itself
//!   and sends it in the body.
//! - Two refresh cookies in one request (two `__Host-vivid_refresh`: a browser without prefix
//!   support, a partitioned copy, a hand-made request) are refused by `/auth/refresh` with 400
//!   `ambiguous_cookie` rather than using the first: which session the browser is in is not for
//!   the cookie order to decide. `/auth/logout` ends every session the request names.
//! - `vivid_refresh` (the name before the prefix, `Path=/auth`) is no longer read: a browser that
//!   still has one signs in again once. Accepting it, even once, would keep the door open that the
//!   prefix closes (a sibling subdomain can set a cookie of that name for the whole site). The
//!   answers of sign-in, refresh and logout clear it when the request carried it.
//! - `vivid_login`: binds a Google login to the browser that started it. `SameSite=Lax`: it must
//!   come back on the top-level redirect from Google.

use vivid_domain::{
    sessions::{LOGIN_TTL_SECS, REFRESH_TTL_SECS, TokenPair},
    types::unix_now,
};
use vivid_edge::{
    ApiError,
    http::{ApiRequest, SameSite, clear_cookie, cookie},
};

pub const REFRESH: &str = "__Host-vivid_refresh";
/// `__Host-` cookies must have `Path=/`.
const REFRESH_PATH: &str = "/";
/// The refresh cookie's name and path before the `__Host-` prefix.
pub const LEGACY_REFRESH: &str = "vivid_refresh";
const LEGACY_REFRESH_PATH: &str = "/auth";
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

/// The removal of a refresh cookie of the old name, when the request carried one.
pub fn clear_legacy_refresh(req: &ApiRequest) -> Option<String> {
    (!req.cookies(LEGACY_REFRESH).is_empty())
        .then(|| clear_cookie(LEGACY_REFRESH, LEGACY_REFRESH_PATH, SameSite::Strict, None))
}

/// The refresh token of the request's cookie, if it carries one; 400 `ambiguous_cookie` for two.
pub fn refresh_token(req: &ApiRequest) -> Result<Option<String>, ApiError> {
    let mut values = refresh_tokens(req);
    if values.len() > 1 {
        return Err(ApiError::bad_request(
            "ambiguous_cookie",
            "the request carries more than one refresh cookie: sign out (or clear this site's cookies) and sign in again",
        ));
    }
    Ok(values.pop())
}

/// Every refresh token the request's cookies carry (a few at most), for a logout that ends them all.
pub fn refresh_tokens(req: &ApiRequest) -> Vec<String> {
    req.cookies(REFRESH).into_iter().filter(|v| !v.is_empty()).take(4).collect()
}

pub fn login(binding: &str) -> String {
    cookie(LOGIN, binding, LOGIN_PATH, LOGIN_TTL_SECS, SameSite::Lax, None)
}

pub fn clear_login() -> String {
    clear_cookie(LOGIN, LOGIN_PATH, SameSite::Lax, None)
}
