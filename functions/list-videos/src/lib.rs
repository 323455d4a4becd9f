//! `GET /spaces/{spaceId}/videos`: videos with status and the caller's progress.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::videos::ListVideos;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_edge::cursor::Cursors;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ListVideos, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let cursors = Arc::new(Cursors::from_secret(Secrets::new(&cfg)?.on_first_use(&cfg, "VIVID_CURSOR_SECRET_ARN")?));
    Ok(ListVideos { auth, spaces: table.clone(), catalog: table.clone(), progress: table, cursors })
}
