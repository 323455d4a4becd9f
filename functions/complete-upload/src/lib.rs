//! `POST /videos/{videoId}/upload/complete`: completes a multipart upload (host, co-host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::videos::CompleteUpload;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_s3::S3Media;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<CompleteUpload, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Raw])?);
    Ok(CompleteUpload { auth, catalog: table, media })
}
