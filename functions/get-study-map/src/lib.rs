//! `GET /videos/{videoId}/study-map`: per heat bucket how many distinct members took notes,
//! drew, took snapshots or bookmarked there, each count shown only from k members on, beside the
//! caller's own marks (any member). The class's counts are kept on the video and counted again
//! when ten minutes old.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::study_map::GetStudyMap;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<GetStudyMap, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(GetStudyMap { auth, catalog: table.clone(), marks: table })
}
