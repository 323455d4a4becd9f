//! Opaque pagination cursors, signed and bound to the query that made them.
//!
//! A cursor carries the store's last evaluated key and an HMAC-SHA256, keyed with a secret from
//! the secret store, over the query's binding (route, caller, parent resource) and that key. A
//! cursor that was edited, forged, or made for another query is a 400 `invalid_cursor` before
//! anything reaches the store; the store additionally refuses a start key outside the partition
//! it queries.
//!
//! The key is read by the first request that needs it — one that sends a cursor or whose answer
//! has a next page — not at init ([`Cursors::from_secret`]): a list function starts without a
//! Secrets Manager round trip, and a first page that is also the last never reads it. A read that
//! fails is a 503 for that request and is tried again by the next.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use vivid_config::{ConfigError, FirstUse};
use vivid_domain::{
    page::PageKey,
    types::{Invalid, Limit},
};

use crate::{http::ApiRequest, problem::ApiError};

/// The longest cursor accepted.
const MAX_CURSOR: usize = 2048;

#[derive(Serialize, Deserialize)]
struct Wire {
    k: PageKey,
    m: String,
}

fn invalid() -> ApiError {
    ApiError::invalid_cursor()
}

/// Signs and checks cursors with a key at hand.
pub struct CursorKey {
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    /// With the signing key (the cursor secret's value).
    pub fn new(key: &str) -> Result<Self, ConfigError> {
        if key.len() < 32 {
            return Err(ConfigError::Malformed(
                "VIVID_CURSOR_SECRET_ARN",
                "the cursor key is shorter than 32 bytes".into(),
            ));
        }
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes())
            .map_err(|e| ConfigError::Malformed("VIVID_CURSOR_SECRET_ARN", e.to_string()))?;
        Ok(Self { keyed })
    }

    fn mac(&self, binding: &str, key_json: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(binding.as_bytes());
        mac.update(b"\n");
        mac.update(key_json);
        mac
    }

    pub fn encode(&self, key: &PageKey, binding: &str) -> String {
        let key_json = serde_json::to_vec(key).unwrap_or_default();
        let m = URL_SAFE_NO_PAD.encode(self.mac(binding, &key_json).finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Wire { k: key.clone(), m }).unwrap_or_default())
    }

    pub fn decode(&self, cursor: &str, binding: &str) -> Result<PageKey, ApiError> {
        if cursor.len() > MAX_CURSOR {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(&wire.m).map_err(|_| invalid())?;
        let key_json = serde_json::to_vec(&wire.k).map_err(|_| invalid())?;
        self.mac(binding, &key_json).verify_slice(&tag).map_err(|_| invalid())?;
        // One spelling per cursor: what we would have issued for this key, byte for byte.
        if self.encode(&wire.k, binding) != cursor {
            return Err(invalid());
        }
        Ok(wire.k)
    }

    /// A list's body, its next cursor signed for `binding`.
    pub fn list<T: Serialize>(&self, items: Vec<T>, next: Option<&PageKey>, binding: &str) -> ListBody<T> {
        ListBody { items, next_cursor: next.map(|k| self.encode(k, binding)) }
    }
}

/// A list route's cursors: the key at hand ([`Cursors::new`]) or read on its first use
/// ([`Cursors::from_secret`]).
pub struct Cursors {
    key: FirstUse<CursorKey>,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cursors(..)")
    }
}

impl Cursors {
    /// With the signing key (the cursor secret's value).
    pub fn new(key: &str) -> Result<Self, ConfigError> {
        Ok(Self { key: FirstUse::ready(CursorKey::new(key)?) })
    }

    /// With the cursor secret read on its first use (`Secrets::on_first_use(cfg,
    /// "VIVID_CURSOR_SECRET_ARN")`); a key shorter than 32 bytes is refused then.
    pub fn from_secret(secret: FirstUse<String>) -> Self {
        Self { key: secret.map(|value| CursorKey::new(&value)) }
    }

    /// The key, read now if this is its first use. A failed read answers 503 (a key that is not
    /// one, 500) and is tried again by the next request.
    pub async fn key(&self) -> Result<&CursorKey, ApiError> {
        self.key.get().await.map_err(|e| {
            tracing::error!(error = %e, "the cursor key is not available");
            match e {
                ConfigError::Secret { .. } => ApiError::unavailable(e),
                other => ApiError::internal(other),
            }
        })
    }

    /// `limit` and `cursor` of a list request; the cursor must have been made for `binding`.
    /// Reads the key only when the request sends a cursor.
    pub async fn page(&self, req: &ApiRequest, binding: &str) -> Result<(Limit, Option<PageKey>), ApiError> {
        let limit = match req.query("limit") {
            None => Limit::DEFAULT,
            Some(raw) => raw.parse().map_err(|e: Invalid| ApiError::bad_request("invalid_limit", e.0))?,
        };
        let start = match req.query("cursor") {
            Some(cursor) => Some(self.key().await?.decode(cursor, binding)?),
            None => None,
        };
        Ok((limit, start))
    }

