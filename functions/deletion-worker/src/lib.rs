//! The deletion worker, invoked asynchronously by the three deletion routes: finishes an account,
//! space or video deletion they started (the cascade over the table and the three buckets), and
//! revokes a deleted account's grants at Zoom and Webex.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::{cascade::Stores, connectors::Grants, media::Bucket};
use vivid_dynamo::Table;
use vivid_events::DeletionWorker;
use vivid_kms::KmsCipher;
use vivid_s3::S3Media;
use vivid_secrets::Secrets;
use vivid_webex::WebexHttp;
use vivid_zoom::ZoomHttp;

pub async fn wire(cfg: Config) -> Result<DeletionWorker, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Raw, Bucket::Media, Bucket::User])?);
    // The platforms' client secrets only revoke a deleted account's grants: read by the first
    // revocation, not at init (space and video deletions never need them).
    let secrets = Secrets::new(&cfg)?;
    let zoom_secret = Arc::new(secrets.on_first_use(&cfg, "VIVID_ZOOM_CLIENT_SECRET_ARN")?);
    let webex_secret = Arc::new(secrets.on_first_use(&cfg, "VIVID_WEBEX_CLIENT_SECRET_ARN")?);
    let grants = Grants {
        store: table.clone(),
        cipher: Arc::new(KmsCipher::from_config(&cfg)?),
        platforms: vec![
            Arc::new(ZoomHttp::from_config(&cfg, Some(zoom_secret))?),
            Arc::new(WebexHttp::from_config(&cfg, Some(webex_secret))?),
        ],
    };
    Ok(DeletionWorker {
        stores: Stores {
            users: table.clone(),
            spaces: table.clone(),
            catalog: table.clone(),
            removal: table.clone(),
            media,
            sessions: table.clone(),
            auto_imports: table,
            grants: Arc::new(grants),
        },
        settle: std::time::Duration::from_millis(cfg.number("VIVID_INDEX_SETTLE_MS", 1000)?),
    })
}
