//! S3 ObjectCreated on the raw bucket: checks the upload, probes its length, charges its minutes,
//! starts its MediaConvert job.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_events::{OnRawUpload, UploadLimit};
use vivid_mediaconvert::MediaConvert;
use vivid_s3::S3Media;

pub async fn wire(cfg: Config) -> Result<OnRawUpload, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Raw, Bucket::Media])?);
    let transcoder = Arc::new(MediaConvert::from_config(&cfg)?);
    Ok(OnRawUpload {
        catalog: table.clone(),
        states: table.clone(),
        media,
        transcoder,
        budget: table,
        limits: UploadLimit::from_config(&cfg)?,
    })
}
