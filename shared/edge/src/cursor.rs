//! Opaque pagination cursors bound to the query that made them.
//!
//! A cursor carries the store's last evaluated key and a digest of the query's binding (route,
//! caller, parent resource). A cursor presented to another query is refused, and the store
//! additionally refuses a start key outside the partition it queries, so editing a cursor can
//! never reach another user's or another space's items.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use vivid_domain::page::PageKey;

use crate::problem::ApiError;

#[derive(Serialize, Deserialize)]
struct Wire {
    b: String,
    k: PageKey,
}

pub struct Cursor;

impl Cursor {
    pub fn encode(key: &PageKey, binding: &str) -> String {
        let wire = Wire { b: digest(binding), k: key.clone() };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
    }

    pub fn decode(cursor: &str, binding: &str) -> Result<PageKey, ApiError> {
        let invalid = || ApiError::bad_request("invalid_cursor", "the cursor is malformed or belongs to another query");
        if cursor.len() > 2048 {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if wire.b != digest(binding) {
            return Err(invalid());
        }
        Ok(wire.k)
    }
}

fn digest(binding: &str) -> String {
    let hash = Sha256::digest(binding.as_bytes());
    URL_SAFE_NO_PAD.encode(&hash[..16])
}

/// The wire shape of every list: `{"items": [...], "nextCursor": "..."}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListBody<T: Serialize> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T: Serialize> ListBody<T> {
    pub fn new(items: Vec<T>, next: Option<&PageKey>, binding: &str) -> Self {
        Self { items, next_cursor: next.map(|k| Cursor::encode(k, binding)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_for_its_own_query_only() {
        let key: PageKey = [("PK".to_owned(), "SPACE#1".to_owned())].into();
        let c = Cursor::encode(&key, "members|space=1");
        assert_eq!(Cursor::decode(&c, "members|space=1").ok(), Some(key));
        assert!(Cursor::decode(&c, "members|space=2").is_err());
        assert!(Cursor::decode("not base64!", "members|space=1").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"{}"), "members|space=1").is_err());
    }
}
