//! `GET /zoom/recordings` (and its deprecated alias `GET /users/me/recordings`): the caller's Zoom cloud recordings across month windows and pages.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::connectors::Platform;
use vivid_api::zoom::ListZoomRecordings;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_edge::cursor::Cursors;
use vivid_kms::KmsCipher;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;
use vivid_zoom::ZoomHttp;

pub async fn wire(cfg: Config) -> Result<ListZoomRecordings, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    // Only a token refresh needs the client secret: read by the first one, not at init.
    let client_secret = Arc::new(secrets.on_first_use(&cfg, "VIVID_ZOOM_CLIENT_SECRET_ARN")?);
    let zoom = Arc::new(ZoomHttp::from_config(&cfg, Some(client_secret))?);
    let cipher = Arc::new(KmsCipher::from_config(&cfg)?);
    let platform = Platform { oauth: zoom.clone(), connections: table, cipher };
    let cursors = Arc::new(Cursors::from_secret(secrets.on_first_use(&cfg, "VIVID_CURSOR_SECRET_ARN")?));
    Ok(ListZoomRecordings { auth, api: zoom, platform, cursors })
}
