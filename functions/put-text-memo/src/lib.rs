//! `PUT /videos/{videoId}/text-memo`: saves the latest state, conditionally with If-Match.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::notes::PutTextMemo;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<PutTextMemo, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(PutTextMemo { auth, catalog: table.clone(), notes: table.clone(), index: table })
}
