//! `GET /spaces`: the caller's spaces, personal space first.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::spaces::ListSpaces;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_edge::cursor::Cursors;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ListSpaces, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let cursors = Arc::new(Cursors::from_secret(Secrets::new(&cfg)?.on_first_use(&cfg, "VIVID_CURSOR_SECRET_ARN")?));
    Ok(ListSpaces { auth, spaces: table, cursors })
}
