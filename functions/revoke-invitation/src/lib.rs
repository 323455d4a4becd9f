//! `DELETE /spaces/{spaceId}/invitations/{invitationId}`: withdraws an invitation (host, co-host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::invitations::RevokeInvitation;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<RevokeInvitation, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(RevokeInvitation { auth, spaces: table.clone(), invitations: table })
}
