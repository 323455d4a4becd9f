//! `DELETE /users/me`: marks the account as deleting and starts the deletion worker.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::users::DeleteMe;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_lambda::LambdaInvoker;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<DeleteMe, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let invoker = Arc::new(LambdaInvoker::deletion_worker(&cfg)?);
    Ok(DeleteMe { auth, users: table, deletions: invoker })
}
