//! `GET /lti/jwks`: the LTI tool's public keys.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti::LtiJwks;
use vivid_config::{Config, ConfigError};
use vivid_kms::signer::KmsToolSigner;

pub async fn wire(cfg: Config) -> Result<LtiJwks, ConfigError> {
    Ok(LtiJwks { signer: Arc::new(KmsToolSigner::from_config(&cfg)?) })
}
