//! `POST /auth/logout`: revokes the refresh-token family of the presented refresh token (no access
//! token needed), clears the cookie.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::auth::Logout;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;

pub async fn wire(cfg: Config) -> Result<Logout, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    Ok(Logout { sessions: table })
}
