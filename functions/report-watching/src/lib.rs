//! `POST /videos/{videoId}/watching`: a report of the intervals the player played, taken into the
//! member's watched coverage once, with the class's heat counters, in one transaction; for a
//! student of an LTI course whose completion rose, the grade worker started.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::watching::{ReportWatching, SpaceThresholds};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_lambda::LambdaInvoker;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ReportWatching, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    // The Lambda client is built by the first invocation that starts a worker, not at init: most
    // reports start nothing.
    let grades = Arc::new(LambdaInvoker::grade_worker(&cfg)?);
    Ok(ReportWatching {
        auth,
        watch: table.clone(),
        progress: table.clone(),
        catalog: table.clone(),
        grades,
        thresholds: SpaceThresholds::new(table),
    })
}
