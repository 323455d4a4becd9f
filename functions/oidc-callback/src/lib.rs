//! `GET /auth/oidc/{provider}/callback`: code exchange, ID token verified, sign-up, sign-in or link, 302 to the front end.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::{
    auth::WebSettings,
    oidc::{OidcCallback, Providers},
};
use vivid_config::{Config, ConfigError};
use vivid_domain::sessions::{SessionPorts, Sessions};
use vivid_dynamo::Table;
use vivid_oidc::Oidc;
use vivid_secrets::Secrets;
use vivid_tokens::TokenIssuer;

pub async fn wire(cfg: Config) -> Result<OidcCallback, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    let signing_key = secrets.read(&cfg, "VIVID_JWT_SIGNING_KEY_ARN").await?;
    let issuer = TokenIssuer::from_config(&cfg, &signing_key)?;
    let sessions = Sessions::new(SessionPorts { store: table.clone(), users: table.clone(), issuer: Arc::new(issuer) });
    // The providers' client secrets: read by the first code exchange, not at init (none
    // configured: no provider can exchange a code, and says so).
    let client_secrets = match cfg.optional("VIVID_OIDC_CLIENT_SECRET_ARN") {
        Some(_) => Some(Arc::new(secrets.on_first_use(&cfg, "VIVID_OIDC_CLIENT_SECRET_ARN")?)),
        None => None,
    };
    Ok(OidcCallback {
        idp: Arc::new(Oidc::new(client_secrets).with_loopback_http(cfg.flag("VIVID_ALLOW_PRIVATE_DOWNLOADS"))),
        logins: table.clone(),
        identities: table.clone(),
        users: table.clone(),
        invitations: table,
        sessions,
        providers: Providers::from_config(&cfg)?,
        web: WebSettings::from_config(&cfg)?,
    })
}
