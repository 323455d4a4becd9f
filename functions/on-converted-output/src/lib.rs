//! S3 ObjectCreated on the media bucket: records outputs as they land.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_events::OnConvertedOutput;

pub async fn wire(cfg: Config) -> Result<OnConvertedOutput, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    OnConvertedOutput::from_config(table, &cfg)
}
