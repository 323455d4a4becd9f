//! The per-caller rate limit, checked before any route's handler runs (`serve` wraps every HTTP
//! function's handler, and the local stack wraps the same handlers the same way): a request
//! whose bearer token verifies is counted against its user, any other request (no token, or one
//! that does not verify — so a forged `sub` cannot spend someone else's allowance) against its
//! source address. Over the limit: 429 `rate_limited` with `Retry-After`, to that caller only.
//! A counter that cannot count lets the request through with a warning (it fails open): the
//! limiter must never be what takes the API down. See `docs/quotas.md`.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Response};

use vivid_config::{Config, ConfigError};
use vivid_domain::{
    quota::{QUOTAS_VAR, Quotas},
    rate_limit::{RateCounter, RateKey, RateLimiter, RateLimits, Verdict},
    types::unix_now,
};
use vivid_tokens::TokenVerifier;

use crate::{ApiError, ApiRequest, Handler};

/// Builds the store a function's limiter counts in from its configuration
/// (`vivid_dynamo::rate_counter`).
pub type CounterFrom = fn(&Config) -> Result<Arc<dyn RateCounter>, ConfigError>;

/// A route's handler behind the per-caller rate limit.
pub struct RateLimited {
    inner: Arc<dyn Handler>,
    limiter: RateLimiter,
    verifier: TokenVerifier,
}

impl RateLimited {
    pub fn new(inner: Arc<dyn Handler>, limiter: RateLimiter, verifier: TokenVerifier) -> Self {
        Self { inner, limiter, verifier }
    }

    /// Who `req` is counted against: the user of a bearer token that verifies, else the address
    /// it came from (`None` for an event that names none: not counted).
    pub fn key(&self, req: &ApiRequest) -> Option<RateKey> {
        if let Ok(token) = req.bearer_token()
            && let Ok(caller) = self.verifier.verify(token)
        {
            return Some(RateKey::user(&caller.user_id));
        }
        req.source_ip().map(RateKey::address)
    }
}

#[async_trait]
impl Handler for RateLimited {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        match self.key(req) {
            Some(key) => match self.limiter.check(&key, unix_now()).await {
                Ok(Verdict::Allowed) => {}
                Ok(Verdict::Limited { retry_after_secs }) => {
                    let limit = self.limiter.limits().limit(&key);
                    return Err(ApiError::RateLimited { limit, retry_after_secs });
                }
                Err(e) => {
                    tracing::warn!(error = %e, cause = ?e, "rate limiter unavailable: the request goes through uncounted")
                }
            },
            None => tracing::debug!("no caller to count: no verified token and no source address"),
        }
        self.inner.handle(req).await
    }
}

/// `handler` behind the rate limits of `cfg` (`VIVID_QUOTAS`: `ratePerUser`, `ratePerIp`),
/// counting in the store `counter` builds, with the function's token keys.
pub fn limited(cfg: &Config, counter: CounterFrom, handler: Arc<dyn Handler>) -> Result<Arc<dyn Handler>, ConfigError> {
    let quotas: Quotas = cfg.parsed(QUOTAS_VAR)?.unwrap_or_default();
    let limiter = RateLimiter::new(counter(cfg)?, RateLimits::from_quotas(&quotas));
    Ok(Arc::new(RateLimited::new(handler, limiter, TokenVerifier::from_config(cfg)?)))
}

#[cfg(test)]
mod tests {
    use std::{
        collections::HashMap,
        sync::{
            Mutex,
            atomic::{AtomicBool, AtomicU64, Ordering},
        },
    };

    use http::{StatusCode, header};
    use vivid_domain::{error::StoreError, rate_limit::Window};
    use vivid_tokens::TokenAudience;

    use super::*;
    use crate::http::dispatch;

    /// A public key no token here is signed with: every token fails to verify.
    const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE49fTcEbEvOzJk1yjsooUO1tLvhHr\nt5dy3DnGCvX7WzrGQ+dtrJMk3OsmzEmfrBWUFnbMfYp8a9w9rjvjLNVaJg==\n-----END PUBLIC KEY-----\n";

    #[derive(Default)]
    struct Counts {
        by_key: Mutex<HashMap<String, u64>>,
        down: AtomicBool,
    }

