//! Videos, progress and snapshots: a video's partition holds its item and every member's
//! per-video data; a space's videos are found through GSI1, a member's data in a space through GSI2.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    quota::{Quota, Quotas},
    spaces::{Membership, Space},
    storage::{Limits, Stored},
    types::{Limit, Seconds, SnapshotId, SpaceId, UserId, VideoId, rfc3339},
    video::{
        COMPLETED_RATE, Progress, Snapshot, StatusChange, Video, VideoAccess, VideoPatch, VideoStatus, VideoStore,
        layout::MediaKind,
    },
    zoom::meeting_of,
};

use crate::{
    deletions::Marked,
    expr::Changes,
    keys,
    live::Grant,
    storage::Charge,
    table::{
        GSI1, GSI1PK, GSI1SK, GSI2PK, GSI2SK, Item, PK, SK, Table, backend, condition_held, conditional, from_item,
        key, n, page_key, s, start_key, to_item,
    },
    usage::{Counted, counter},
};

impl Table {
    /// One page of a member's items of one kind under a video (`prefix`: the kind and the
    /// member, e.g. `SNAP#{user}#`), in sort-key order. A start key outside them is refused.
    pub(crate) async fn own_on_video<T: serde::de::DeserializeOwned>(
        &self,
        video: &VideoId,
        prefix: String,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<T>, StoreError> {
        let partition = keys::video(video);
        if let Some(sk) = start.as_ref().and_then(|k| k.get(SK))
            && !sk.starts_with(&prefix)
        {
            return Err(StoreError::ForeignStart);
        }
        let (items, last) = self
            .query_items(
                None,
                "PK = :pk AND begins_with(SK, :prefix)",
                vec![(":pk", s(partition.clone())), (":prefix", s(prefix))],
                Some(limit),
                start_key(start, PK, &partition)?,
                true,
            )
            .await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next: page_key(last.as_ref()) })
    }

    /// Puts a member's new item under a video and counts it (with a `charge`, also charges its
    /// bytes to the member's storage), in one transaction: `Condition(Quota)` past `limit` of the
    /// member's `counted` on the video, or past the charge's limit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn put_counted(
        &self,
        item: Item,
        counted: Counted,
        video: &VideoId,
        space: &SpaceId,
        user: &UserId,
        limit: u64,
        charge: Option<Charge>,
    ) -> Result<(), StoreError> {
        let grant = Grant { space, video, user };
        let mut writes = vec![(self.put(item, Some("attribute_not_exists(PK)"))?, Guard::Item)];
        writes.extend(self.count_and_charge(counted, grant, limit, charge)?);
        self.transact_checked(writes, self.grant_checks(grant)?).await
    }

    fn video_item(&self, v: &Video) -> Result<Item, StoreError> {
        let mut item = to_item(
            v,
            &[
                (PK, keys::video(&v.video_id)),
                (SK, keys::META.to_owned()),
                (GSI1PK, keys::space_videos(&v.space_id)),
                (GSI1SK, keys::video_place(v.position, &v.created_at, &v.video_id)),
                ("type", "Video".into()),
            ],
        )?;
        if v.status.is_pending() {
            item.insert(GSI2PK.to_owned(), s(keys::PENDING));
            item.insert(GSI2SK.to_owned(), s(format!("{}#{}", v.created_at, v.video_id)));
        }
        Ok(item)
    }

    fn progress_item(&self, p: &Progress) -> Result<Item, StoreError> {
        to_item(
            p,
            &[
                (PK, keys::video(&p.video_id)),
                (SK, keys::progress(&p.user_id)),
                (GSI1PK, keys::user(&p.user_id)),
                (GSI1SK, keys::access(&p.last_access_at, &p.video_id)),
                (GSI2PK, keys::member_data(&p.space_id, &p.user_id)),
                (GSI2SK, format!("{}#PROGRESS", p.video_id)),
                ("type", "Progress".into()),
            ],
        )
    }

    /// Removes the video item with its count in the space (unless its tombstone took it out) and
    /// its recording's lock (and, with
    /// `refund_day`, its size from its creator's transcoding budget of that day), in one
    /// transaction. An item already gone is fine; a space already gone (its deletion sweeps its
    /// videos) or a budget item already expired is left alone.
    async fn remove_video_item(&self, video: &Video, refund_day: Option<&str>) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(&video.video_id), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(backend)?;
        let count = Changes::new()
            .increment("videoCount", -1)
            .when("attribute_exists(PK)")
            .into_update(&self.table, key(keys::space(&video.space_id), keys::META))
            .map_err(backend)?;
        let mut changes = vec![(TransactWriteItem::builder().delete(delete).build(), Guard::Video)];
        // A tombstoned video was taken out of its space's count already.
        if !video.deleting {
            changes.push((TransactWriteItem::builder().update(count).build(), Guard::Space));
        }
        // The recording may be imported again once its video is gone.
        if let Some(recording) = &video.recording_id {
            let unlock = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::space(&video.space_id), keys::imported(recording))))
                .build()
                .map_err(backend)?;
            changes.push((TransactWriteItem::builder().delete(unlock).build(), Guard::Recording));
        }
        if let Some(day) = refund_day {
            changes.push((self.refund_budget(&video.created_by, day, video.size_bytes)?, Guard::Item));
        }
        // At most once more without each of the two that may be gone.
        for _ in 0..3 {
            let (items, guards): (Vec<_>, Vec<_>) = changes.iter().cloned().unzip();
            match self.transact(items, &guards).await {
                Ok(()) | Err(StoreError::Condition(Guard::Video)) => return Ok(()),
                // Without what is gone: the space's count, the day's budget.
                Err(StoreError::Condition(gone @ (Guard::Space | Guard::Item))) => {
                    changes.retain(|(_, g)| *g != gone);
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::backend("the video item could not be removed"))
    }

    pub(crate) async fn query_items(
        &self,
        index: Option<&str>,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        limit: Option<Limit>,
        start: Option<Item>,
        forward: bool,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(condition)
            .scan_index_forward(forward)
            .set_limit(limit.map(|l| i32::from(l.get())))
            .set_exclusive_start_key(start);
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        if index.is_none() {
            req = req.consistent_read(true);
        }
        let resp = req.send().await.map_err(backend)?;
        Ok((resp.items.unwrap_or_default(), resp.last_evaluated_key))
    }
}

