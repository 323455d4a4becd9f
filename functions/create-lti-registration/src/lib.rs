//! `POST /lti/registrations`: an LMS registered by hand (no LTI Dynamic Registration), for the tool's LTI administrators.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti_registration::{CreateLtiRegistration, LtiAdmins};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<CreateLtiRegistration, ConfigError> {
    Ok(CreateLtiRegistration {
        registrations: Arc::new(Table::from_config(&cfg)?),
        verifier: Arc::new(TokenVerifier::from_config(&cfg)?),
        admins: LtiAdmins::from_config(&cfg)?,
        // The local stack's platform stand-in listens on http://127.0.0.1; no deployment sets the flag.
        loopback_http: cfg.flag("VIVID_ALLOW_PRIVATE_DOWNLOADS"),
    })
}
