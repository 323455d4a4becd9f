//! EventBridge MediaConvert Job State Change: progress, READY or FAILED.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_events::OnTranscodeEvent;

pub async fn wire(cfg: Config) -> Result<OnTranscodeEvent, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    Ok(OnTranscodeEvent::new(table))
}
