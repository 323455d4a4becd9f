//! `POST /webex/token`: exchanges the code and stores the sealed tokens.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::connectors::{Connect, Platform};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_kms::KmsCipher;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;
use vivid_webex::WebexHttp;

pub async fn wire(cfg: Config) -> Result<Connect, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    let webex = Arc::new(WebexHttp::from_config(
        &cfg,
        Some(vivid_webex::client_secret(secrets.read(&cfg, "VIVID_WEBEX_CLIENT_SECRET_ARN").await?)),
    )?);
    let cipher = Arc::new(KmsCipher::from_config(&cfg)?);
    Ok(Connect { auth, platform: Platform { oauth: webex, connections: table, cipher } })
}