/// What a progress item held before a write, for the member's standing.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Before {
    space_id: SpaceId,
    #[serde(default)]
    progress_rate: u8,
    #[serde(default)]
    completed_at: Option<String>,
}

impl Table {
    /// Moves a member's standing in a space by one progress write. A member removed meanwhile
    /// has no standing to move (their progress goes with them).
    /// The change of a member's standing that a progress write makes, conditioned on the
    /// membership: it is also the write's proof that the member still belongs to the space.
    fn standing(delta: i64, completed: bool, now: &str) -> Changes {
        Changes::new()
            .add("progressSum", n(delta))
            .add("completedVideos", n(i64::from(completed)))
            .set("lastAccessAt", s(now))
            .when("attribute_exists(PK)")
    }

    /// Moves a member's standing after a progress write: `Condition(Grant)` when the membership
    /// is gone (removed meanwhile: the write is refused as to a stranger, and what it changed is
    /// the purge's).
    async fn stand(
        &self,
        space: &SpaceId,
        user: &UserId,
        delta: i64,
        completed: bool,
        now: &str,
    ) -> Result<(), StoreError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::member(user))));
        Self::standing(delta, completed, now).apply(req).send().await.map(|_| ()).map_err(conditional(Guard::Grant))
    }

    /// Deletes every member's progress on a video, each with its share of the member's standing.
    async fn unstand_progress(&self, video: &VideoId) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let (items, next) = self
                .query_items(
                    None,
                    "PK = :pk AND begins_with(SK, :progress)",
                    vec![(":pk", s(keys::video(video))), (":progress", s("PROGRESS#"))],
                    None,
                    start,
                    true,
                )
                .await?;
            for item in items {
                let progress: Progress = from_item(item)?;
                self.unstand(&progress).await?;
            }
            start = next;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    async fn unstand(&self, progress: &Progress) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(&progress.video_id), keys::progress(&progress.user_id))))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(backend)?;
        let standing = Changes::new()
            .add("progressSum", n(-i64::from(progress.progress_rate)))
            .add("completedVideos", n(-i64::from(progress.completed_at.is_some())))
            .when("attribute_exists(PK)")
            .into_update(&self.table, key(keys::space(&progress.space_id), keys::member(&progress.user_id)))
            .map_err(backend)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(standing).build(),
        ];
        match self.transact(items, &[Guard::Item, Guard::Membership]).await {
            Ok(()) | Err(StoreError::Condition(Guard::Item)) => Ok(()),
            // No member any more: the progress goes alone (with the rest of the video's items).
            Err(StoreError::Condition(Guard::Membership)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl VideoStore for Table {
    async fn create_video(&self, video: &Video, quotas: &Quotas, day: &str) -> Result<(), StoreError> {
        let full = Guard::Quota(quotas.exceeded(Quota::VideosPerSpace));
        let budget = Guard::Quota(quotas.exceeded(Quota::DailyTranscodeBytes));
        if video.size_bytes > quotas.daily_transcode_bytes {
            return Err(StoreError::Condition(budget));
        }
        let count = counter("videoCount", 1, Some(quotas.videos_per_space))
            .when("attribute_exists(PK) AND attribute_not_exists(deleting)")
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
                ("videoId".to_owned(), s(video.video_id.as_str())),
                ("spaceId".to_owned(), s(video.space_id.as_str())),
                ("userId".to_owned(), s(video.created_by.as_str())),
                ("recording".to_owned(), s(recording)),
                ("type".to_owned(), s("RecordingImport")),
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

    async fn get_video(&self, id: &VideoId) -> Result<Option<Video>, StoreError> {
        self.get(keys::video(id), keys::META).await
    }

    async fn video_access(&self, id: &VideoId, user: &UserId) -> Result<Option<VideoAccess>, StoreError> {
        let Some(video) = self.get_video(id).await? else { return Ok(None) };
        let items = self
            .batch_get(
                vec![
                    key(keys::space(&video.space_id), keys::META),
                    key(keys::space(&video.space_id), keys::member(user)),
                    key(keys::video(id), keys::progress(user)),
                ],
                true,
            )
            .await?;
        let (mut space, mut membership, mut progress) = (None, None, None);
        for item in items {
            let pk = item.get(PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            match (pk.starts_with("SPACE#"), sk.as_str()) {
                (true, keys::META) => space = Some(from_item::<Space>(item)?),
                (true, _) => membership = Some(from_item::<Membership>(item)?),
                (false, _) => progress = Some(from_item::<Progress>(item)?),
            }
        }
        Ok(Some(VideoAccess { video, space, membership, progress }))
    }

    async fn list_videos(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Video>, StoreError> {
        let partition = keys::space_videos(space);
        let (items, last) = self
            .query_items(
                Some(GSI1),
                "GSI1PK = :pk",
                vec![(":pk", s(partition.clone()))],
                Some(limit),
                start_key(start, GSI1PK, &partition)?,
                false,
            )
            .await?;
        // A video being deleted is gone for readers (a page may then hold fewer than `limit`).
        let videos: Vec<Video> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items: videos.into_iter().filter(|v| !v.deleting).collect(), next: page_key(last.as_ref()) })
    }

    async fn all_videos(&self, space: &SpaceId) -> Result<Vec<Video>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, last) = self
                .query_items(Some(GSI1), "GSI1PK = :pk", vec![(":pk", s(keys::space_videos(space)))], None, start, true)
                .await?;
            for item in items {
                out.push(from_item(item)?);
            }
            start = last;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    async fn progress_on(&self, user: &UserId, videos: &[VideoId]) -> Result<Vec<Progress>, StoreError> {
        let keys = videos.iter().map(|v| key(keys::video(v), keys::progress(user))).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn videos(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        let mut unique: Vec<&VideoId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique.into_iter().map(|v| key(keys::video(v), keys::META)).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn update_video(&self, id: &VideoId, patch: &VideoPatch, now: &str) -> Result<Video, StoreError> {
        let changes = Changes::new()
            .set("updatedAt", s(now))
            .set_some("title", patch.title.as_ref().map(|v| s(v.as_str())))
            .set_some("description", patch.description.as_ref().map(|v| s(v.as_str())))
            .set_some(
                "chapters",
                patch.chapters.as_ref().map(serde_dynamo::to_attribute_value).transpose().map_err(backend)?,
            )
            .when("attribute_exists(PK) AND attribute_not_exists(deleting)");
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .return_values(ReturnValue::AllNew);
        let resp = changes.apply(req).send().await.map_err(conditional(Guard::Video))?;
        from_item(resp.attributes.unwrap_or_default())
    }

    async fn put_caption(
        &self,
        id: &VideoId,
        track: &vivid_domain::captions::CaptionTrack,
    ) -> Result<Video, StoreError> {
        self.put_caption_track(id, track).await
    }

    async fn remove_caption(
        &self,
        id: &VideoId,
        lang: &vivid_domain::captions::Lang,
    ) -> Result<Option<Video>, StoreError> {
        self.remove_caption_track(id, lang).await
    }

    async fn videos_by_id(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        let keys = ids.iter().map(|id| key(keys::video(id), keys::META)).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn set_transcript(
        &self,
        id: &VideoId,
        state: &vivid_domain::transcripts::TranscriptState,
        first: bool,
    ) -> Result<bool, StoreError> {
        let mut changes = Changes::new()
            .set("transcript", serde_dynamo::to_attribute_value(state).map_err(backend)?)
            .when("attribute_exists(PK)");
        if first {
            changes = changes.when("attribute_not_exists(#transcript)");
        }
        let req = self.client.update_item().table_name(&self.table).set_key(Some(key(keys::video(id), keys::META)));
        condition_held(changes.apply(req).send().await)
    }

    async fn set_captioned_master(&self, id: &VideoId, version: u32, key: Option<&str>) -> Result<bool, StoreError> {
        self.set_captioned_master_of(id, version, key).await
    }

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
            .set("status", s(to.as_str()))
            .set("updatedAt", s(now))
            .set_some("jobId", change.job_id.as_ref().map(s))
            .set_some("percentComplete", change.percent_complete.map(n))
            .set_some("durationSeconds", change.duration_seconds.map(n))
            .set_some("failureReason", change.failure_reason.map(|r| s(r.code())))
            .set_some("hlsMaster", change.hls_master.as_ref().map(s))
            .set_some("mp4", change.mp4.as_ref().map(s))
            .set_some("storyboard", change.storyboard.as_ref().map(s))
            .set_some("thumbnailCount", change.thumbnail_count.map(n))
            // A video being deleted moves no more (its job is cancelled at its next event).
            .when(format!(
                "attribute_exists(PK) AND attribute_not_exists(deleting) AND #status IN ({})",
                froms.join(", ")
            ));
        for (placeholder, from) in froms.iter().zip(allowed) {
            changes = changes.bind(placeholder, s(from.as_str()));
        }
        if let Some(job) = &change.only_for_job {
            changes = changes.when("attribute_not_exists(#jobId) OR #jobId = :job").named("jobId").bind(":job", s(job));
        }
        if to.is_terminal() || to == VideoStatus::Uploaded {
            // The upload is over either way: no upload id, out of the sweep's index.
            changes = changes.remove("uploadId").remove(GSI2PK).remove(GSI2SK);
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
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(deleting) AND #status IN (:uploaded, :transcoding) AND (attribute_not_exists(percentComplete) OR percentComplete < :p)",
            )
            .update_expression("SET percentComplete = :p")
            .expression_attribute_names("#status", "status")
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
            .set("source", value)
            .when("attribute_exists(PK) AND (attribute_not_exists(jobId) OR jobId = :job)")
            .bind(":job", s(job));
        condition_held(changes.apply(self.video_update(id)).send().await)
    }

    async fn record_output(&self, id: &VideoId, kind: &MediaKind, object: &str) -> Result<bool, StoreError> {
        let exists = Changes::new().when("attribute_exists(PK)");
        let changes = match kind {
            MediaKind::HlsMaster => exists.set("hlsMaster", s(object)),
            MediaKind::Mp4 => exists.set("mp4", s(object)),
            // The count only grows (thumbnails land in any order, events come twice).
            MediaKind::Thumbnail(index) => exists
                .set("thumbnailCount", n(u64::from(*index) + 1))
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

    async fn tombstone_video(&self, video: &Video) -> Result<bool, StoreError> {
        let mark = |condition: &str| {
            // With its entry in the marks' index (in place of a pending upload's).
            Marked::Video(&video.video_id)
                .indexed(Changes::new().set("deleting", AttributeValue::Bool(true)))
                .when(condition)
                .into_update(&self.table, key(keys::video(&video.video_id), keys::META))
                .map_err(backend)
        };
        let count = Changes::new()
            .increment("videoCount", -1)
            .when("attribute_exists(PK)")
            .into_update(&self.table, key(keys::space(&video.space_id), keys::META))
            .map_err(backend)?;
        // The mark and the place it frees in the space go together, once.
        let items = vec![
            TransactWriteItem::builder()
                .update(mark("attribute_exists(PK) AND attribute_not_exists(deleting)")?)
                .build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        match self.transact(items, &[Guard::Video, Guard::Space]).await {
            Ok(()) => Ok(true),
            // Marked (or deleted) by an earlier or concurrent request: one read tells which.
            Err(StoreError::Condition(Guard::Video)) => match self.get_video(&video.video_id).await? {
                Some(v) if v.deleting => Ok(false),
                _ => Err(StoreError::Condition(Guard::Video)),
            },
            // The space is gone (its own deletion sweeps the video): the mark alone.
            Err(StoreError::Condition(Guard::Space)) => {
                let items = vec![TransactWriteItem::builder().update(mark("attribute_exists(PK)")?).build()];
                self.transact(items, &[Guard::Video]).await.map(|()| true)
            }
            Err(e) => Err(e),
        }
    }

    async fn delete_video(&self, video: &Video) -> Result<Vec<String>, StoreError> {
        // Out of the search first: a deletion repeated after a failure finds nothing to remove.
        self.unindex_video(&video.video_id).await?;
        let items = self.query_keys(&keys::video(&video.video_id), None).await?;
        let objects = items.iter().filter_map(|i| i.get("objectKey").and_then(|v| v.as_s().ok()).cloned()).collect();
        // The per-user items first; the video item and its count go last, together, so that a
        // deletion that fails half-way leaves the video to be deleted again.
        let (meta, rest): (Vec<Item>, Vec<Item>) = items
            .into_iter()
            .partition(|i| i.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(keys::META));
        // Each member's usage gives their notes' bytes back to their storage, and each member's
        // progress leaves their standing with it, one transaction each (a deletion repeated after
        // a failure finds them gone and counts nothing twice).
        self.release_usages(&rest).await?;
        self.unstand_progress(&video.video_id).await?;
        self.batch_delete(rest).await?;
        if meta.is_empty() {
            return Ok(objects);
        }
        self.remove_video_item(video, None).await?;
        Ok(objects)
    }

    async fn withdraw_video(&self, video: &Video, day: &str) -> Result<(), StoreError> {
        self.remove_video_item(video, Some(day)).await
    }

    async fn abandon_upload(&self, video: &Video, day: &str) -> Result<bool, StoreError> {
        self.abandon(video, day).await
    }

    async fn touch_progress(
        &self,
        video: &VideoId,
        user: &UserId,
        rate: u8,
        position: Seconds,
        now: &str,
    ) -> Result<bool, StoreError> {
        // Completion is sticky: the first write at the completed rate stamps it, none clears it.
        let mut set = "SET progressRate = :r, positionSeconds = :p, lastAccessAt = :now, GSI1SK = :access".to_owned();
        if rate >= COMPLETED_RATE {
            set.push_str(", completedAt = if_not_exists(completedAt, :now)");
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::progress(user))))
            .condition_expression("attribute_exists(spaceId)")
            .update_expression(set)
            .expression_attribute_values(":r", n(rate))
            .expression_attribute_values(":p", n(position))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":access", s(keys::access(now, video)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let old: Before = match result {
            Ok(out) => from_item(out.attributes.unwrap_or_default())?,
            Err(e) => {
                return match conditional(Guard::Item)(e) {
                    StoreError::Condition(_) => Ok(false),
                    other => Err(other),
                };
            }
        };
        // DynamoDB applies writes to one item one at a time and hands each the value it replaced:
        // concurrent writes add up to exactly the last one's rate.
        let completed = rate >= COMPLETED_RATE && old.completed_at.is_none();
        self.stand(&old.space_id, user, i64::from(rate) - i64::from(old.progress_rate), completed, now).await?;
        Ok(true)
    }

    async fn put_progress(&self, progress: &Progress) -> Result<(), StoreError> {
        let (space, user, video) = (&progress.space_id, &progress.user_id, &progress.video_id);
        let standing = Self::standing(
            i64::from(progress.progress_rate),
            progress.completed_at.is_some(),
            &progress.last_access_at,
        )
        .into_update(&self.table, key(keys::space(space), keys::member(user)))
        .map_err(backend)?;
        let created = self
            .transact_checked(
                vec![
                    (self.put(self.progress_item(progress)?, Some("attribute_not_exists(PK)"))?, Guard::Item),
                    // The standing's own condition is the membership check.
                    (TransactWriteItem::builder().update(standing).build(), Guard::Grant),
                ],
                self.place_checks(Grant { space, video, user })?,
            )
            .await;
        match created {
            // Another first write came first: this one is an update of it.
            Err(StoreError::Condition(Guard::Item)) => {
                let Progress { video_id, user_id, progress_rate, position_seconds, last_access_at, .. } = progress;
                if self.touch_progress(video_id, user_id, *progress_rate, *position_seconds, last_access_at).await? {
                    Ok(())
                } else {
                    Err(StoreError::Condition(Guard::Grant))
                }
            }
            other => other,
        }
    }

    async fn place_videos(&self, space: &SpaceId, moves: &[(&Video, Option<u32>)]) -> Result<(), StoreError> {
        for chunk in moves.chunks(100) {
            let mut items = Vec::with_capacity(chunk.len());
            for (video, position) in chunk {
                let place = s(keys::video_place(*position, &video.created_at, &video.video_id));
                let changes = match position {
                    Some(p) => Changes::new().set("position", n(p)),
                    None => Changes::new().remove("position"),
                }
                .set(GSI1SK, place)
                .when("attribute_exists(PK) AND #spaceId = :space")
                .named("spaceId")
                .bind(":space", s(space.as_str()));
                let update =
                    changes.into_update(&self.table, key(keys::video(&video.video_id), keys::META)).map_err(backend)?;
                items.push(TransactWriteItem::builder().update(update).build());
            }
            let guards = vec![Guard::Video; items.len()];
            self.transact(items, &guards).await?;
        }
        Ok(())
    }

    async fn progress_by(&self, video: &VideoId, users: &[UserId]) -> Result<Vec<Progress>, StoreError> {
        let keys = users.iter().map(|u| key(keys::video(video), keys::progress(u))).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn recent_progress(&self, user: &UserId, limit: Limit) -> Result<Vec<Progress>, StoreError> {
        let (items, _) = self
            .query_items(
                Some(GSI1),
                "GSI1PK = :pk AND begins_with(GSI1SK, :access)",
                vec![(":pk", s(keys::user(user))), (":access", s("ACCESS#"))],
                Some(limit),
                None,
                false,
            )
            .await?;
        items.into_iter().map(from_item).collect()
    }

    async fn completed_count(&self, user: &UserId) -> Result<u32, StoreError> {
        let mut count = 0u32;
        let mut start = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :access)")
                .filter_expression("attribute_exists(completedAt) OR progressRate >= :done")
                .expression_attribute_values(":pk", s(keys::user(user)))
                .expression_attribute_values(":access", s("ACCESS#"))
                .expression_attribute_values(":done", n(COMPLETED_RATE))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            count += u32::try_from(resp.count).unwrap_or_default();
            start = resp.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    async fn pending_before(&self, before: &str, limit: Limit) -> Result<Vec<VideoId>, StoreError> {
        Ok(self
            .overdue(keys::PENDING, before, limit)
            .await?
            .iter()
            .filter_map(|item| item.get(PK)?.as_s().ok()?.strip_prefix("VIDEO#")?.parse().ok())
            .collect())
    }

    async fn claim_import(&self, id: &VideoId, now: &str) -> Result<bool, StoreError> {
        let stale = rfc3339(time::OffsetDateTime::now_utc() - time::Duration::minutes(15));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .condition_expression(
                "#status = :importing AND attribute_not_exists(deleting) AND (attribute_not_exists(importClaimedAt) OR importClaimedAt < :stale)",
            )
            .update_expression("SET importClaimedAt = :now")
            .expression_attribute_names("#status", "status")
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
            .condition_expression("#status = :importing AND importClaimedAt = :claimed")
            .update_expression("REMOVE importClaimedAt")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":importing", s(VideoStatus::Importing.as_str()))
            .expression_attribute_values(":claimed", s(claimed_at))
            .send()
            .await;
        condition_held(result).map(|_| ())
    }

    async fn put_snapshot(&self, snap: &Snapshot, limits: Limits) -> Result<(), StoreError> {
        let item = to_item(
            snap,
            &[
                (PK, keys::video(&snap.video_id)),
                (SK, keys::snapshot(&snap.user_id, &snap.snapshot_id)),
                (GSI2PK, keys::member_data(&snap.space_id, &snap.user_id)),
                (GSI2SK, format!("{}#SNAP#{}", snap.video_id, snap.snapshot_id)),
                ("type", "Snapshot".into()),
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
