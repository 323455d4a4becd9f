//! `/auth/*`: Google sign-in (redirect flow and ID-token flow), refresh, logout.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    auth::{TokenVerifier, unix_now},
    error::ApiError,
    google::IdentityProvider,
    http::{self, ApiRequest, Handler, clear_cookie, cookie, with_cookies},
    model::User,
    routes::users::UserView,
    runtime::{ConfigError, Deps, WebSettings},
    session::{
        self, LOGIN_TTL_SECS, LoginState, REFRESH_TTL_SECS, SessionStore, Sessions, TokenPair, hash_secret,
        random_token,
    },
};

/// Binds a Google login to the browser that started it. `Lax`: it must come back on the
/// top-level redirect from Google.
pub const LOGIN_COOKIE: &str = "vivid_login";
const LOGIN_COOKIE_PATH: &str = "/auth/google";
/// The refresh token for browsers: only ever sent to `/auth`.
pub const REFRESH_COOKIE: &str = "vivid_refresh";
const REFRESH_COOKIE_PATH: &str = "/auth";
const MAX_TOKEN_BODY: usize = 16 * 1024;

fn refresh_cookie(token: &str) -> String {
    cookie(REFRESH_COOKIE, token, REFRESH_COOKIE_PATH, REFRESH_TTL_SECS, "Strict")
}

fn clear_refresh_cookie() -> String {
    clear_cookie(REFRESH_COOKIE, REFRESH_COOKIE_PATH, "Strict")
}

fn clear_login_cookie() -> String {
    clear_cookie(LOGIN_COOKIE, LOGIN_COOKIE_PATH, "Lax")
}

fn bad_state() -> ApiError {
    ApiError::bad_request(
        "invalid_state",
        "the sign-in state is missing, expired, already used or not from this browser",
    )
}

fn fragment_value(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The token pair as JSON, for the SPA and mobile flows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokensBody {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView>,
}

impl TokensBody {
    fn new(pair: TokenPair, user: Option<&User>) -> Self {
        Self {
            access_token: pair.access.token,
            token_type: "Bearer",
            expires_in: pair.access.expires_in,
            refresh_token: pair.refresh,
            user: user.map(|u| UserView::new(u.clone(), None)),
        }
    }
}

/// `GET /auth/google/login`: 302 to Google with state, PKCE (S256) and nonce; the state is
/// stored for ten minutes, bound to this browser by a cookie, and good once.
pub struct GoogleLogin {
    idp: Arc<dyn IdentityProvider>,
    store: Arc<dyn SessionStore>,
    web: WebSettings,
}

impl GoogleLogin {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { idp: d.identity_provider()?, store: d.session_store(), web: d.web()? })
    }
}

#[async_trait]
impl Handler for GoogleLogin {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let return_to = req.query("returnTo").and_then(|r| self.web.allowed_return(r));
        let binding = random_token()?;
        let login = LoginState {
            state: random_token()?,
            binding_hash: hash_secret(&binding),
            code_verifier: random_token()?,
            nonce: random_token()?,
            return_to,
            expires_at: unix_now() + LOGIN_TTL_SECS,
        };
        self.store.put_login_state(&login).await?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(login.code_verifier.as_bytes()));
        let location = self.idp.authorize_url(&login.state, &challenge, &login.nonce);
        with_cookies(
            http::redirect(&location)?,
            &[cookie(LOGIN_COOKIE, &binding, LOGIN_COOKIE_PATH, LOGIN_TTL_SECS, "Lax")],
        )
    }
}

/// `GET /auth/google/callback`: checks the state against this browser, exchanges the code,
/// verifies the ID token, signs up or in, then 302 to the front end with the access token in the
/// URL fragment and the refresh token in an HttpOnly cookie.
pub struct GoogleCallback {
    idp: Arc<dyn IdentityProvider>,
    store: Arc<dyn SessionStore>,
    sessions: Sessions,
    web: WebSettings,
}

impl GoogleCallback {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { idp: d.identity_provider()?, store: d.session_store(), sessions: d.sessions()?, web: d.web()? })
    }
}

