//! `/auth/oidc/{provider}/*`: institutional sign-in with any OpenID Connect provider configured
//! by issuer URL (`VIVID_OIDC_PROVIDERS`), the explicit linking of such an identity to the
//! signed-in account, and the caller's identities: `GET /users/me/identities`,
//! `DELETE /users/me/identities/{identityId}`. The login's state, PKCE verifier, nonce, browser
//! binding and the callback's redirect are the Google flow's (`crate::auth`).

use std::{str::FromStr, sync::Arc};

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Serialize;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    invitations::InvitationStore,
    oidc::{self, IdentityStore, LinkedIdentity, OidcClient, OidcError, OidcProvider},
    sessions::{LoginState, SessionStore, Sessions},
    step_up,
    types::{Invalid, unix_now},
    users::{User, UserStore},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler, SameSite, clear_cookie, cookie, with_cookies},
};
use vivid_tokens::TokenVerifier;

use crate::auth::{Landing, WebSettings, fragment_value, land, pending_login, pkce_challenge, take_login};

/// The cookie binding an institutional login to the browser that started it (`SameSite=Lax`:
/// it comes back on the provider's top-level redirect).
pub const OIDC_LOGIN: &str = "vivid_oidc_login";
const OIDC_LOGIN_PATH: &str = "/auth/oidc";
/// Google's issuer: its account shows among the identities as one.
use vivid_domain::oidc::GOOGLE_ISSUER;

fn login_cookie(binding: &str) -> String {
    cookie(OIDC_LOGIN, binding, OIDC_LOGIN_PATH, vivid_domain::sessions::LOGIN_TTL_SECS, SameSite::Lax, None)
}

fn clear_login_cookie() -> String {
    clear_cookie(OIDC_LOGIN, OIDC_LOGIN_PATH, SameSite::Lax, None)
}

/// The configured providers.
#[derive(Debug, Clone)]
pub struct Providers(pub Vec<OidcProvider>);

impl Providers {
    /// `VIVID_OIDC_PROVIDERS`, parsed strictly (none when unset or empty).
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let raw = cfg.optional("VIVID_OIDC_PROVIDERS").unwrap_or_default();
        OidcProvider::parse_all(&raw).map(Self).map_err(|e| ConfigError::Malformed("VIVID_OIDC_PROVIDERS", e.0))
    }

    /// The provider the path names, or 404.
    fn named(&self, req: &ApiRequest) -> Result<&OidcProvider, ApiError> {
        let id: ProviderId = req.path("provider").map_err(|_| ApiError::from(OidcError::UnknownProvider))?;
        self.0.iter().find(|p| p.id == id.0).ok_or_else(|| OidcError::UnknownProvider.into())
    }
}

struct ProviderId(String);

impl FromStr for ProviderId {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let ok =
            (1..=32).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok { Ok(Self(s.to_owned())) } else { Err(Invalid("no such provider".into())) }
    }
}

fn callback_path(provider: &OidcProvider) -> String {
    format!("/auth/oidc/{}/callback", provider.id)
}

/// A login for `provider` stored, and its provider's authorize URL with the binding cookie.
async fn start(
    idp: &dyn OidcClient,
    logins: &dyn SessionStore,
    web: &WebSettings,
    req: &ApiRequest,
    provider: &OidcProvider,
    link_user: Option<vivid_domain::types::UserId>,
) -> Result<(String, String), ApiError> {
    let redirect_uri = web.redirect_uri_at(req, &callback_path(provider))?;
    let (mut login, binding) = pending_login(web, req)?;
    login.provider = Some(provider.id.clone());
    login.link_user = link_user;
    let challenge = pkce_challenge(&login.code_verifier);
    // Linking asks the provider for a fresh sign-in (`prompt=login`).
    let fresh = login.link_user.is_some();
    let url = idp
        .authorize_url(provider, &login.state, &challenge, &login.nonce, &redirect_uri, fresh)
        .await
        .map_err(|e| ApiError::from(OidcError::from(e)))?;
    logins.put_login_state(&login).await?;
    Ok((url, login_cookie(&binding)))
}

/// `GET /auth/oidc/{provider}/login`: 302 to the provider with state, PKCE (S256) and nonce
/// (its discovery read, or cached); the state stored for ten minutes, bound to this browser by a
/// cookie, good once. An unknown provider: 404.
pub struct OidcLogin {
    pub idp: Arc<dyn OidcClient>,
    pub logins: Arc<dyn SessionStore>,
    pub providers: Providers,
    pub web: WebSettings,
}

#[async_trait]
impl Handler for OidcLogin {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let provider = self.providers.named(req)?;
        let (url, cookie) = start(self.idp.as_ref(), self.logins.as_ref(), &self.web, req, provider, None).await?;
        with_cookies(http::redirect(&url)?, &[cookie])
    }
}

/// `POST /auth/oidc/{provider}/link` (user): starts linking an identity at the provider to the
/// caller's account: `{authorizeUrl}` for the browser to open, with the binding cookie (the
/// request is made with credentials). The callback links it, then lands on the front end with
/// `#linked={provider}` (or the problem).
pub struct OidcLink {
    pub auth: Arc<TokenVerifier>,
    pub idp: Arc<dyn OidcClient>,
    pub logins: Arc<dyn SessionStore>,
    pub providers: Providers,
    pub web: WebSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkStarted {
    authorize_url: String,
}

#[async_trait]
impl Handler for OidcLink {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let provider = self.providers.named(req)?;
        // Step-up: a linked identity signs in as this user from then on, so only a recent
        // sign-in adds one (a stolen access token or refresh token must not).
        step_up::require_recent_sign_in(caller.auth_time, unix_now())?;
        let (url, cookie) =
            start(self.idp.as_ref(), self.logins.as_ref(), &self.web, req, provider, Some(caller.user_id)).await?;
        let mut resp = http::json(StatusCode::OK, &LinkStarted { authorize_url: url })?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        with_cookies(resp, &[cookie])
    }
}

