//! Scheduled: finishes what was left unfinished — uploads never finished (deleted), imports never
//! finished (failed), deletions whose worker never finished (started again).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_events::{StaleAfter, SweepStaleVideos};
use vivid_lambda::LambdaInvoker;
use vivid_s3::S3Media;

pub async fn wire(cfg: Config) -> Result<SweepStaleVideos, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Raw, Bucket::Media])?);
    let worker = Arc::new(LambdaInvoker::deletion_worker(&cfg)?);
    Ok(SweepStaleVideos {
        uploads: table.clone(),
        catalog: table.clone(),
        states: table.clone(),
        media,
        marks: table,
        worker,
        after: StaleAfter::from_config(&cfg)?,
    })
}
