//! `/auth/*`: Google sign-in (redirect flow and ID-token flow), refresh, logout; and the caller's
//! sessions: `GET /users/me/sessions` (list) and `DELETE /users/me/sessions` (sign out
//! everywhere). The session model — families, the absolute lifetime, reuse detection and its grace
//! window — is described in `vivid_domain::sessions`.

use std::sync::Arc;

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    identity::IdentityProvider,
    sessions::{
        self, Family, LOGIN_TTL_SECS, LoginState, SessionStore, Sessions, TokenPair, hash_secret, random_token,
    },
    types::{rfc3339_at, unix_now},
    users::User,
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, Handler, with_cookies},
};
use vivid_tokens::TokenVerifier;

use crate::{cookies, users::UserView};

const MAX_TOKEN_BODY: usize = 16 * 1024;
const CALLBACK_PATH: &str = "/auth/google/callback";

/// Where the web front end is, and which API domains may receive Google's redirect.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Where a finished Google sign-in lands when no allowed `returnTo` was given.
    pub frontend_url: String,
    /// Origins (`https://app.example.com`) a `returnTo` may point at.
    pub allowed_return_origins: Vec<String>,
    /// Host names the API is reached at (`api.example.com`; `*.execute-api.eu-central-1.amazonaws.com`
    /// matches any subdomain). The redirect URI is built from the request's own domain, so the
    /// template needs no reference to the API's id (which would be a dependency cycle).
    pub api_domains: Vec<String>,
}

impl WebSettings {
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            frontend_url: cfg.var("VIVID_FRONTEND_URL")?,
            allowed_return_origins: cfg.list("VIVID_ALLOWED_RETURN_ORIGINS").into_iter().map(trim_slash).collect(),
            api_domains: cfg.list("VIVID_API_DOMAINS"),
        })
    }

    /// `candidate` when it is an absolute URL on an allowed origin without a fragment, else `None`.
    pub fn allowed_return(&self, candidate: &str) -> Option<String> {
        let ok = self.allowed_return_origins.iter().any(|origin| {
            candidate.strip_prefix(origin.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        });
        // No fragment: the sign-in's result is written there (`#accessToken=..`, `#error=..`).
        let plain = !candidate.contains('#') && !candidate.chars().any(char::is_control);
        (ok && plain && candidate.len() <= 2048).then(|| candidate.to_owned())
    }

    /// The callback URI on the domain this request reached, when that domain is allowed.
    fn redirect_uri(&self, req: &ApiRequest) -> Result<String, ApiError> {
        self.redirect_uri_at(req, CALLBACK_PATH)
    }

    /// `path` on the domain this request reached, when that domain is allowed: a provider's
    /// callback (the institutional ones: `/auth/oidc/{provider}/callback`).
    pub(crate) fn redirect_uri_at(&self, req: &ApiRequest, path: &str) -> Result<String, ApiError> {
        let origin = req.origin().ok_or_else(unknown_domain)?;
        let host = origin.split_once("://").map(|(_, h)| h).unwrap_or_default();
        let name = host.split(':').next().unwrap_or_default();
        let allowed = self.api_domains.iter().any(|d| match d.strip_prefix("*.") {
            Some(suffix) => name.strip_suffix(suffix).is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
            None => d.split(':').next() == Some(name),
        });
        if allowed { Ok(format!("{origin}{path}")) } else { Err(unknown_domain()) }
    }
}

fn trim_slash(s: String) -> String {
    s.trim_end_matches('/').to_owned()
}

fn unknown_domain() -> ApiError {
    tracing::error!("sign-in reached the API on a domain outside VIVID_API_DOMAINS");
    ApiError::bad_request(
        "unknown_api_domain",
        "sign-in is not available on this domain: start it from the API address the app uses",
    )
}

fn bad_state() -> ApiError {
    ApiError::bad_request(
        "invalid_state",
        "the sign-in state is missing, expired, already used or not from this browser: start the sign-in again (GET /auth/google/login)",
    )
}

/// What a value in the fragment percent-encodes: every byte but RFC 3986's unreserved ones
/// (`A-Z a-z 0-9 - . _ ~`), so `&`, `=`, `#`, `%`, `+` and spaces never break the pairs apart.
const FRAGMENT_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub(crate) fn fragment_value(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, FRAGMENT_VALUE).to_string()
}

