//! Deletions that outlive an HTTP request: the route marks the account, space or video as
//! deleting (a conditional write: from then on it reads as gone), hands the work to the deletion
//! worker with an asynchronous invocation and answers 202; the worker runs the cascade
//! ([`crate::cascade`]). A retry or a replay of the worker's event redoes only what is left.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    error::StoreError,
    imports::InvokeError,
    types::{Limit, SpaceId, UserId, VideoId},
};

/// What the deletion worker is invoked with: `{"kind": "space", "spaceId": "…"}`,
/// `{"kind": "video", "videoId": "…"}`, `{"kind": "account", "userId": "…"}` or
/// `{"kind": "member", "spaceId": "…", "userId": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Deletion {
    /// A space marked deleting by its host: its videos, media, members' data, then itself.
    Space { space_id: SpaceId },
    /// A video marked deleting by a host or co-host: its objects, everyone's per-video data, then
    /// itself.
    Video { video_id: VideoId },
    /// An account marked deleting by its owner: hosted spaces (handed over or deleted),
    /// memberships and their data, automatic imports, sessions, then the identity.
    Account { user_id: UserId },
    /// A member removed from a space (or who left): their per-video data there, once the index
    /// that finds it shows their last writes. The membership went first, so nothing new of theirs
    /// appears meanwhile; a member invited back before the worker ran keeps their data.
    Member { space_id: SpaceId, user_id: UserId },
}

/// How the answer of a deletion route describes the state it left (`{"status": "deleting"}`).
pub const DELETING: &str = "deleting";

/// The deletions marked and not finished yet, as the sweep finds them: every mark is indexed with
/// the time it was set (set again by each later mark of the same thing), and leaves the index
/// with the item it marks — so what is still there after a while is a deletion whose worker never
/// finished (its invocation lost, or every retry failed).
#[async_trait]
pub trait DeletionMarks: Send + Sync {
    /// The deletions marked before `before` (RFC 3339) that are not finished, oldest mark first
    /// (eventually consistent: one just finished may still be named; its job then finds it gone).
    async fn marked_before(&self, before: &str, limit: Limit) -> Result<Vec<Deletion>, StoreError>;
}

/// Starts the deletion worker without waiting: a Lambda `Event` invocation in AWS (its retries and
/// on-failure destination keep the work from being lost), the local handler in the background on a
/// laptop.
#[async_trait]
pub trait DeletionInvoker: Send + Sync {
    async fn start(&self, job: &Deletion) -> Result<(), InvokeError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_read_as_the_worker_is_invoked_with_them() {
        let id = "01JD6Q5C7B8D9E0F1G2H3J4K5M";
        let space: Deletion = serde_json::from_str(&format!(r#"{{"kind":"space","spaceId":"{id}"}}"#)).expect("space");
        assert_eq!(space, Deletion::Space { space_id: id.parse().expect("id") });
        let video = Deletion::Video { video_id: id.parse().expect("id") };
        assert_eq!(serde_json::to_value(&video).expect("json"), serde_json::json!({ "kind": "video", "videoId": id }));
        let account: Deletion =
            serde_json::from_str(&format!(r#"{{"kind":"account","userId":"{id}"}}"#)).expect("account");
        assert!(matches!(account, Deletion::Account { .. }));
        assert!(serde_json::from_str::<Deletion>(r#"{"kind":"bucket","name":"x"}"#).is_err());
        assert!(serde_json::from_str::<Deletion>(&format!(r#"{{"kind":"video","spaceId":"{id}"}}"#)).is_err());
    }
}
