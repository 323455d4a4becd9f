//! `GET /zoom/login`: Zoom's authorize URL with a state bound to the caller.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::connectors::ConnectLogin;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;
use vivid_zoom::ZoomHttp;

pub async fn wire(cfg: Config) -> Result<ConnectLogin, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let zoom = ZoomHttp::from_config(&cfg, None)?;
    Ok(ConnectLogin { auth, oauth: Arc::new(zoom), connections: table })
}
