//! `DELETE /spaces/{spaceId}/members/{userId}`: removes a participant or leaves, with their data.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::members::RemoveMember;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_lambda::LambdaInvoker;
use vivid_s3::S3Media;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<RemoveMember, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::User])?);
    let invoker = Arc::new(LambdaInvoker::deletion_worker(&cfg)?);
    Ok(RemoveMember { auth, spaces: table.clone(), media, deletions: invoker, links: table })
}
