//! The LTI grade worker, invoked asynchronously by `put-progress`: a student's completion of a
//! linked video posted to the course's gradebook (LTI AGS) when it rose.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_events::LtiGradeWorker;
use vivid_kms::signer::KmsToolSigner;
use vivid_lti_services::LtiHttp;

pub async fn wire(cfg: Config) -> Result<LtiGradeWorker, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    // The tool key signs the client assertion of the platform's token grant.
    let signer = Arc::new(KmsToolSigner::from_config(&cfg)?);
    let services = Arc::new(LtiHttp::from_config(&cfg, signer)?);
    Ok(LtiGradeWorker {
        progress: table.clone(),
        catalog: table.clone(),
        links: table.clone(),
        registrations: table.clone(),
        grades: table,
        services,
    })
}
