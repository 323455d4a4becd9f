//! The HTTP handlers, grouped by area. Each handler is built from exactly the ports it uses
//! (`new(...)`); `functions/<name>/src/lib.rs` wires the adapters into it, and `main.rs` serves
//! it. The local stack calls the very same wiring.

pub mod auth;
pub mod connectors;
pub mod cookies;
pub mod members;
pub mod notes;
pub mod snapshots;
pub mod spaces;
pub mod users;
pub mod videos;
pub mod webex;
pub mod zoom;

pub use vivid_edge::{ApiError, Handler};

/// A body's time on the video (`field` names it in the 422): see [`vivid_domain::types::Seconds`].
pub(crate) fn seconds(field: &str, v: f64) -> Result<vivid_domain::types::Seconds, ApiError> {
    vivid_domain::types::Seconds::new(v)
        .map_err(|e| ApiError::unprocessable("invalid_seconds", format!("{field}: {e}")))
}
