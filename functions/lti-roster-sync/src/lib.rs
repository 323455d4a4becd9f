//! `POST /spaces/{spaceId}/lti/roster-sync`: the linked course's roster applied to the space (host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti_roster::LtiRosterSync;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_kms::signer::KmsToolSigner;
use vivid_lti_services::LtiHttp;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<LtiRosterSync, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let signer = Arc::new(KmsToolSigner::from_config(&cfg)?);
    let services = Arc::new(LtiHttp::from_config(&cfg, signer)?);
    Ok(LtiRosterSync {
        auth,
        spaces: table.clone(),
        links: table.clone(),
        registrations: table.clone(),
        roster: table,
        services,
    })
}