    /// A list's body, its next cursor signed for `binding`. Reads the key only when there is a
    /// next page.
    pub async fn list<T: Serialize>(
        &self,
        items: Vec<T>,
        next: Option<&PageKey>,
        binding: &str,
    ) -> Result<ListBody<T>, ApiError> {
        Ok(match next {
            Some(next) => self.key().await?.list(items, Some(next), binding),
            None => ListBody { items, next_cursor: None },
        })
    }
}

/// The wire shape of every list: `{"items": [...], "nextCursor": "..."}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListBody<T: Serialize> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_for_its_own_query_only() {
        let cursors = CursorKey::new(&"k".repeat(32)).expect("key");
        let key: PageKey = [("PK".to_owned(), "SPACE#1".to_owned()), ("SK".to_owned(), "MEMBER#2".to_owned())].into();
        let c = cursors.encode(&key, "members|space=1");
        assert_eq!(cursors.decode(&c, "members|space=1").ok(), Some(key.clone()));
        assert!(cursors.decode(&c, "members|space=2").is_err(), "another query");
        assert!(CursorKey::new(&"o".repeat(32)).expect("key").decode(&c, "members|space=1").is_err(), "another key");
        assert!(cursors.decode("not base64!", "members|space=1").is_err());
        assert!(cursors.decode(&URL_SAFE_NO_PAD.encode(b"{}"), "members|space=1").is_err());
    }

    #[test]
    fn an_edited_key_is_refused_even_with_the_original_tag() {
        let cursors = CursorKey::new(&"k".repeat(32)).expect("key");
        let key: PageKey = [("PK".to_owned(), "SPACE#1".to_owned()), ("SK".to_owned(), "MEMBER#2".to_owned())].into();
        let c = cursors.encode(&key, "b");
        let mut wire: Wire = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&c).expect("b64")).expect("json");
        wire.k.remove("SK");
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("json"));
        assert!(cursors.decode(&forged, "b").is_err());
    }

    fn lazily(key: &'static str, reads: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Cursors {
        Cursors::from_secret(FirstUse::new(move || {
            reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { Ok(key.to_owned()) }
        }))
    }

    fn request(query: &str) -> ApiRequest {
        let req =
            http::Request::builder().uri(format!("https://api.example/spaces?{query}")).body(lambda_http::Body::Empty);
        let req = lambda_http::RequestExt::with_query_string_parameters(
            req.expect("request"),
            query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<std::collections::HashMap<_, _>>(),
        );
        ApiRequest::new(req)
    }

    #[tokio::test]
    async fn the_key_is_read_only_by_a_request_that_needs_it() {
        use std::sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        };
        let reads = Arc::new(AtomicUsize::new(0));
        let cursors = lazily("0123456789abcdef0123456789abcdef", reads.clone());
        // A first page that is also the last: no key needed.
        let (_, start) = cursors.page(&request("limit=5"), "b").await.expect("page");
        assert!(start.is_none());
        let body = cursors.list(vec![1], None, "b").await.expect("list");
        assert!(body.next_cursor.is_none());
        assert_eq!(reads.load(Ordering::SeqCst), 0);
        // A next page signs: the key is read once, and the cursor opens that page.
        let key: PageKey = [("PK".to_owned(), "SPACE#1".to_owned())].into();
        let next = cursors.list(vec![1], Some(&key), "b").await.expect("list").next_cursor.expect("cursor");
        let (_, start) = cursors.page(&request(&format!("cursor={next}")), "b").await.expect("page");
        assert_eq!(start, Some(key));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // The same cursor from a key at hand: the same spelling.
        assert_eq!(
            CursorKey::new("0123456789abcdef0123456789abcdef")
                .expect("key")
                .encode(&[("PK".to_owned(), "SPACE#1".to_owned())].into(), "b"),
            next
        );
    }

    #[tokio::test]
    async fn a_key_that_cannot_be_had_fails_the_request_that_needs_it_and_only_that() {
        let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let short = lazily("too short", reads);
        assert!(short.page(&request("limit=5"), "b").await.is_ok(), "no cursor, no key");
        let key: PageKey = [("PK".to_owned(), "SPACE#1".to_owned())].into();
        let err = short.list(vec![1], Some(&key), "b").await.expect_err("refused");
        assert_eq!(err.status().as_u16(), 500);
        let unreadable = Cursors::from_secret(FirstUse::new(|| async {
            Err::<String, _>(ConfigError::Secret { name: "VIVID_CURSOR_SECRET_ARN", detail: "throttled".into() })
        }));
        let err = unreadable.page(&request("cursor=abc"), "b").await.expect_err("refused");
        assert_eq!(err.status().as_u16(), 503);
    }
}
