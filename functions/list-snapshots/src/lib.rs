//! `GET /videos/{videoId}/snapshots`: the caller's snapshots with short-lived URLs.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::snapshots::ListSnapshots;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_dynamo::Table;
use vivid_edge::cursor::Cursors;
use vivid_s3::S3Media;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ListSnapshots, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::User])?);
    let cursors = Arc::new(Cursors::from_secret(Secrets::new(&cfg)?.on_first_use(&cfg, "VIVID_CURSOR_SECRET_ARN")?));
    Ok(ListSnapshots { auth, catalog: table.clone(), snapshots: table, media, cursors })
}
