//! `GET /auth/google/login`: 302 to Google with state and PKCE, bound to the browser.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::auth::{GoogleLogin, WebSettings};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_google::{GoogleOidc, GoogleSettings};

pub async fn wire(cfg: Config) -> Result<GoogleLogin, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let idp = GoogleOidc::with_settings(GoogleSettings::from_config(&cfg, None)?)?;
    Ok(GoogleLogin { idp: Arc::new(idp), logins: table, web: WebSettings::from_config(&cfg)? })
}
