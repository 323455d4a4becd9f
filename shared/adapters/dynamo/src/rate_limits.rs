//! The per-caller rate limit's counters: one item per caller and minute (`RATE#{key}` /
//! `{windowStart}`), counted by one conditional `UpdateItem` per HTTP request and expiring with
//! the table's TTL (`docs/data-model.md`, "Rate counters").

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::{Client, config::retry::RetryConfig};
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    error::StoreError,
    rate_limit::{RateCounter, RateKey, WINDOW_SECS, Window},
};

use crate::{
    attrs, keys,
    table::{Table, condition_held, key, n},
    usage::counter,
};

#[async_trait]
impl RateCounter for Table {
    /// `ADD n 1` on the caller's item of the window while `n` stays within `limit`, and the
    /// item's expiry a window after its own end. A refusal is the failed condition (a write
    /// request all the same: DynamoDB bills a failed condition as a write).
    async fn take(&self, who: &RateKey, window: Window, limit: u64) -> Result<bool, StoreError> {
        let changes = counter(attrs::RATE_COUNT, 1, Some(limit)).set(attrs::EXPIRES_AT, n(window.end() + WINDOW_SECS));
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::rate(&who.to_string()), window.start.to_string())));
        condition_held(changes.apply(request).send().await)
    }
}

/// The counter the HTTP edge limits every route with (`vivid_edge::serve`): the table named by
/// `VIVID_TABLE_NAME`, on a client of its own that tries once. The limiter fails open, so an
/// SDK retry would only delay the request it lets through, and a throttled counter (a caller
/// hammering one item) is not worth the handler's time.
pub fn rate_counter(cfg: &Config) -> Result<Arc<dyn RateCounter>, ConfigError> {
    let conf =
        aws_sdk_dynamodb::config::Builder::from(cfg.sdk()?).retry_config(RetryConfig::standard().with_max_attempts(1));
    Ok(Arc::new(Table::new(Client::from_conf(conf.build()), cfg.var("VIVID_TABLE_NAME")?)))
}
