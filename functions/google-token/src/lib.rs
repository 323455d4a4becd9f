//! `POST /auth/google`: a Google ID token for our tokens.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::auth::GoogleToken;
use vivid_config::{Config, ConfigError};
use vivid_domain::sessions::{SessionPorts, Sessions};
use vivid_dynamo::Table;
use vivid_google::{GoogleOidc, GoogleSettings};
use vivid_secrets::Secrets;
use vivid_tokens::TokenIssuer;

pub async fn wire(cfg: Config) -> Result<GoogleToken, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    let issuer = TokenIssuer::from_config(&cfg, &secrets.read(&cfg, "VIVID_JWT_SIGNING_KEY_ARN").await?)?;
    let sessions = Sessions::new(SessionPorts { store: table.clone(), users: table.clone(), issuer: Arc::new(issuer) })
        .with_invitations(table.clone());
    let idp = GoogleOidc::with_settings(GoogleSettings::from_config(&cfg, None)?)?;
    Ok(GoogleToken { idp: Arc::new(idp), sessions })
}
