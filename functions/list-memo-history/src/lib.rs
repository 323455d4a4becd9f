//! `GET /videos/{videoId}/text-memo/history`: checkpoints, newest first.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::notes::ListMemoHistory;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_edge::cursor::Cursors;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ListMemoHistory, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let cursors = Arc::new(Cursors::from_secret(Secrets::new(&cfg)?.on_first_use(&cfg, "VIVID_CURSOR_SECRET_ARN")?));
    Ok(ListMemoHistory { auth, catalog: table.clone(), notes: table, cursors })
}
