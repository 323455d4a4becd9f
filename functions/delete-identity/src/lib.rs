//! `DELETE /users/me/identities/{identityId}`: unlinks an institutional identity (never the last way to sign in).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::oidc::DeleteIdentity;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<DeleteIdentity, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(DeleteIdentity { auth, users: table.clone(), identities: table })
}
