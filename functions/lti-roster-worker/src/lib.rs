//! The LTI roster worker, invoked asynchronously by `lti-launch` after a launch by someone who
//! manages the course: the course's roster (LTI NRPS) applied to its space.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_events::LtiRosterWorker;
use vivid_kms::signer::KmsToolSigner;
use vivid_lti_services::LtiHttp;

pub async fn wire(cfg: Config) -> Result<LtiRosterWorker, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    // The tool key signs the client assertion of the platform's token grant.
    let signer = Arc::new(KmsToolSigner::from_config(&cfg)?);
    let services = Arc::new(LtiHttp::from_config(&cfg, signer)?);
    Ok(LtiRosterWorker {
        spaces: table.clone(),
        links: table.clone(),
        registrations: table.clone(),
        roster: table,
        services,
    })
}
