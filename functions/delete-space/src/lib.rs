//! `DELETE /spaces/{spaceId}`: marks the space as deleting and starts the deletion worker (host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::spaces::DeleteSpace;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_lambda::LambdaInvoker;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<DeleteSpace, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let invoker = Arc::new(LambdaInvoker::deletion_worker(&cfg)?);
    Ok(DeleteSpace { auth, spaces: table, deletions: invoker })
}
