//! `POST /auth/oidc/{provider}/link`: starts linking an institutional identity to the caller's account.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::{
    auth::WebSettings,
    oidc::{OidcLink, Providers},
};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_oidc::Oidc;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<OidcLink, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let idp = Arc::new(Oidc::new(None).with_loopback_http(cfg.flag("VIVID_ALLOW_PRIVATE_DOWNLOADS")));
    Ok(OidcLink {
        auth,
        idp,
        logins: table,
        providers: Providers::from_config(&cfg)?,
        web: WebSettings::from_config(&cfg)?,
    })
}
