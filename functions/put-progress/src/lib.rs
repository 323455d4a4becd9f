//! `PUT /videos/{videoId}/progress`: the cheap progress write (and, for a student of an LTI
//! course whose completion rose, the grade worker started).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::progress::PutProgress;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_lambda::LambdaInvoker;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<PutProgress, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    // The Lambda client is built by the first invocation, not at init: most writes start nothing.
    let grades = Arc::new(LambdaInvoker::grade_worker(&cfg)?);
    Ok(PutProgress { auth, progress: table.clone(), catalog: table, grades })
}
