//! `GET /spaces/{spaceId}/search`: the space's lectures holding every word of `q`, best first,
//! with the moments to jump to (member).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::search::SearchSpace;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<SearchSpace, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    Ok(SearchSpace { auth, spaces: table.clone(), catalog: table.clone(), index: table })
}
