//! `GET /videos/{videoId}/text-memo`: the caller's latest note state.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::notes::GetTextMemo;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<GetTextMemo, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(GetTextMemo { auth, catalog: table.clone(), notes: table })
}
