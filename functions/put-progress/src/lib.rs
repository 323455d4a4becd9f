//! `PUT /videos/{videoId}/progress`: the cheap progress write (the client's own account of its
//! progress; completion and grades come from watched coverage, `report-watching`).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::progress::PutProgress;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<PutProgress, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(PutProgress { auth, progress: table.clone(), catalog: table })
}
