//! `PATCH /spaces/{spaceId}/members/{userId}`: makes a member co-host or participant (host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::members::UpdateMember;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<UpdateMember, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(UpdateMember { auth, spaces: table.clone(), users: table.clone(), links: table })
}
