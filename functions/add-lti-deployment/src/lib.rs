//! `POST /lti/registrations/{registrationId}/deployments`: a deployment added to an LMS registration, for the tool's LTI administrators.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti_registration::{AddLtiDeployment, LtiAdmins};
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<AddLtiDeployment, ConfigError> {
    Ok(AddLtiDeployment {
        registrations: Arc::new(Table::from_config(&cfg)?),
        verifier: Arc::new(TokenVerifier::from_config(&cfg)?),
        admins: LtiAdmins::from_config(&cfg)?,
    })
}
