//! `POST /videos/{videoId}/bookmarks`: a bookmark of the caller's (counted per video).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::bookmarks::CreateBookmark;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<CreateBookmark, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let quotas = vivid_api::quotas(&cfg)?;
    Ok(CreateBookmark { auth, catalog: table.clone(), bookmarks: table, quotas })
}