/// The token pair as JSON, for the SPA and mobile flows. A refresh answered through the cookie
/// leaves the refresh token out: page script never sees what the HttpOnly cookie hides.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokensBody {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView>,
}

impl TokensBody {
    fn new(pair: TokenPair, refresh_in_body: bool, user: Option<&User>) -> Self {
        Self {
            access_token: pair.access.token,
            token_type: "Bearer",
            expires_in: pair.access.expires_in,
            refresh_token: refresh_in_body.then_some(pair.refresh),
            user: user.map(|u| UserView::new(u.clone())),
        }
    }
}

/// A token response: JSON that no cache keeps.
pub(crate) fn tokens_response(body: &TokensBody) -> Result<Response<Body>, ApiError> {
    let mut resp = http::json(StatusCode::OK, body)?;
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// `GET /auth/google/login`: 302 to Google with state, PKCE (S256) and nonce; the state is
/// stored for ten minutes, bound to this browser by a cookie, and good once.
pub struct GoogleLogin {
    pub idp: Arc<dyn IdentityProvider>,
    /// Where the sign-in's state waits for the callback.
    pub logins: Arc<dyn SessionStore>,
    pub web: WebSettings,
}

#[async_trait]
impl Handler for GoogleLogin {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let redirect_uri = self.web.redirect_uri(req)?;
        let (login, binding) = pending_login(&self.web, req)?;
        self.logins.put_login_state(&login).await?;
        let challenge = pkce_challenge(&login.code_verifier);
        let location = self.idp.authorize_url(&login.state, &challenge, &login.nonce, &redirect_uri);
        with_cookies(http::redirect(&location)?, &[cookies::login(&binding)])
    }
}

/// A sign-in about to leave for its provider: its state, PKCE verifier and nonce (random), the
/// request's `returnTo` when allowed; and the random value of the cookie that binds it to this
/// browser. The caller stores it (good once, for ten minutes) and sets the cookie.
pub(crate) fn pending_login(web: &WebSettings, req: &ApiRequest) -> Result<(LoginState, String), ApiError> {
    let asked = req.query("returnTo");
    if asked.is_some_and(|r| r.chars().count() > 2048) {
        return Err(ApiError::bad_request("invalid_return_to", "returnTo must be at most 2048 characters"));
    }
    if asked.is_some_and(|r| r.contains('#')) {
        return Err(ApiError::bad_request(
            "invalid_return_to",
            "returnTo must not have a fragment (#...): the sign-in's result comes back in the fragment; put what the page needs in its path or query",
        ));
    }
    let return_to = asked.and_then(|r| web.allowed_return(r));
    let binding = random_token()?;
    let login = LoginState {
        state: random_token()?,
        binding_hash: hash_secret(&binding),
        code_verifier: random_token()?,
        nonce: random_token()?,
        return_to,
        expires_at: unix_now() + LOGIN_TTL_SECS,
        provider: None,
        link_user: None,
    };
    Ok((login, binding))
}

/// A PKCE S256 challenge of `verifier`.
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `GET /auth/google/callback`: checks the state against this browser, exchanges the code,
/// verifies the ID token, signs up or in, then 302 to the front end with the access token in the
/// URL fragment and the refresh token in an HttpOnly cookie.
pub struct GoogleCallback {
    pub idp: Arc<dyn IdentityProvider>,
    /// The sign-in's state, taken once.
    pub logins: Arc<dyn SessionStore>,
    pub sessions: Sessions,
    pub web: WebSettings,
}

#[async_trait]
impl Handler for GoogleCallback {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let login = take_login(self.logins.as_ref(), req, cookies::LOGIN).await?;
        let outcome = match req.query("error") {
            Some(_) => Ok(Landing::Declined),
            None => self.finish(req, &login).await.map(Landing::SignedIn),
        };
        land(&self.web, &login, req, outcome, cookies::clear_login())
    }
}

