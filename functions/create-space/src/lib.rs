//! `POST /spaces`: the caller becomes host and first member.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::spaces::CreateSpace;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<CreateSpace, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let quotas = vivid_api::quotas(&cfg)?;
    Ok(CreateSpace { auth, spaces: table, quotas })
}
