//! A course's launch-started roster syncs (`LTISYNC#{contextHash}`, sort key `LTI`): when the last
//! one started (`startedAt`, epoch seconds). A managing launch starts the roster worker only when
//! its one conditional UpdateItem sets `startedAt` — no record yet, or one from more than ten
//! minutes ago ([`launch_sync_cutoff`]) — so a class of instructors launching together starts
//! one sync per course. The item expires with the window (`expiresAt`, the table's TTL).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use vivid_domain::{
    error::{Guard, StoreError},
    lti::roster::{LAUNCH_SYNC_EVERY_SECS, LaunchSyncs, launch_sync_cutoff},
};

use crate::{
    attrs, keys,
    table::{Table, conditional, key, n, s},
};

/// When the course's last launch-started sync began (epoch seconds).
pub const SYNC_STARTED_AT: &str = "startedAt";

fn sync_key(context: &str) -> HashMap<String, AttributeValue> {
    key(keys::lti_sync(context), keys::LTI)
}

#[async_trait]
impl LaunchSyncs for Table {
    async fn claim_launch_sync(&self, context: &str, now: u64) -> Result<bool, StoreError> {
        let claim = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(sync_key(context)))
            .update_expression("SET #started = :now, #expires = :expires, #type = :type")
            .condition_expression("attribute_not_exists(#started) OR #started < :cutoff")
            .expression_attribute_names("#started", SYNC_STARTED_AT)
            .expression_attribute_names("#expires", attrs::EXPIRES_AT)
            .expression_attribute_names("#type", attrs::TYPE)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":cutoff", n(launch_sync_cutoff(now)))
            .expression_attribute_values(":expires", n(now + LAUNCH_SYNC_EVERY_SECS))
            .expression_attribute_values(":type", s("LtiSync"))
            .send()
            .await;
        match claim.map_err(conditional(Guard::Item)) {
            Ok(_) => Ok(true),
            Err(StoreError::Condition(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn release_launch_sync(&self, context: &str, started: u64) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(sync_key(context)))
            .condition_expression("#started = :started")
            .expression_attribute_names("#started", SYNC_STARTED_AT)
            .expression_attribute_values(":started", n(started))
            .send()
            .await;
        match deleted.map_err(conditional(Guard::Item)) {
            // Another launch's record since: theirs stands.
            Ok(_) | Err(StoreError::Condition(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