/// The login a callback's `state` names, bound to this browser by the cookie `cookie`: taken
/// (it works once), or 400 `invalid_state`.
pub(crate) async fn take_login(
    logins: &dyn SessionStore,
    req: &ApiRequest,
    cookie: &str,
) -> Result<LoginState, ApiError> {
    let state = req.query("state").filter(|s| s.len() <= 128).ok_or_else(bad_state)?;
    let binding = req.cookie(cookie).ok_or_else(bad_state)?;
    logins.take_login_state(state, &hash_secret(&binding), unix_now()).await?.ok_or_else(bad_state)
}

/// How a callback ends when nothing failed.
pub(crate) enum Landing {
    /// The person declined at the provider (`?error=`): back to the front end, which says why.
    Declined,
    /// Signed in: the access token in the fragment, the refresh token in its cookie.
    SignedIn(TokenPair),
    /// Something else done (an identity linked): these fragment pairs (already encoded).
    Done(String),
}

/// The callback's redirect to the front end (the login's `returnTo`, else the front end's
/// address) with the outcome in the fragment, clearing the login cookie (`clear`). A failure of
/// a sign-in started with a return URL is a person in a browser: back to the front end, which
/// says what happened (OAuth's error redirect); without one, the problem itself.
pub(crate) fn land(
    web: &WebSettings,
    login: &LoginState,
    req: &ApiRequest,
    outcome: Result<Landing, ApiError>,
    clear: String,
) -> Result<Response<Body>, ApiError> {
    let target = login.return_to.clone().unwrap_or_else(|| web.frontend_url.clone());
    let (location, mut set) = match outcome {
        Ok(Landing::Declined) => {
            let error = req.query("error").unwrap_or("access_denied");
            (format!("{target}#error={}", fragment_value(error)), Vec::new())
        }
        Ok(Landing::SignedIn(pair)) => {
            let location = format!(
                "{target}#accessToken={}&tokenType=Bearer&expiresIn={}",
                fragment_value(&pair.access.token),
                pair.access.expires_in
            );
            let mut set = vec![cookies::refresh(&pair)];
            set.extend(cookies::clear_legacy_refresh(req));
            (location, set)
        }
        Ok(Landing::Done(fragment)) => (format!("{target}#{fragment}"), Vec::new()),
        Err(e) if login.return_to.is_some() => {
            log_redirected(&e);
            (error_location(&target, &e, req.request_id()), Vec::new())
        }
        Err(e) => return Err(e),
    };
    set.insert(set.len().min(1), clear);
    with_cookies(http::redirect(&location)?, &set)
}

impl GoogleCallback {
    /// The code exchanged, the ID token verified, the person signed up or in: their tokens.
    async fn finish(&self, req: &ApiRequest, login: &LoginState) -> Result<TokenPair, ApiError> {
        let code = req.query("code").ok_or_else(|| {
            ApiError::bad_request(
                "missing_code",
                "the callback has no code: start the sign-in again (GET /auth/google/login)",
            )
        })?;
        let redirect_uri = self.web.redirect_uri(req)?;
        let id_token = self.idp.exchange_code(code, &login.code_verifier, &redirect_uri).await?;
        let identity = self.idp.verify_id_token(&id_token, Some(&login.nonce)).await?;
        let user = self.sessions.sign_in(identity).await?;
        Ok(self.sessions.issue(&user.user_id, &user.email, req.header(header::USER_AGENT)).await?)
    }
}

/// The message of a redirected 5xx sign-in's log line: the template's `SignInFailuresFilter`
/// counts it (API Gateway sees a 302, so `ApiServerErrorsAlarm` does not).
const SIGN_IN_FAILED: &str = "google sign-in failed: redirected to the front end";

/// A failure redirected to the front end, logged with what `dispatch` logs of the problem it
/// replaces (the cause of a 5xx included), a 5xx as an error.
fn log_redirected(e: &ApiError) {
    let (status, code) = (e.status().as_u16(), e.code());
    match e {
        ApiError::Internal(cause) | ApiError::Unavailable(cause) => {
            tracing::error!(status, code, error = %cause, cause = ?cause, "{SIGN_IN_FAILED}")
        }
        _ if e.status().is_server_error() => tracing::error!(status, code, error = %e, "{SIGN_IN_FAILED}"),
        _ => tracing::info!(status, code, "sign-in refused: redirected to the front end"),
    }
}

