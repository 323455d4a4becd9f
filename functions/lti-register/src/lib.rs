//! `GET /lti/register`: LTI Dynamic Registration, opened by the LMS with a one-time registration URL.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti_registration::RegisterPlatform;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_lti::HttpPlatform;

pub async fn wire(cfg: Config) -> Result<RegisterPlatform, ConfigError> {
    // The local stack's platform stand-in listens on http://127.0.0.1; no deployment sets the flag.
    let platform = Arc::new(HttpPlatform::new(cfg.flag("VIVID_ALLOW_PRIVATE_DOWNLOADS")));
    Ok(RegisterPlatform { registrations: Arc::new(Table::from_config(&cfg)?), platform })
}
