//! Scheduled: ends videos whose upload or import never finished and removes what they left.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_events::{StaleAfter, SweepStaleVideos};
use vivid_s3::S3Media;

pub async fn wire(cfg: Config) -> Result<SweepStaleVideos, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Raw, Bucket::Media])?);
    Ok(SweepStaleVideos::new(table, media, StaleAfter::from_config(&cfg)?))
}
