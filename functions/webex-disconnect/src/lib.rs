//! `DELETE /webex/token`: forgets the Webex connection.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::connectors::Disconnect;
use vivid_config::{Config, ConfigError};
use vivid_domain::connectors::Provider;
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<Disconnect, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(Disconnect { auth, provider: Provider::Webex, connections: table, revoke: None, links: None })
}
