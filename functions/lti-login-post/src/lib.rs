//! `POST /lti/login`: the LMS's OIDC login initiation; the state kept server-side, 302 to the LMS.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti::LtiLogin;
use vivid_config::{Config, ConfigError};
use vivid_domain::lti::{launch::NoPlatformKeys, launcher::Lti};
use vivid_dynamo::Table;

pub async fn wire(cfg: Config) -> Result<LtiLogin, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    Ok(LtiLogin { lti: Arc::new(Lti::on(table.clone(), Arc::new(NoPlatformKeys))) })
}
