//! `GET /lti/jwks`: the LTI tool's public keys.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.
//! The key set is the signing key (`VIVID_LTI_KEY_ARN`) and, while it rotates, the previous key
//! (`VIVID_LTI_PREVIOUS_KEY_ARN`, empty otherwise; docs/lti-key-rotation.md).

use std::sync::Arc;
use vivid_api::lti::LtiJwks;
use vivid_config::{Config, ConfigError};
use vivid_kms::signer::KmsToolSigner;

pub async fn wire(cfg: Config) -> Result<LtiJwks, ConfigError> {
    Ok(LtiJwks { signer: Arc::new(KmsToolSigner::key_set_from_config(&cfg)?) })
}