#[async_trait]
impl Handler for GoogleCallback {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let state = req.query("state").filter(|s| s.len() <= 128).ok_or_else(bad_state)?;
        let binding = req.cookie(LOGIN_COOKIE).ok_or_else(bad_state)?;
        let login =
            self.store.take_login_state(state, &hash_secret(binding), unix_now()).await?.ok_or_else(bad_state)?;
        let target = login.return_to.clone().unwrap_or_else(|| self.web.frontend_url.clone());
        if let Some(error) = req.query("error") {
            // The person declined at Google: back to the front end, which shows why.
            let location = format!("{target}#error={}", fragment_value(error));
            return with_cookies(http::redirect(&location)?, &[clear_login_cookie()]);
        }
        let code =
            req.query("code").ok_or_else(|| ApiError::bad_request("missing_code", "the callback has no code"))?;
        let id_token = self.idp.exchange_code(code, &login.code_verifier).await?;
        let identity = self.idp.verify_id_token(&id_token, Some(&login.nonce)).await?;
        let user = self.sessions.sign_in(identity).await?;
        let pair = self.sessions.issue(&user.user_id, &user.email).await?;
        let location = format!(
            "{target}#accessToken={}&tokenType=Bearer&expiresIn={}",
            fragment_value(&pair.access.token),
            pair.access.expires_in
        );
        with_cookies(http::redirect(&location)?, &[refresh_cookie(&pair.refresh), clear_login_cookie()])
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdTokenBody {
    id_token: String,
}

/// `POST /auth/google`: `{idToken}` from Google Identity Services → tokens as JSON.
pub struct GoogleToken {
    idp: Arc<dyn IdentityProvider>,
    sessions: Sessions,
}

impl GoogleToken {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { idp: d.identity_provider()?, sessions: d.sessions()? })
    }
}

#[async_trait]
impl Handler for GoogleToken {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let body: IdTokenBody = req.json(MAX_TOKEN_BODY)?;
        let identity = self.idp.verify_id_token(&body.id_token, None).await?;
        let user = self.sessions.sign_in(identity).await?;
        let pair = self.sessions.issue(&user.user_id, &user.email).await?;
        http::json(StatusCode::OK, &TokensBody::new(pair, Some(&user)))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefreshBody {
    refresh_token: Option<String>,
}

/// The refresh token of a request: the JSON body's `refreshToken`, else the cookie.
fn presented_refresh(req: &ApiRequest) -> Result<(Option<String>, bool), ApiError> {
    if !req.body_bytes().is_empty() {
        let body: RefreshBody = req.json(MAX_TOKEN_BODY)?;
        if let Some(token) = body.refresh_token {
            return Ok((Some(token), false));
        }
    }
    Ok((req.cookie(REFRESH_COOKIE).map(str::to_owned), true))
}

/// `POST /auth/refresh`: rotates the refresh token (cookie or body).
pub struct RefreshToken {
    sessions: Sessions,
}

impl RefreshToken {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { sessions: d.sessions()? })
    }
}

#[async_trait]
impl Handler for RefreshToken {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let (presented, from_cookie) = presented_refresh(req)?;
        let presented = presented.ok_or(ApiError::Unauthenticated("a refresh token is required"))?;
        let pair = self.sessions.refresh(&presented).await?;
        let cookies = if from_cookie { vec![refresh_cookie(&pair.refresh)] } else { Vec::new() };
        with_cookies(http::json(StatusCode::OK, &TokensBody::new(pair, None))?, &cookies)
    }
}

/// `POST /auth/logout`: revokes the refresh-token family, clears the cookie.
pub struct Logout {
    auth: Arc<TokenVerifier>,
    store: Arc<dyn SessionStore>,
}

impl Logout {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { auth: d.verifier(), store: d.session_store() })
    }
}

#[async_trait]
impl Handler for Logout {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let (presented, _) = presented_refresh(req)?;
        session::logout(self.store.as_ref(), &caller.user_id, presented.as_deref()).await?;
        with_cookies(http::no_content()?, &[clear_refresh_cookie()])
    }
}