/// `GET /auth/oidc/{provider}/callback`: checks the state against this browser, exchanges the
/// code, verifies the ID token against the provider's keys, then signs up or in by (issuer,
/// subject) — or links the identity when the login was a link — and lands on the front end as
/// Google's callback does (tokens or the problem in the fragment).
pub struct OidcCallback {
    pub idp: Arc<dyn OidcClient>,
    pub logins: Arc<dyn SessionStore>,
    pub identities: Arc<dyn IdentityStore>,
    pub users: Arc<dyn UserStore>,
    pub invitations: Arc<dyn InvitationStore>,
    pub sessions: Sessions,
    pub providers: Providers,
    pub web: WebSettings,
}

#[async_trait]
impl Handler for OidcCallback {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let provider = self.providers.named(req)?;
        let login = take_login(self.logins.as_ref(), req, OIDC_LOGIN).await?;
        let outcome = if login.provider.as_deref() != Some(provider.id.as_str()) {
            Err(ApiError::bad_request(
                "invalid_state",
                "the sign-in state was issued for another provider: start the sign-in again",
            ))
        } else if req.query("error").is_some() {
            Ok(Landing::Declined)
        } else {
            self.finish(req, provider, &login).await
        };
        land(&self.web, &login, req, outcome, clear_login_cookie())
    }
}

impl OidcCallback {
    async fn finish(&self, req: &ApiRequest, provider: &OidcProvider, login: &LoginState) -> Result<Landing, ApiError> {
        let code = req.query("code").ok_or_else(|| {
            ApiError::bad_request("missing_code", "the callback has no code: start the sign-in again")
        })?;
        let redirect_uri = self.web.redirect_uri_at(req, &callback_path(provider))?;
        let claims = self
            .idp
            .verified_claims(provider, code, &login.code_verifier, &redirect_uri, &login.nonce)
            .await
            .map_err(OidcError::from)?;
        if let Some(user_id) = &login.link_user {
            let user = live_user(self.users.as_ref(), user_id).await?;
            oidc::link(self.identities.as_ref(), &user, provider, claims).await?;
            return Ok(Landing::Done(format!("linked={}", fragment_value(&provider.id))));
        }
        let user = oidc::sign_in(self.identities.as_ref(), Some(self.invitations.as_ref()), provider, claims).await?;
        let pair = self.sessions.issue(&user.user_id, &user.email, req.header(header::USER_AGENT)).await?;
        Ok(Landing::SignedIn(pair))
    }
}

/// The caller's account, or 401 when it is gone or being deleted.
async fn live_user(users: &dyn UserStore, id: &vivid_domain::types::UserId) -> Result<User, ApiError> {
    match users.get_user(id).await? {
        Some(u) if !u.deleting => Ok(u),
        _ => Err(ApiError::AccountDeleted),
    }
}

/// One way the caller signs in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityView {
    pub identity_id: String,
    /// The provider's id (`google` for the Google account).
    pub provider: String,
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_at: Option<String>,
}

impl From<LinkedIdentity> for IdentityView {
    fn from(i: LinkedIdentity) -> Self {
        Self {
            identity_id: i.identity_id,
            provider: i.provider,
            issuer: i.issuer,
            email: Some(i.email.to_string()),
            linked_at: Some(i.linked_at),
        }
    }
}

#[derive(Serialize)]
struct IdentityList {
    items: Vec<IdentityView>,
}

/// `GET /users/me/identities` (user): the ways the caller signs in — their Google account (if
/// any, `identityId` `google`) and each linked institutional identity, oldest first.
pub struct ListIdentities {
    pub auth: Arc<TokenVerifier>,
    pub users: Arc<dyn UserStore>,
    pub identities: Arc<dyn IdentityStore>,
}

#[async_trait]
impl Handler for ListIdentities {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let user = live_user(self.users.as_ref(), &caller.user_id).await?;
        let mut items = Vec::new();
        if user.google_sub.is_some() {
            items.push(IdentityView {
                identity_id: "google".into(),
                provider: "google".into(),
                issuer: GOOGLE_ISSUER.into(),
                email: Some(user.email.to_string()),
                linked_at: Some(user.created_at.clone()),
            });
        }
        items.extend(self.identities.identities_of(&user.user_id).await?.into_iter().map(IdentityView::from));
        let mut resp = http::json(StatusCode::OK, &IdentityList { items })?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

/// `DELETE /users/me/identities/{identityId}` (user): unlinks an institutional identity; 409
/// `last_identity` when it is the account's only way to sign in; 404 when not the caller's.
pub struct DeleteIdentity {
    pub auth: Arc<TokenVerifier>,
    pub users: Arc<dyn UserStore>,
    pub identities: Arc<dyn IdentityStore>,
}

#[async_trait]
impl Handler for DeleteIdentity {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let id: IdentityId = req.path("identityId").map_err(|_| ApiError::NotFound("identity"))?;
        let user = live_user(self.users.as_ref(), &caller.user_id).await?;
        // Step-up, as for linking: a stolen session must not remove the owner's ways in.
        step_up::require_recent_sign_in(caller.auth_time, unix_now())?;
        oidc::unlink(self.identities.as_ref(), &user, &id.0).await?;
        http::no_content()
    }
}

struct IdentityId(String);

impl FromStr for IdentityId {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let ok = s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok { Ok(Self(s.to_owned())) } else { Err(Invalid("no such identity".into())) }
    }
}