    #[async_trait]
    impl RateCounter for Counts {
        async fn take(&self, key: &RateKey, _: Window, limit: u64) -> Result<bool, StoreError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::unavailable("ThrottlingException"));
            }
            let mut by_key = self.by_key.lock().map_err(|_| StoreError::backend("poisoned"))?;
            let n = by_key.entry(key.to_string()).or_default();
            *n += 1;
            Ok(*n <= limit)
        }
    }

    struct Served(AtomicU64);

    #[async_trait]
    impl Handler for Served {
        async fn handle(&self, _: &ApiRequest) -> Result<Response<Body>, ApiError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            crate::http::no_content()
        }
    }

    fn request(ip: &str, authorization: Option<&str>) -> lambda_http::Request {
        let mut headers = serde_json::Map::new();
        if let Some(a) = authorization {
            headers.insert("authorization".into(), a.into());
        }
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "GET /users/me", "rawPath": "/users/me", "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "1", "apiId": "a", "domainName": "api.example.com", "domainPrefix": "api",
                "http": {"method": "GET", "path": "/users/me", "protocol": "HTTP/1.1", "sourceIp": ip, "userAgent": "t"},
                "requestId": "r", "routeKey": "GET /users/me", "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0
            },
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap_or_default()
    }

    fn limited(limit: u64) -> (Arc<Counts>, Arc<Served>, RateLimited) {
        let counts = Arc::new(Counts::default());
        let served = Arc::new(Served(AtomicU64::new(0)));
        let who = TokenAudience { issuer: "https://api.example".into(), audience: "vivid-api".into() };
        let verifier = TokenVerifier::new([("k1", PUBLIC_PEM)], &who);
        let limiter = RateLimiter::new(counts.clone(), RateLimits { per_user: limit, per_address: limit });
        let handler = served.clone();
        (counts, served, RateLimited::new(handler, limiter, verifier.unwrap_or_else(|e| panic!("{e}"))))
    }

    #[tokio::test]
    async fn a_caller_over_the_limit_gets_429_rate_limited_with_retry_after_and_the_handler_never_runs() {
        let (_, served, handler) = limited(2);
        for _ in 0..2 {
            assert_eq!(dispatch(&handler, request("203.0.113.9", None)).await.status(), StatusCode::NO_CONTENT);
        }
        let refused = dispatch(&handler, request("203.0.113.9", None)).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()[header::CONTENT_TYPE], crate::http::PROBLEM_JSON);
        let wait: u64 = refused.headers()[header::RETRY_AFTER].to_str().ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!((1..=60).contains(&wait), "{wait}");
        let doc: serde_json::Value = match refused.body() {
            Body::Binary(b) => serde_json::from_slice(b).unwrap_or_default(),
            _ => serde_json::Value::Null,
        };
        assert_eq!(
            (doc["code"].as_str(), doc["status"].as_u64(), doc["limit"].as_u64()),
            (Some("rate_limited"), Some(429), Some(2))
        );
        assert_eq!(served.0.load(Ordering::SeqCst), 2);
        // Another address is its own caller.
        assert_eq!(dispatch(&handler, request("203.0.113.10", None)).await.status(), StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn a_token_that_does_not_verify_is_counted_against_the_address() {
        let (counts, _, handler) = limited(100);
        let forged = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIwMUpENlE1QzdCOEQ5RTBGMUcySDNKNEs1TSJ9.c2ln";
        for auth in [None, Some("Bearer not-a-token"), Some(&format!("Bearer {forged}")[..]), Some("Basic x")] {
            dispatch(&handler, request("2001:db8:1:2::77", auth)).await;
        }
        let by_key = counts.by_key.lock().map(|m| m.clone()).unwrap_or_default();
        assert_eq!(by_key.into_iter().collect::<Vec<_>>(), [("IP#2001:db8:1:2::/64".to_owned(), 4)]);
    }

    #[tokio::test]
    async fn a_counter_that_is_down_lets_every_request_through() {
        let (counts, served, handler) = limited(1);
        counts.down.store(true, Ordering::SeqCst);
        for _ in 0..5 {
            assert_eq!(dispatch(&handler, request("203.0.113.9", None)).await.status(), StatusCode::NO_CONTENT);
        }
        assert_eq!(served.0.load(Ordering::SeqCst), 5);
    }
}
