//! `POST /invitations/{code}/accept`: joins a space with an invitation code (user).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::invitations::AcceptInvitation;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<AcceptInvitation, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(AcceptInvitation { auth, spaces: table.clone(), invitations: table })
}
