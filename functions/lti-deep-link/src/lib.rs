//! `POST /lti/deep-link`: the instructor's pick, signed as the deep-linking response.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti::LtiDeepLink;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_kms::signer::KmsToolSigner;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<LtiDeepLink, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    Ok(LtiDeepLink {
        launches: table.clone(),
        videos: table,
        signer: Arc::new(KmsToolSigner::from_config(&cfg)?),
        verifier: TokenVerifier::from_config(&cfg)?,
    })
}
