//! Videos on their way in: creation (the video, its count in the space, its creator's budget
//! and, for an import, its recording's lock, in one transaction), its undoing, the sparse
//! `PENDING` index the sweep reads, and an import run's claim.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use vivid_domain::{
    error::{Guard, StoreError},
    quota::{Quota, Quotas},
    spaces::Space,
    types::{Limit, VideoId, rfc3339},
    video::{UploadStore, Video, VideoStatus},
    zoom::meeting_of,
};

use crate::{
    attrs, expr, keys,
    table::{GSI1PK, GSI1SK, PK, SK, Table, backend, condition_held, key, s},
    usage::counter,
};

#[async_trait]
impl UploadStore for Table {
    async fn create_video(&self, video: &Video, quotas: &Quotas, day: &str) -> Result<(), StoreError> {
        let full = Guard::Quota(quotas.exceeded(Quota::VideosPerSpace));
        let budget = Guard::Quota(quotas.exceeded(Quota::DailyTranscodeBytes));
        if video.size_bytes > quotas.daily_transcode_bytes {
            return Err(StoreError::Condition(budget));
        }
        let count = counter(attrs::VIDEO_COUNT, 1, Some(quotas.videos_per_space))
            .when(expr::exists_not_deleting())
            .into_update(&self.table, key(keys::space(&video.space_id), keys::META))
            .map_err(backend)?;
        let mut items = vec![
            self.put(self.video_item(video)?, Some("attribute_not_exists(PK)"))?,
            TransactWriteItem::builder().update(count).build(),
            self.charge_budget(&video.created_by, day, video.size_bytes, quotas.daily_transcode_bytes)?,
        ];
        let mut guards = vec![Guard::Video, full, budget];
        // Only for an account that exists, its deletion not begun: a token that outlives its
        // account creates no video (nor a budget charge under its `USER#`).
        items.push(self.account_exists(&video.created_by)?);
        guards.push(Guard::Account);
        if let Some(recording) = &video.recording_id {
            let mut lock = HashMap::from([
                (PK.to_owned(), s(keys::space(&video.space_id))),
                (SK.to_owned(), s(keys::imported(recording))),
                (attrs::VIDEO_ID.to_owned(), s(video.video_id.as_str())),
                (attrs::SPACE_ID.to_owned(), s(video.space_id.as_str())),
                (attrs::USER_ID.to_owned(), s(video.created_by.as_str())),
                ("recording".to_owned(), s(recording)),
                (attrs::TYPE.to_owned(), s("RecordingImport")),
            ]);
            // A Zoom file's lock is found by its meeting (Zoom's transcript comes later).
            if let Some(meeting) = meeting_of(recording) {
                lock.insert(GSI1PK.to_owned(), s(keys::zoom_imports(meeting)));
                lock.insert(GSI1SK.to_owned(), s(keys::video(&video.video_id)));
            }
            items.push(self.put(lock, Some("attribute_not_exists(PK)"))?);
            guards.push(Guard::Recording);
        }
        match self.transact(items, &guards).await {
            // The space's condition failed: gone (or being deleted), or full; one read tells.
            Err(StoreError::Condition(g)) if g == full => {
                match self.get::<Space>(keys::space(&video.space_id), keys::META).await? {
                    Some(space) if !space.deleting => Err(StoreError::Condition(full)),
                    _ => Err(StoreError::Condition(Guard::Space)),
                }
            }
            other => other,
        }
    }

    async fn withdraw_video(&self, video: &Video, day: &str) -> Result<(), StoreError> {
        self.remove_video_item(video, Some(day)).await
    }

    async fn abandon_upload(&self, video: &Video, day: &str) -> Result<bool, StoreError> {
        self.abandon(video, day).await
    }

    async fn pending_before(&self, before: &str, limit: Limit) -> Result<Vec<VideoId>, StoreError> {
        Ok(self
            .overdue(keys::PENDING, before, limit)
            .await?
            .iter()
            .filter_map(|item| keys::video_of(item.get(PK)?.as_s().ok()?))
            .collect())
    }

    async fn claim_import(&self, id: &VideoId, now: &str) -> Result<bool, StoreError> {
        let stale = rfc3339(time::OffsetDateTime::now_utc() - time::Duration::minutes(15));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .condition_expression(format!(
                "#status = :importing AND {} AND (attribute_not_exists({claimed}) OR {claimed} < :stale)",
                expr::not_deleting(),
                claimed = attrs::IMPORT_CLAIMED_AT,
            ))
            .update_expression(format!("SET {} = :now", attrs::IMPORT_CLAIMED_AT))
            .expression_attribute_names("#status", attrs::STATUS)
            .expression_attribute_values(":importing", s(VideoStatus::Importing.as_str()))
            .expression_attribute_values(":stale", s(stale))
            .expression_attribute_values(":now", s(now))
            .send()
            .await;
        condition_held(result)
    }

    async fn release_import(&self, id: &VideoId, claimed_at: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .condition_expression(format!("#status = :importing AND {} = :claimed", attrs::IMPORT_CLAIMED_AT))
            .update_expression(format!("REMOVE {}", attrs::IMPORT_CLAIMED_AT))
            .expression_attribute_names("#status", attrs::STATUS)
            .expression_attribute_values(":importing", s(VideoStatus::Importing.as_str()))
            .expression_attribute_values(":claimed", s(claimed_at))
            .send()
            .await;
        condition_held(result).map(|_| ())
    }
}
