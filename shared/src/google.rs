//! Google sign-in: the OpenID Connect code exchange and ID-token verification against Google's
//! JWKS (cached across invocations). Every URL is configuration, so tests and the local stack use
//! a stand-in through this very code.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::{error::ApiError, types::Email};

/// Where Google is and who we are to it.
#[derive(Debug, Clone)]
pub struct GoogleSettings {
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: String,
    pub token_url: String,
    pub jwks_url: String,
    /// Our callback, registered with Google: `https://<api>/auth/google/callback`.
    pub redirect_uri: String,
}

/// A verified Google identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleIdentity {
    pub sub: String,
    pub email: Email,
    pub name: String,
    pub picture: Option<String>,
}

/// The identity provider port.
#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// The authorize URL for a login with this state, PKCE challenge and nonce.
    fn authorize_url(&self, state: &str, code_challenge: &str, nonce: &str) -> String;
    /// Exchanges an authorization code (with its PKCE verifier) for an ID token.
    async fn exchange_code(&self, code: &str, code_verifier: &str) -> Result<String, ApiError>;
    /// Verifies an ID token: signature by a key of the JWKS, `iss`, `aud`, `exp`,
    /// `email_verified`, and the nonce when one is expected.
    async fn verify_id_token(&self, id_token: &str, nonce: Option<&str>) -> Result<GoogleIdentity, ApiError>;
}

const ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` refetches the JWKS at most this often (Google rotates keys).
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(60);

struct CachedJwks {
    keys: JwkSet,
    fetched: Instant,
}

pub struct GoogleOidc {
    http: reqwest::Client,
    settings: GoogleSettings,
    jwks: RwLock<Option<CachedJwks>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
    name: Option<String>,
    picture: Option<String>,
    nonce: Option<String>,
}

fn invalid(reason: &'static str) -> ApiError {
    ApiError::Unauthenticated(reason)
}

fn upstream(detail: impl Into<String>) -> ApiError {
    ApiError::upstream("identity_provider_unavailable", detail)
}

impl GoogleOidc {
    pub fn new(http: reqwest::Client, settings: GoogleSettings) -> Self {
        Self { http, settings, jwks: RwLock::new(None) }
    }

    async fn fetch_jwks(&self) -> Result<JwkSet, ApiError> {
        let resp = self
            .http
            .get(&self.settings.jwks_url)
            .send()
            .await
            .map_err(|e| upstream(format!("cannot fetch Google's keys: {e}")))?;
        if !resp.status().is_success() {
            return Err(upstream(format!("Google's keys answered {}", resp.status())));
        }
        resp.json::<JwkSet>().await.map_err(|e| upstream(format!("Google's keys are unreadable: {e}")))
    }

    /// The key for `kid`, from the cache; refetched when stale, or when the kid is unknown and
    /// the cache is older than a minute.
    async fn key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        {
            let cache = self.jwks.read().await;
            if let Some(c) = cache.as_ref().filter(|c| c.fetched.elapsed() < JWKS_TTL) {
                if let Some(jwk) = c.keys.find(kid) {
                    return DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable signing key"));
                }
                if c.fetched.elapsed() < JWKS_MIN_REFRESH {
                    return Err(invalid("the ID token is signed by an unknown key"));
                }
            }
        }
        let keys = self.fetch_jwks().await?;
        let found = keys.find(kid).map(DecodingKey::from_jwk);
        *self.jwks.write().await = Some(CachedJwks { keys, fetched: Instant::now() });
        match found {
            Some(Ok(key)) => Ok(key),
            _ => Err(invalid("the ID token is signed by an unknown key")),
        }
    }
}

#[async_trait]
impl IdentityProvider for GoogleOidc {
    fn authorize_url(&self, state: &str, code_challenge: &str, nonce: &str) -> String {
        let q = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
        format!(
            "{}?client_id={}&redirect_uri={}&response_type=code&scope={}&state={}&code_challenge={}&code_challenge_method=S256&nonce={}&prompt=select_account",
            self.settings.authorize_url,
            q(&self.settings.client_id),
            q(&self.settings.redirect_uri),
            q("openid email profile"),
            q(state),
            q(code_challenge),
            q(nonce),
        )
    }

    async fn exchange_code(&self, code: &str, code_verifier: &str) -> Result<String, ApiError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.settings.client_secret.as_str()),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
            ("code_verifier", code_verifier),
        ];
        let body = form
            .iter()
            .map(|(k, v)| {
                format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC))
            })
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .http
            .post(&self.settings.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| upstream(format!("cannot reach Google's token endpoint: {e}")))?;
        let status = resp.status();
        if status.is_client_error() {
            // An invalid, used or foreign code: the sign-in cannot go on.
            return Err(ApiError::bad_request("invalid_code", "the authorization code was refused"));
        }
        if !status.is_success() {
            return Err(upstream(format!("Google's token endpoint answered {status}")));
        }
        let tokens: TokenResponse =
            resp.json().await.map_err(|e| upstream(format!("unreadable token response: {e}")))?;
        tokens.id_token.ok_or_else(|| upstream("the token response has no id_token"))
    }

    async fn verify_id_token(&self, id_token: &str, nonce: Option<&str>) -> Result<GoogleIdentity, ApiError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| invalid("malformed ID token"))?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid("the ID token must be RS256"));
        }
        let kid = header.kid.ok_or(invalid("the ID token names no key"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&ISSUERS);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let claims = jsonwebtoken::decode::<Claims>(id_token, &key, &validation)
            .map_err(|e| {
                tracing::info!(reason = %e, "ID token refused");
                invalid("the ID token is invalid or expired")
            })?
            .claims;
        if let Some(expected) = nonce
            && claims.nonce.as_deref() != Some(expected)
        {
            return Err(invalid("the ID token's nonce does not match the login"));
        }
        if !claims.email_verified {
            return Err(ApiError::Unauthenticated("the Google account's e-mail address is not verified"));
        }
        let email: Email = claims
            .email
            .as_deref()
            .ok_or(invalid("the ID token has no e-mail"))?
            .parse()
            .map_err(|_| invalid("the ID token's e-mail is malformed"))?;
        let name = claims.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| email.to_string());
        Ok(GoogleIdentity { sub: claims.sub, email, name, picture: claims.picture })
    }
}
