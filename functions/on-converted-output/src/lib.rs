//! S3 ObjectCreated on the media bucket: records outputs as they land, removes a deleted video's.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_events::OnConvertedOutput;
use vivid_s3::S3Media;

pub async fn wire(cfg: Config) -> Result<OnConvertedOutput, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Media])?);
    Ok(OnConvertedOutput { states: table, media })
}
