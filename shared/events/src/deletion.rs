//! The deletion worker, invoked asynchronously by `DELETE /users/me`, `DELETE /spaces/{spaceId}`
//! and `DELETE /videos/{videoId}` once they have marked what they delete: it runs the cascade to
//! the end ([`Stores::finish`]). A failure fails the invocation, so Lambda runs it again and,
//! after its retries, keeps the event in the on-failure destination for a replay; every step is
//! safe to repeat, so a retry or a replay redoes only what is left.

use async_trait::async_trait;
use serde_json::{Value, json};
use vivid_domain::{
    cascade::{Finished, Stores},
    deletion::Deletion,
};

use crate::{EventError, EventHandler};

/// `deletion-worker`.
pub struct DeletionWorker {
    /// Every store that holds something of an account, a space or a video.
    pub stores: Stores,
    /// How long the worker waits before its cascade, for DynamoDB's global secondary indexes to
    /// show every write made before the route marked the deletion (the cascade finds
    /// memberships, videos and a member's data on them; an index read at once misses an item
    /// written a moment before, which would outlive the deletion).
    pub settle: std::time::Duration,
}

#[async_trait]
impl EventHandler for DeletionWorker {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let job: Deletion = serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
        tokio::time::sleep(self.settle).await;
        let started = std::time::Instant::now();
        let finished = self.stores.finish(&job).await?;
        let millis = started.elapsed().as_millis() as u64;
        match finished {
            Finished::NotMarked => tracing::warn!(?job, "no deletion was started for it: left as it is"),
            outcome => tracing::info!(?job, ?outcome, millis, "deletion finished"),
        }
        let outcome = match finished {
            Finished::Deleted => "deleted",
            Finished::AlreadyGone => "already_gone",
            Finished::NotMarked => "not_marked",
        };
        Ok(json!({ "outcome": outcome }))
    }
}
