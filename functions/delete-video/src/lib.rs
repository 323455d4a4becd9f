//! `DELETE /videos/{videoId}`: marks the video as deleting and starts the deletion worker (host,
//! co-host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::videos::DeleteVideo;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_lambda::LambdaInvoker;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<DeleteVideo, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let invoker = Arc::new(LambdaInvoker::deletion_worker(&cfg)?);
    Ok(DeleteVideo { auth, catalog: table.clone(), removal: table, deletions: invoker })
}
