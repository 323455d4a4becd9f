//! `GET /spaces/{spaceId}/progress`: each member's videos completed, progress and last access (host, co-host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::progress::ClassProgress;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_edge::cursor::Cursors;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ClassProgress, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let cursors = Arc::new(Cursors::from_secret(Secrets::new(&cfg)?.on_first_use(&cfg, "VIVID_CURSOR_SECRET_ARN")?));
    Ok(ClassProgress { auth, spaces: table.clone(), users: table, cursors })
}
