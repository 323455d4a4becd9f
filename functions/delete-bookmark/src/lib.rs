//! `DELETE /videos/{videoId}/bookmarks/{bookmarkId}`: deletes one of the caller's bookmarks.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::bookmarks::DeleteBookmark;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<DeleteBookmark, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(DeleteBookmark { auth, catalog: table.clone(), bookmarks: table })
}
