//! `POST /spaces/{spaceId}/videos/webex`: the video in IMPORTING, the import worker started (host, co-host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::connectors::Platform;
use vivid_api::webex::{ImportRecording, WebexLookup};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_kms::KmsCipher;
use vivid_lambda::LambdaInvoker;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;
use vivid_webex::WebexHttp;

pub async fn wire(cfg: Config) -> Result<ImportRecording, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    let webex = Arc::new(WebexHttp::from_config(
        &cfg,
        Some(Arc::new(secrets.on_first_use(&cfg, "VIVID_WEBEX_CLIENT_SECRET_ARN")?)),
    )?);
    let cipher = Arc::new(KmsCipher::from_config(&cfg)?);
    let invoker = Arc::new(LambdaInvoker::from_config(&cfg)?);
    let platform = Platform { oauth: webex.clone(), connections: table.clone(), cipher };
    let quotas = vivid_api::quotas(&cfg)?;
    let lookup = WebexLookup { api: webex };
    Ok(ImportRecording { auth, lookup, platform, spaces: table.clone(), uploads: table, importer: invoker, quotas })
}
