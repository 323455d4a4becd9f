//! `POST /lti/session`: the launch's one-time code for the session's tokens.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti::LtiSession;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    lti::{launch::NoPlatformKeys, launcher::Lti},
    sessions::{SessionPorts, Sessions},
};
use vivid_dynamo::Table;
use vivid_secrets::Secrets;
use vivid_tokens::TokenIssuer;

pub async fn wire(cfg: Config) -> Result<LtiSession, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    let issuer = TokenIssuer::from_config(&cfg, &secrets.read(&cfg, "VIVID_JWT_SIGNING_KEY_ARN").await?)?;
    let sessions = Sessions::new(SessionPorts { store: table.clone(), users: table.clone(), issuer: Arc::new(issuer) });
    Ok(LtiSession { lti: Arc::new(Lti::on(table.clone(), Arc::new(NoPlatformKeys))), users: table, sessions })
}
