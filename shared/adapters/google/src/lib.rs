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
    /// Absent reads as not verified.
    #[serde(default, deserialize_with = "flag")]
    email_verified: bool,
    name: Option<String>,
    picture: Option<String>,
    nonce: Option<String>,
}

/// A boolean claim as Google writes it: `true`/`false`, or the strings `"true"`/`"false"` (its
/// documented ID-token example has `"email_verified": "true"`). Anything else makes the token
/// unreadable, hence invalid.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("true or false, as a boolean or a string")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            match v {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
            }
        }
    }
    d.deserialize_any(Flag)
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
        // The profile name as Google gives it: the sign-up cleans it (`PersonName::from_provider`),
        // falling back to the address's local part when nothing usable is left.
        let name = claims.name.unwrap_or_default();
        Ok(Identity { sub: claims.sub, email, name, picture: claims.picture })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(email_verified: serde_json::Value) -> Result<Claims, serde_json::Error> {
        let mut c = serde_json::json!({ "sub": "1", "email": "ana@example.com" });
        if !email_verified.is_null() {
            c["email_verified"] = email_verified;
        }
        serde_json::from_value(c)
    }

    #[test]
    fn email_verified_reads_as_a_boolean_or_the_strings_google_writes() {
        use serde_json::json;
        for (value, verified) in
            [(json!(true), true), (json!(false), false), (json!("true"), true), (json!("false"), false)]
        {
            assert_eq!(claims(value.clone()).map(|c| c.email_verified).ok(), Some(verified), "{value}");
        }
        assert_eq!(claims(serde_json::Value::Null).map(|c| c.email_verified).ok(), Some(false), "absent");
    }

    #[test]
    fn any_other_email_verified_makes_the_claims_unreadable() {
        use serde_json::json;
        for value in [
            json!("True"),
            json!("TRUE"),
            json!("yes"),
            json!("1"),
            json!(""),
            json!(" true"),
            json!(1),
            json!(0),
            json!([true]),
            json!({}),
        ] {
            assert!(claims(value.clone()).is_err(), "{value}");
        }
        // An explicit null is not a boolean either.
        let explicit_null: Result<Claims, _> =
            serde_json::from_str(r#"{"sub":"1","email":"ana@example.com","email_verified":null}"#);
        assert!(explicit_null.is_err());
    }

    /// Google's documented ID-token payload, `email_verified` a string.
    #[test]
    fn googles_documented_example_reads() {
        let c: Claims = serde_json::from_str(
            r#"{"iss":"accounts.google.com","azp":"1234987819200.apps.googleusercontent.com",
                "aud":"1234987819200.apps.googleusercontent.com","sub":"10769150350006150715113082367",
                "at_hash":"HK6E_P6Dh8Y93mRNtsDB1Q","hd":"example.com","email":"jsmith@example.com",
                "email_verified":"true","iat":1353601026,"exp":1353604926,"nonce":"0394852-3190485-2490358"}"#,
        )
        .expect("Google's example");
        assert!(c.email_verified);
        assert_eq!(c.email.as_deref(), Some("jsmith@example.com"));
        assert_eq!(c.nonce.as_deref(), Some("0394852-3190485-2490358"));
    }
}
