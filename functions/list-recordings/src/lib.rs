//! `GET /webex/recordings`: the caller's Webex recordings, tokens refreshed transparently.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::connectors::Platform;
use vivid_api::webex::ListRecordings;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_edge::cursor::Cursors;
use vivid_kms::KmsCipher;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;
use vivid_webex::WebexHttp;

pub async fn wire(cfg: Config) -> Result<ListRecordings, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    // Only a token refresh needs the client secret: read by the first one, not at init.
    let client_secret = Arc::new(secrets.on_first_use(&cfg, "VIVID_WEBEX_CLIENT_SECRET_ARN")?);
    let webex = Arc::new(WebexHttp::from_config(&cfg, Some(client_secret))?);
    let cipher = Arc::new(KmsCipher::from_config(&cfg)?);
    let platform = Platform { oauth: webex.clone(), connections: table, cipher };
    let cursors = Arc::new(Cursors::from_secret(secrets.on_first_use(&cfg, "VIVID_CURSOR_SECRET_ARN")?));
    Ok(ListRecordings { auth, api: webex, platform, cursors })
}
