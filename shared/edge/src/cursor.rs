//! Opaque pagination cursors, signed and bound to the query that made them.
//!
//! A cursor carries the store's last evaluated key and an HMAC-SHA256, keyed with a secret from
//! the secret store, over the query's binding (route, caller, parent resource) and that key. A
//! cursor that was edited, forged, or made for another query is a 400 `invalid_cursor` before
//! anything reaches the store; the store additionally refuses a start key outside the partition
//! it queries.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use vivid_config::ConfigError;
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
    ApiError::bad_request("invalid_cursor", "the cursor is malformed or belongs to another query")
}

/// Signs and checks cursors with one key.
pub struct Cursors {
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cursors(..)")
    }
}

impl Cursors {
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

    /// `limit` and `cursor` of a list request; the cursor must have been made for `binding`.
    pub fn page(&self, req: &ApiRequest, binding: &str) -> Result<(Limit, Option<PageKey>), ApiError> {
        let limit = match req.query("limit") {
            None => Limit::DEFAULT,
            Some(raw) => raw.parse().map_err(|e: Invalid| ApiError::bad_request("invalid_limit", e.0))?,
        };
        let start = req.query("cursor").map(|c| self.decode(c, binding)).transpose()?;
        Ok((limit, start))
    }

    /// A list's body, its next cursor signed for `binding`.
    pub fn list<T: Serialize>(&self, items: Vec<T>, next: Option<&PageKey>, binding: &str) -> ListBody<T> {
        ListBody { items, next_cursor: next.map(|k| self.encode(k, binding)) }
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
        let cursors = Cursors::new(&"k".repeat(32)).expect("key");
        let key: PageKey = [("PK".to_owned(), "SPACE#1".to_owned()), ("SK".to_owned(), "MEMBER#2".to_owned())].into();
        let c = cursors.encode(&key, "members|space=1");
        assert_eq!(cursors.decode(&c, "members|space=1").ok(), Some(key.clone()));
        assert!(cursors.decode(&c, "members|space=2").is_err(), "another query");
        assert!(Cursors::new(&"o".repeat(32)).expect("key").decode(&c, "members|space=1").is_err(), "another key");
        assert!(cursors.decode("not base64!", "members|space=1").is_err());
        assert!(cursors.decode(&URL_SAFE_NO_PAD.encode(b"{}"), "members|space=1").is_err());
    }

    #[test]
    fn an_edited_key_is_refused_even_with_the_original_tag() {
        let cursors = Cursors::new(&"k".repeat(32)).expect("key");
        let key: PageKey = [("PK".to_owned(), "SPACE#1".to_owned()), ("SK".to_owned(), "MEMBER#2".to_owned())].into();
        let c = cursors.encode(&key, "b");
        let mut wire: Wire = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&c).expect("b64")).expect("json");
        wire.k.remove("SK");
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("json"));
        assert!(cursors.decode(&forged, "b").is_err());
    }
}