/// `target` with the problem in the fragment, named as the problem document names it:
/// `#error=<code>&error_description=<detail>&status=<status>&requestId=<id>`, each value
/// percent-encoded. No token ever travels in it.
fn error_location(target: &str, e: &ApiError, request_id: &str) -> String {
    let problem = e.to_problem(Some(request_id));
    format!(
        "{target}#error={}&error_description={}&status={}&requestId={}",
        fragment_value(problem.code),
        fragment_value(&problem.detail),
        problem.status,
        fragment_value(request_id)
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdTokenBody {
    id_token: String,
}

/// `POST /auth/google`: `{idToken}` from Google Identity Services → tokens as JSON.
pub struct GoogleToken {
    pub idp: Arc<dyn IdentityProvider>,
    pub sessions: Sessions,
}

#[async_trait]
impl Handler for GoogleToken {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let body: IdTokenBody = req.json(MAX_TOKEN_BODY)?;
        let identity = self.idp.verify_id_token(&body.id_token, None).await?;
        let user = self.sessions.sign_in(identity).await?;
        let pair = self.sessions.issue(&user.user_id, &user.email, req.header(header::USER_AGENT)).await?;
        tokens_response(&TokensBody::new(pair, true, Some(&user)))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefreshBody {
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    refresh_token: Option<String>,
}

/// The refresh token of a request's JSON body (`refreshToken`), if it has a body.
fn body_refresh(req: &ApiRequest) -> Result<Option<String>, ApiError> {
    if req.body_bytes().is_empty() {
        return Ok(None);
    }
    let body: RefreshBody = req.json(MAX_TOKEN_BODY)?;
    Ok(body.refresh_token)
}

/// The refresh token of a request: the JSON body's `refreshToken`, else the cookie (400 for two
/// cookies); and whether it came from the cookie.
fn presented_refresh(req: &ApiRequest) -> Result<(Option<String>, bool), ApiError> {
    if let Some(token) = body_refresh(req)? {
        return Ok((Some(token), false));
    }
    Ok((cookies::refresh_token(req)?, true))
}

/// `POST /auth/refresh`: rotates the refresh token (cookie or body). A token rotated a few
/// seconds ago by another tab gets the same new token as that tab did (the grace window); any
/// other reuse revokes the session.
pub struct RefreshToken {
    pub sessions: Sessions,
}

#[async_trait]
impl Handler for RefreshToken {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let (presented, from_cookie) = presented_refresh(req)?;
        let Some(presented) = presented else {
            let refused = ApiError::unauthenticated(
                "a refresh token is required (the sign-in's cookie, or refreshToken in the body): sign in again",
            );
            // A browser holding only a cookie of the old name: it signs in again, and the cookie
            // goes with this answer.
            return match cookies::clear_legacy_refresh(req) {
                Some(clear) => with_cookies(http::problem(&refused, req.request_id()), &[clear]),
                None => Err(refused),
            };
        };
        let pair = self.sessions.refresh(&presented, req.header(header::USER_AGENT)).await?;
        let mut set = if from_cookie { vec![cookies::refresh(&pair)] } else { Vec::new() };
        set.extend(cookies::clear_legacy_refresh(req));
        with_cookies(tokens_response(&TokensBody::new(pair, !from_cookie, None))?, &set)
    }
}

/// `POST /auth/logout`: revokes the session (refresh-token family) of the refresh token the
/// request presents — in the body (`refreshToken`) or the cookie — and clears the cookie. The
/// refresh token is the proof: no access token is needed (one that expired must not keep anyone
/// signed in), and one sent along is not looked at. Several cookies: every session they name ends.
/// Nothing presented (or an unknown token): 204 all the same, signing out is idempotent.
pub struct Logout {
    pub sessions: Arc<dyn SessionStore>,
}

#[async_trait]
impl Handler for Logout {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let mut presented: Vec<String> = body_refresh(req)?.into_iter().collect();
        presented.extend(cookies::refresh_tokens(req));
        let ended = sessions::logout(self.sessions.as_ref(), &presented).await?;
        tracing::info!(ended, "signed out");
        let mut set = vec![cookies::clear_refresh()];
        set.extend(cookies::clear_legacy_refresh(req));
        with_cookies(http::no_content()?, &set)
    }
}

/// One session as its owner sees it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub session_id: String,
    /// The sign-in.
    pub created_at: String,
    /// The last sign-in or refresh.
    pub last_used_at: String,
    /// When the session ends unless it is used before (each refresh moves it, up to `endsAt`).
    pub expires_at: String,
    /// When the session ends however often it is used (90 days after the sign-in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    /// The client of the last sign-in or refresh, summarised ("Firefox on Linux").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Whether this is the session the request's access token was issued for.
    pub current: bool,
}

