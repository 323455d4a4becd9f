//! `PUT /spaces/{spaceId}/zoom-auto-import`: links the caller's Zoom account to the space for automatic import (host, co-host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::zoom::ZoomAutoImport;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ZoomAutoImport, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(ZoomAutoImport { auth, spaces: table.clone(), connections: table.clone(), links: table })
}
