//! The HTTP handlers, grouped by area. A handler is its named dependencies: a struct whose pub
//! fields are exactly the ports (and verifier, cursors, settings) it uses, each named by its role
//! (`spaces`, `users`, `links`, …); `functions/<name>/src/lib.rs` builds it with a struct literal
//! from the adapters, and `main.rs` serves it. The local stack calls the very same wiring. Logic
//! several handlers share is a free function taking the ports it needs, never a shared context.

pub mod auth;
pub mod bookmarks;
pub mod captions;
pub mod connectors;
pub mod cookies;
pub mod engagement;
pub mod fallback;
pub mod imports;
pub mod invitations;
pub mod lti;
pub mod lti_registration;
pub mod lti_roster;
pub mod members;
pub mod notes;
pub mod oidc;
pub mod progress;
pub mod search;
pub mod snapshots;
pub mod spaces;
pub mod study_map;
pub mod transcripts;
pub mod users;
pub mod videos;
pub mod watching;
pub mod webex;
pub mod zoom;

pub use vivid_edge::{ApiError, Handler};

/// A body's time on the video (`field` names it in the 422): see [`vivid_domain::types::Seconds`].
pub(crate) fn seconds(field: &str, v: f64) -> Result<vivid_domain::types::Seconds, ApiError> {
    seconds_by(field, v, vivid_domain::types::Seconds::new)
}

/// A time in seconds kept to the millisecond by `keep` (nearest, floor or ceiling).
pub(crate) fn seconds_by(
    field: &str,
    v: f64,
    keep: fn(f64) -> Result<vivid_domain::types::Seconds, vivid_domain::types::Invalid>,
) -> Result<vivid_domain::types::Seconds, ApiError> {
    keep(v).map_err(|e| ApiError::unprocessable("invalid_seconds", format!("{field}: {e}")))
}

/// The quotas the template configures (`VIVID_QUOTAS`, `name=value` pairs); defaults when unset.
pub fn quotas(cfg: &vivid_config::Config) -> Result<vivid_domain::quota::Quotas, vivid_config::ConfigError> {
    Ok(cfg.parsed(vivid_domain::quota::QUOTAS_VAR)?.unwrap_or_default())
}

/// The 202 of a deletion route: `{"<idField>": id, "status": "deleting"}` — the thing reads as
/// gone from now on, and the deletion worker removes it.
pub(crate) fn deleting(id_field: &str, id: &str) -> Result<lambda_http::Response<lambda_http::Body>, ApiError> {
    let mut body = serde_json::Map::new();
    body.insert(id_field.to_owned(), id.into());
    body.insert("status".to_owned(), vivid_domain::deletion::DELETING.into());
    vivid_edge::http::json(::http::StatusCode::ACCEPTED, &body)
}

/// The headers a client sends with a presigned PUT (they are signed into its URL).
pub(crate) fn put_headers(content_type: &str) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".to_owned(), content_type.into());
    for (name, value) in vivid_domain::media::PUT_ONCE_HEADERS {
        headers.insert(name.to_owned(), value.into());
    }
    serde_json::Value::Object(headers)
}
