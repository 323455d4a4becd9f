//! `POST /spaces/{spaceId}/engagement-export`: the class's students × videos as CSV in the
//! user-content bucket, answered with a download link that works for 15 minutes.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::engagement::ExportEngagement;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_s3::S3Media;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ExportEngagement, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::User])?);
    Ok(ExportEngagement {
        auth,
        spaces: table.clone(),
        catalog: table.clone(),
        engagement: table.clone(),
        users: table,
        media,
    })
}
