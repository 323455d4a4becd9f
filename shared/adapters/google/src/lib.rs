//! Google sign-in: the OpenID Connect code exchange and ID-token verification against Google's
//! JWKS (cached across invocations). Every URL is configuration, so tests and the local stack use
//! a stand-in through this very code.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;
use tokio::sync::RwLock;

use vivid_config::{Config, ConfigError};
use vivid_domain::{
    identity::{Identity, IdentityError, IdentityProvider},
    types::Email,
};

/// Where Google is and who we are to it. The redirect URI is not here: it is the callback on the
/// domain each request reached.
#[derive(Debug, Clone)]
pub struct GoogleSettings {
    pub client_id: String,
    /// Only the code exchange (`google-callback`) needs it.
    pub client_secret: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub jwks_url: String,
}

impl GoogleSettings {
    /// `VIVID_GOOGLE_CLIENT_ID` and Google's endpoints (overridable for stand-ins:
    /// `VIVID_GOOGLE_AUTHORIZE_URL`, `VIVID_GOOGLE_TOKEN_URL`, `VIVID_GOOGLE_JWKS_URL`); the
    /// client secret comes from the secret store, read by the caller when it exchanges codes.
    pub fn from_config(cfg: &Config, client_secret: Option<String>) -> Result<Self, ConfigError> {
        let url = |var: &str, default: &str| cfg.optional(var).unwrap_or_else(|| default.to_owned());
        Ok(Self {
            client_id: cfg.var("VIVID_GOOGLE_CLIENT_ID")?,
            client_secret,
            authorize_url: url("VIVID_GOOGLE_AUTHORIZE_URL", "https://accounts.google.com/o/oauth2/v2/auth"),
            token_url: url("VIVID_GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
            jwks_url: url("VIVID_GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs"),
        })
    }
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
    /// Built at its first use: the login route only builds a URL and never needs it.
    http: OnceLock<Result<reqwest::Client, String>>,
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

fn invalid(reason: &'static str) -> IdentityError {
    IdentityError::InvalidToken(reason)
}

fn upstream(detail: impl Into<String>) -> IdentityError {
    IdentityError::Unavailable(detail.into())
}

impl GoogleOidc {
    pub fn new(http: reqwest::Client, settings: GoogleSettings) -> Self {
        Self { http: OnceLock::from(Ok(http)), settings, jwks: RwLock::new(None) }
    }

    /// With an HTTP client of its own (rustls, 5-second timeout), built on the first call to
    /// Google (reading the TLS roots costs about 2 ms: not at every cold start of the login).
    pub fn with_settings(settings: GoogleSettings) -> Result<Self, ConfigError> {
        Ok(Self { http: OnceLock::new(), settings, jwks: RwLock::new(None) })
    }

    fn http(&self) -> Result<&reqwest::Client, IdentityError> {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .map_err(|e| format!("the Google HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| upstream(e.clone()))
    }

    async fn fetch_jwks(&self) -> Result<JwkSet, IdentityError> {
        let resp = self
            .http()?
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
    async fn key(&self, kid: &str) -> Result<DecodingKey, IdentityError> {
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
    fn authorize_url(&self, state: &str, code_challenge: &str, nonce: &str, redirect_uri: &str) -> String {
        let params = [
            ("client_id", self.settings.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", "openid email profile"),
            ("state", state),
            ("code_challenge", code_challenge),
            ("code_challenge_method", "S256"),
            ("nonce", nonce),
            ("prompt", "select_account"),
        ];
        match reqwest::Url::parse_with_params(&self.settings.authorize_url, &params) {
            Ok(url) => url.into(),
            // The authorize URL is configuration; a malformed one is reported by the IdP page.
            Err(_) => self.settings.authorize_url.clone(),
        }
    }

    async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, IdentityError> {
        let secret = self.settings.client_secret.as_deref().ok_or_else(|| upstream("no client secret configured"))?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", secret),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        let resp = self
            .http()?
            .post(&self.settings.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| upstream(format!("cannot reach Google's token endpoint: {}", e.without_url())))?;
        let status = resp.status();
        if status.is_client_error() {
            // An invalid, used or foreign code: the sign-in cannot go on.
            return Err(IdentityError::BadCode);
        }
        if !status.is_success() {
            return Err(upstream(format!("Google's token endpoint answered {status}")));
        }
        let tokens: TokenResponse =
            resp.json().await.map_err(|e| upstream(format!("unreadable token response: {e}")))?;
        tokens.id_token.ok_or_else(|| upstream("the token response has no id_token"))
    }

    async fn verify_id_token(&self, id_token: &str, nonce: Option<&str>) -> Result<Identity, IdentityError> {
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
            return Err(IdentityError::Unverified);
        }
        let email: Email = claims
            .email
            .as_deref()
            .ok_or(invalid("the ID token has no e-mail"))?
            .parse()
            .map_err(|_| invalid("the ID token's e-mail is malformed"))?;
        let name = claims.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| email.to_string());
        Ok(Identity { sub: claims.sub, email, name, picture: claims.picture })
    }
}
