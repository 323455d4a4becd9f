//! `GET /users/me/invitations`: the open e-mail invitations to the caller's address (user).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::invitations::ListMyInvitations;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ListMyInvitations, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let frontend = cfg.var("VIVID_INVITATION_URL")?;
    Ok(ListMyInvitations { auth, invitations: table, frontend })
}
