//! A platform's keys: its JWKS fetched once and cached by URL; an unknown `kid` fetches the set
//! again, once, at most every 10 seconds per platform (a key rotation is seen at once, a flood
//! of forged kids costs one fetch).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Map, Value};
use tokio::sync::RwLock;
use vivid_domain::lti::launch::{LaunchError, PlatformKeys};

/// How long a fetched key set is used before it is fetched again.
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of one platform's set for an unknown kid.
const REFETCH_AFTER: Duration = Duration::from_secs(10);
/// The largest key set read.
const MAX_JWKS_BYTES: usize = 64 * 1024;

struct Cached {
    keys: JwkSet,
    fetched: Instant,
}

#[derive(Default)]
pub struct HttpPlatformKeys {
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    cache: RwLock<HashMap<String, Cached>>,
    loopback_http: bool,
}

fn invalid(why: &str) -> LaunchError {
    LaunchError::InvalidToken(why.to_owned())
}

impl HttpPlatformKeys {
    /// `loopback_http`: key sets on `http://127.0.0.1`, and at private addresses, are fetched
    /// (the local stack only).
    pub fn new(loopback_http: bool) -> Self {
        Self { loopback_http, ..Self::default() }
    }

    async fn fetch(&self, url: &str) -> Result<JwkSet, LaunchError> {
        if !crate::fetchable(url, self.loopback_http) {
            return Err(LaunchError::KeysUnavailable("the key set URL is not https".into()));
        }
        if !crate::public_host(url, self.loopback_http) {
            return Err(LaunchError::KeysUnavailable("the key set URL is not at a public address".into()));
        }
        let http = self
            .http
            .get_or_init(|| crate::client(self.loopback_http))
            .as_ref()
            .map_err(|e| LaunchError::KeysUnavailable(e.clone()))?;
        let unavailable = |e: String| LaunchError::KeysUnavailable(e);
        let resp = http.get(url).send().await.map_err(|e| unavailable(vivid_http::describe(e)))?;
        if !resp.status().is_success() {
            return Err(unavailable(format!("the platform's key set answered {}", resp.status())));
        }
        let body = crate::read_capped(resp, MAX_JWKS_BYTES, "the platform's key set").await.map_err(unavailable)?;
        serde_json::from_slice(&body).map_err(|e| unavailable(format!("the platform's key set is unreadable: {e}")))
    }

    /// The key `kid` of the set at `url`: from the cache, else fetched (see the module).
    async fn key(&self, url: &str, kid: &str) -> Result<DecodingKey, LaunchError> {
        {
            let cache = self.cache.read().await;
            if let Some(c) = cache.get(url).filter(|c| c.fetched.elapsed() < JWKS_TTL) {
                if let Some(jwk) = c.keys.find(kid) {
                    return DecodingKey::from_jwk(jwk).map_err(|_| invalid("the platform's key is unusable"));
                }
                if c.fetched.elapsed() < REFETCH_AFTER {
                    return Err(invalid("the ID token is signed by a key the platform does not publish"));
                }
            }
        }
        let keys = self.fetch(url).await?;
        let found = keys.find(kid).map(DecodingKey::from_jwk);
        self.cache.write().await.insert(url.to_owned(), Cached { keys, fetched: Instant::now() });
        match found {
            Some(Ok(key)) => Ok(key),
            Some(Err(_)) => Err(invalid("the platform's key is unusable")),
            None => Err(invalid("the ID token is signed by a key the platform does not publish")),
        }
    }
}

#[async_trait]
impl PlatformKeys for HttpPlatformKeys {
    async fn verify(&self, jwks_url: &str, token: &str) -> Result<Map<String, Value>, LaunchError> {
        if token.len() > 64 * 1024 {
            return Err(invalid("the ID token is too large"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed ID token"))?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid("the ID token must be signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| invalid("the ID token names no key (kid)"))?;
        let key = self.key(jwks_url, &kid).await?;
        // The signature only: every claim is checked by the domain's rules (check_claims).
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|_| invalid("the ID token's signature does not verify"))?;
        Ok(data.claims)
    }
}
