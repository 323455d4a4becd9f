//! `GET /videos/{videoId}/heatmap`: per heat bucket the distinct students who watched it and the
//! views, and the drop-off curve, for the space's host and co-hosts: one query of the video's
//! counter items, whatever the class's size.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::watching::GetHeatmap;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<GetHeatmap, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(GetHeatmap { auth, watch: table.clone(), catalog: table })
}
