//! Members' snapshots: `VIDEO#{videoId}`/`SNAP#{userId}#{snapshotId}`, counted on the member's
//! usage of the video and charged to their storage.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::Delete;
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    storage::{Limits, Stored},
    types::{Limit, SnapshotId, UserId, VideoId},
    video::{Snapshot, SnapshotStore},
};

use crate::{
    attrs,
    keys::{self, MemberItem},
    live::Grant,
    storage::Charge,
    table::{GSI2PK, GSI2SK, PK, SK, Table, backend, key, to_item},
    usage::Counted,
};

#[async_trait]
impl SnapshotStore for Table {
    async fn put_snapshot(&self, snap: &Snapshot, limits: Limits) -> Result<(), StoreError> {
        let item = to_item(
            snap,
            &[
                (PK, keys::video(&snap.video_id)),
                (SK, keys::snapshot(&snap.user_id, &snap.snapshot_id)),
                (GSI2PK, keys::member_data(&snap.space_id, &snap.user_id)),
                (GSI2SK, keys::member_item(&snap.video_id, MemberItem::Snapshot, Some(snap.snapshot_id.as_str()))),
                (attrs::TYPE, "Snapshot".into()),
            ],
        )?;
        let charge = Charge { bytes: snap.stored_bytes(), limit: limits.storage_bytes };
        let (video, space, user) = (&snap.video_id, &snap.space_id, &snap.user_id);
        self.put_counted(item, Counted::Snapshots, video, space, user, limits.per_video, Some(charge)).await
    }

    async fn snapshots(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Snapshot>, StoreError> {
        self.own_on_video(video, keys::snapshot_prefix(user), limit, start).await
    }

    async fn delete_snapshot(
        &self,
        video: &VideoId,
        user: &UserId,
        id: &SnapshotId,
    ) -> Result<Option<Snapshot>, StoreError> {
        let sk = keys::snapshot(user, id);
        let Some(snap) = self.get::<Snapshot>(keys::video(video), sk.clone()).await? else { return Ok(None) };
        // A snapshot never changes: what it charged is what was read.
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), sk)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(backend)?;
        let grant = Grant { space: &snap.space_id, video: &snap.video_id, user };
        match self.uncount_stored(Counted::Snapshots, delete, grant, snap.stored_bytes()).await {
            // Deleted meanwhile by a concurrent request: the same answer.
            Ok(()) | Err(StoreError::Condition(Guard::Item)) => Ok(Some(snap)),
            Err(e) => Err(e),
        }
    }
}
