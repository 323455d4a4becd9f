//! The import worker, invoked asynchronously: streams a Webex or Zoom recording into the raw bucket.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_events::{ImportWorker, recording_sources};
use vivid_kms::KmsCipher;
use vivid_s3::S3Media;
use vivid_secrets::Secrets;
use vivid_webex::WebexHttp;
use vivid_zoom::ZoomHttp;

pub async fn wire(cfg: Config) -> Result<ImportWorker, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let secrets = Secrets::new(&cfg)?;
    // Each job needs at most one platform's client secret, and only to refresh its access token:
    // read by the first refresh that needs it, not at init.
    let webex_secret = Arc::new(secrets.on_first_use(&cfg, "VIVID_WEBEX_CLIENT_SECRET_ARN")?);
    let zoom_secret = Arc::new(secrets.on_first_use(&cfg, "VIVID_ZOOM_CLIENT_SECRET_ARN")?);
    let webex = Arc::new(WebexHttp::from_config(&cfg, Some(webex_secret))?);
    let zoom = Arc::new(ZoomHttp::from_config(&cfg, Some(zoom_secret))?);
    let cipher = Arc::new(KmsCipher::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Raw, Bucket::Media])?);
    Ok(ImportWorker {
        uploads: table.clone(),
        catalog: table.clone(),
        states: table.clone(),
        captions: table.clone(),
        media,
        connections: table.clone(),
        cipher,
        sources: recording_sources([webex as _, zoom as _]),
        index: Some(table),
    })
}
