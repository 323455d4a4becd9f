//! `DELETE /zoom/token`: revokes the tokens at Zoom, forgets the connection and its automatic imports.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::connectors::{Disconnect, Platform};
use vivid_config::{Config, ConfigError};
use vivid_domain::connectors::Provider;
use vivid_dynamo::Table;
use vivid_kms::KmsCipher;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;
use vivid_zoom::ZoomHttp;

pub async fn wire(cfg: Config) -> Result<Disconnect, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    let zoom = Arc::new(ZoomHttp::from_config(
        &cfg,
        Some(vivid_zoom::client_secret(secrets.read(&cfg, "VIVID_ZOOM_CLIENT_SECRET_ARN").await?)),
    )?);
    let cipher = Arc::new(KmsCipher::from_config(&cfg)?);
    let revoke = Some(Platform { oauth: zoom, connections: table.clone(), cipher });
    Ok(Disconnect { auth, provider: Provider::Zoom, connections: table.clone(), revoke, links: Some(table) })
}
