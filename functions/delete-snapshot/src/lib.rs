//! `DELETE /videos/{videoId}/snapshots/{snapshotId}`: deletes one.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::snapshots::DeleteSnapshot;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_s3::S3Media;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<DeleteSnapshot, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::User])?);
    Ok(DeleteSnapshot { auth, catalog: table.clone(), snapshots: table, media })
}
