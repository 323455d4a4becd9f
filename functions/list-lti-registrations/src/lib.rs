//! `GET /lti/registrations`: the registered LMS platforms, for the tool's LTI administrators.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti_registration::{ListLtiRegistrations, LtiAdmins};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<ListLtiRegistrations, ConfigError> {
    Ok(ListLtiRegistrations {
        registrations: Arc::new(Table::from_config(&cfg)?),
        verifier: Arc::new(TokenVerifier::from_config(&cfg)?),
        admins: LtiAdmins::from_config(&cfg)?,
    })
}
