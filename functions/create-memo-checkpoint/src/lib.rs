//! `POST /videos/{videoId}/text-memo/history`: checkpoints the current state.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::notes::CreateCheckpoint;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<CreateCheckpoint, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let quotas = vivid_api::quotas(&cfg)?;
    Ok(CreateCheckpoint { auth, catalog: table.clone(), notes: table, quotas })
}
