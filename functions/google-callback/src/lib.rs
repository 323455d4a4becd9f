//! `GET /auth/google/callback`: code exchange, sign-up or sign-in, 302 to the front end.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::auth::{GoogleCallback, WebSettings};
use vivid_config::{Config, ConfigError};
use vivid_domain::sessions::{SessionPorts, Sessions};
use vivid_dynamo::Table;
use vivid_google::{GoogleOidc, GoogleSettings};
use vivid_secrets::Secrets;
use vivid_tokens::TokenIssuer;

pub async fn wire(cfg: Config) -> Result<GoogleCallback, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    let [signing_key, secret] =
        secrets.read_all(&cfg, ["VIVID_JWT_SIGNING_KEY_ARN", "VIVID_GOOGLE_CLIENT_SECRET_ARN"]).await?;
    let issuer = TokenIssuer::from_config(&cfg, &signing_key)?;
    let sessions = Sessions::new(SessionPorts { store: table.clone(), users: table.clone(), issuer: Arc::new(issuer) })
        .with_invitations(table.clone());
    let idp = GoogleOidc::with_settings(GoogleSettings::from_config(&cfg, Some(secret))?)?;
    Ok(GoogleCallback { idp: Arc::new(idp), logins: table, sessions, web: WebSettings::from_config(&cfg)? })
}
