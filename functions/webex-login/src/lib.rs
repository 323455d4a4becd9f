//! `GET /webex/login`: Webex's authorize URL with a state bound to the caller.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::webex::WebexLogin;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;
use vivid_webex::{WebexHttp, WebexSettings};

pub async fn wire(cfg: Config) -> Result<WebexLogin, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let webex = WebexHttp::with_settings(WebexSettings::from_config(&cfg, None)?)?;
    Ok(WebexLogin::new(auth, Arc::new(webex), table))
}
