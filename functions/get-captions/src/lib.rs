//! `GET /videos/{videoId}/captions/{lang}`: a caption track as a file to keep, WebVTT or SRT (member).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::captions::GetCaptions;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_s3::S3Media;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<GetCaptions, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Media])?);
    Ok(GetCaptions { auth, catalog: table, media })
}
