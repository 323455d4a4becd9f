//! The deletion worker, invoked asynchronously by the three deletion routes: finishes an account,
//! space or video deletion they started (the cascade over the table and the three buckets).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::{cascade::Stores, media::Bucket};
use vivid_dynamo::Table;
use vivid_events::DeletionWorker;
use vivid_s3::S3Media;

pub async fn wire(cfg: Config) -> Result<DeletionWorker, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Raw, Bucket::Media, Bucket::User])?);
    Ok(DeletionWorker::new(
        Stores {
            users: table.clone(),
            spaces: table.clone(),
            videos: table.clone(),
            media,
            sessions: table.clone(),
            auto_imports: table,
        },
        std::time::Duration::from_millis(cfg.number("VIVID_INDEX_SETTLE_MS", 1000)?),
    ))
}