impl SessionView {
    pub fn new(family: Family, current: Option<&str>) -> Self {
        Self {
            current: current == Some(family.family_id.as_str()),
            created_at: rfc3339_at(family.created_at),
            last_used_at: rfc3339_at(family.last_used_at.unwrap_or(family.created_at)),
            expires_at: rfc3339_at(family.expires_at),
            ends_at: family.ends_at.map(rfc3339_at),
            user_agent: family.user_agent,
            session_id: family.family_id,
        }
    }
}

/// `GET /users/me/sessions` (user): the caller's live sessions (signed-in browsers and apps),
/// newest first, paginated; `current` marks the one the access token was issued for (its `sid`).
pub struct ListSessions {
    pub auth: Arc<TokenVerifier>,
    pub sessions: Arc<dyn SessionStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListSessions {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let binding = format!("sessions|user={}", caller.user_id);
        let (limit, start) = self.cursors.page(req, &binding).await?;
        let page = self.sessions.families_of(&caller.user_id, limit, start, unix_now()).await?;
        let current = caller.session.as_deref();
        let items: Vec<SessionView> = page.items.into_iter().map(|f| SessionView::new(f, current)).collect();
        let mut resp = http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

/// `DELETE /users/me/sessions` (user): signs out everywhere — revokes every session of the caller
/// and clears this browser's refresh cookie; with `?keepCurrent=true` every session but the one the
/// access token was issued for, and the cookie stays. Access tokens already issued stay valid until
/// they expire (15 minutes at most).
pub struct EndSessions {
    pub auth: Arc<TokenVerifier>,
    pub sessions: Arc<dyn SessionStore>,
}

#[async_trait]
impl Handler for EndSessions {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let keep_current = match req.query("keepCurrent") {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(ApiError::bad_request("invalid_query", "keepCurrent must be true or false")),
        };
        let keep = if keep_current {
            Some(caller.session.as_deref().ok_or_else(|| {
                ApiError::bad_request(
                    "no_current_session",
                    "this access token names no session to keep: refresh it, then try again",
                )
            })?)
        } else {
            None
        };
        sessions::end_sessions(self.sessions.as_ref(), &caller.user_id, keep).await?;
        let cookies = if keep_current { Vec::new() } else { vec![cookies::clear_refresh()] };
        with_cookies(http::no_content()?, &cookies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metric filter behind the `sign-in-5xx` alarm matches the message these lines carry.
    #[test]
    fn the_templates_sign_in_filter_matches_the_logged_message() {
        let alarms = include_str!("../../../template/base/alarms.yaml");
        let filter = alarms.lines().find(|l| l.contains("$.fields.message")).unwrap_or_default();
        assert!(filter.contains(&format!("$.fields.message = \"{SIGN_IN_FAILED}\"")), "{filter}");
    }

    /// A returnTo is taken on an allowed origin, with no fragment; the fragment's values keep
    /// the unreserved characters as they are.
    #[test]
    fn a_return_to_with_a_fragment_is_not_taken_and_values_keep_unreserved_characters() {
        let web = WebSettings {
            frontend_url: "https://app.example.com/".into(),
            allowed_return_origins: vec!["https://app.example.com".into()],
            api_domains: vec![],
        };
        assert!(web.allowed_return("https://app.example.com/spaces?x=1").is_some());
        assert!(web.allowed_return("https://app.example.com/page#x").is_none());
        assert!(web.allowed_return("https://app.example.com#x").is_none());
        assert_eq!(fragment_value("email_taken a-b.c~&=#%+é"), "email_taken%20a-b.c~%26%3D%23%25%2B%C3%A9");
    }
}
