//! A video's status and what its transcoding job recorded on its item: conditional updates that
//! only move forward (see `VideoStatus::predecessors`), so duplicate, late or foreign events
//! change nothing.

use std::collections::HashMap;

use async_trait::async_trait;
use vivid_domain::{
    error::StoreError,
    types::VideoId,
    video::{StatusChange, TranscodeState, VideoStatus, layout::MediaKind},
};

use crate::{
    attrs,
    expr::{self, Changes},
    keys,
    table::{GSI2PK, GSI2SK, Table, backend, condition_held, key, n, s},
};

#[async_trait]
impl TranscodeState for Table {
    async fn transition(
        &self,
        id: &VideoId,
        to: VideoStatus,
        change: &StatusChange,
        now: &str,
    ) -> Result<bool, StoreError> {
        let allowed = to.predecessors();
        if allowed.is_empty() {
            return Ok(false);
        }
        let froms: Vec<String> = (0..allowed.len()).map(|i| format!(":from{i}")).collect();
        let mut changes = Changes::new()
            .set(attrs::STATUS, s(to.as_str()))
            .set(attrs::UPDATED_AT, s(now))
            .set_some(attrs::JOB_ID, change.job_id.as_ref().map(s))
            .set_some(attrs::PERCENT_COMPLETE, change.percent_complete.map(n))
            .set_some(attrs::DURATION_SECONDS, change.duration_seconds.map(n))
            .set_some(attrs::FAILURE_REASON, change.failure_reason.map(|r| s(r.code())))
            .set_some(attrs::HLS_MASTER, change.hls_master.as_ref().map(s))
            .set_some(attrs::MP4, change.mp4.as_ref().map(s))
            .set_some(attrs::STORYBOARD, change.storyboard.as_ref().map(s))
            .set_some(attrs::THUMBNAIL_COUNT, change.thumbnail_count.map(n))
            // A video being deleted moves no more (its job is cancelled at its next event).
            .when(format!("{} AND #status IN ({})", expr::exists_not_deleting(), froms.join(", ")));
        for (placeholder, from) in froms.iter().zip(allowed) {
            changes = changes.bind(placeholder, s(from.as_str()));
        }
        if let Some(job) = &change.only_for_job {
            changes =
                changes.when("attribute_not_exists(#jobId) OR #jobId = :job").named(attrs::JOB_ID).bind(":job", s(job));
        }
        if to.is_terminal() || to == VideoStatus::Uploaded {
            // The upload is over either way: no upload id, out of the sweep's index.
            changes = changes.remove(attrs::UPLOAD_ID).remove(GSI2PK).remove(GSI2SK);
        }
        let req = self.client.update_item().table_name(&self.table).set_key(Some(key(keys::video(id), keys::META)));
        condition_held(changes.apply(req).send().await)
    }

    async fn raise_percent(&self, id: &VideoId, percent: u8) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .condition_expression(format!(
                "{} AND #status IN (:uploaded, :transcoding) AND (attribute_not_exists({percent}) OR {percent} < :p)",
                expr::exists_not_deleting(),
                percent = attrs::PERCENT_COMPLETE,
            ))
            .update_expression(format!("SET {} = :p", attrs::PERCENT_COMPLETE))
            .expression_attribute_names("#status", attrs::STATUS)
            .expression_attribute_values(":uploaded", s(VideoStatus::Uploaded.as_str()))
            .expression_attribute_values(":transcoding", s(VideoStatus::Transcoding.as_str()))
            .expression_attribute_values(":p", n(percent))
            .send()
            .await;
        condition_held(result)
    }

    async fn record_source(
        &self,
        id: &VideoId,
        job: &str,
        source: &vivid_domain::transcode::SourceInfo,
    ) -> Result<bool, StoreError> {
        let value = serde_dynamo::to_attribute_value(source).map_err(backend)?;
        let changes = Changes::new()
            .set(attrs::SOURCE, value)
            .when("attribute_exists(PK) AND (attribute_not_exists(jobId) OR jobId = :job)")
            .bind(":job", s(job));
        condition_held(changes.apply(self.video_update(id)).send().await)
    }

    async fn record_output(&self, id: &VideoId, kind: &MediaKind, object: &str) -> Result<bool, StoreError> {
        let exists = Changes::new().when("attribute_exists(PK)");
        let changes = match kind {
            MediaKind::HlsMaster => exists.set(attrs::HLS_MASTER, s(object)),
            MediaKind::Mp4 => exists.set(attrs::MP4, s(object)),
            // The count only grows (thumbnails land in any order, events come twice).
            MediaKind::Thumbnail(index) => exists
                .set(attrs::THUMBNAIL_COUNT, n(u64::from(*index) + 1))
                .when("attribute_not_exists(#thumbnailCount) OR #thumbnailCount < :thumbnailCount"),
            // Segments are not recorded (a job's end sweeps a gone video's prefix instead).
            MediaKind::HlsOther | MediaKind::Other => return Ok(true),
        };
        let req = self.client.update_item().table_name(&self.table).set_key(Some(key(keys::video(id), keys::META)));
        if condition_held(changes.apply(req).send().await)? {
            return Ok(true);
        }
        // A higher thumbnail count already, or no video: one read tells.
        Ok(self.get::<HashMap<String, serde::de::IgnoredAny>>(keys::video(id), keys::META).await?.is_some())
    }
}
