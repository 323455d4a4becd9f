//! `GET /auth/oidc/{provider}/login`: 302 to the institution's provider with state, PKCE and nonce.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::{
    auth::WebSettings,
    oidc::{OidcLogin, Providers},
};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_oidc::Oidc;

pub async fn wire(cfg: Config) -> Result<OidcLogin, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    // No client secret: the login only reads the discovery document.
    let idp = Arc::new(Oidc::new(None).with_loopback_http(cfg.flag("VIVID_ALLOW_PRIVATE_DOWNLOADS")));
    Ok(OidcLogin { idp, logins: table, providers: Providers::from_config(&cfg)?, web: WebSettings::from_config(&cfg)? })
}
