//! Videos: a video's partition holds its item and every member's per-video data; a space's
//! videos are found through GSI1 (in the host's order), a member's data in a space through GSI2.
//! The catalog (reads, the host's edits, the order) and a video's removal; the other roles are
//! in `uploads.rs`, `transcode_state.rs`, `captions.rs`, `progress.rs` and `snapshots.rs`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    spaces::{Membership, Space},
    types::{Limit, SpaceId, UserId, VideoId},
    video::{CatalogEdits, Progress, Video, VideoAccess, VideoCatalog, VideoPatch, VideoRemoval, Visibility},
};

use crate::{
    attrs,
    deletions::Marked,
    expr::{self, Changes},
    keys,
    live::Grant,
    storage::Charge,
    table::{
        GSI1, GSI1PK, GSI1SK, GSI2PK, GSI2SK, Item, PK, SK, Table, backend, conditional, from_item, key, n, page_key,
        s, start_key, to_item,
    },
    usage::Counted,
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

    pub(crate) fn video_item(&self, v: &Video) -> Result<Item, StoreError> {
        let mut item = to_item(
            v,
            &[
                (PK, keys::video(&v.video_id)),
                (SK, keys::META.to_owned()),
                (GSI1PK, keys::space_videos(&v.space_id)),
                (GSI1SK, keys::video_place(v.position, &v.created_at, &v.video_id)),
                (attrs::TYPE, "Video".into()),
            ],
        )?;
        if v.status.is_pending() {
            item.insert(GSI2PK.to_owned(), s(keys::PENDING));
            item.insert(GSI2SK.to_owned(), s(keys::pending_since(&v.created_at, &v.video_id)));
        }
        Ok(item)
    }

    /// Removes the video item with its count in the space (unless its tombstone took it out) and
    /// its recording's lock (and, with
    /// `refund_day`, its size from its creator's transcoding budget of that day), in one
    /// transaction. An item already gone is fine; a space already gone (its deletion sweeps its
    /// videos) or a budget item already expired is left alone.
    pub(crate) async fn remove_video_item(&self, video: &Video, refund_day: Option<&str>) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(&video.video_id), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(backend)?;
        let count = Changes::new()
            .increment(attrs::VIDEO_COUNT, -1)
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

#[async_trait]
impl VideoCatalog for Table {
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
        let (mut space, mut membership, mut lti_sub, mut progress) = (None, None, None, None);
        for item in items {
            let pk = item.get(PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            match (pk.starts_with(keys::SPACE_PREFIX), sk.as_str()) {
                (true, keys::META) => space = Some(from_item::<Space>(item)?),
                (true, _) => {
                    lti_sub = item.get(crate::lti_roster::LTI_SUB).and_then(|v| v.as_s().ok()).cloned();
                    membership = Some(from_item::<Membership>(item)?);
                }
                (false, _) => progress = Some(from_item::<Progress>(item)?),
            }
        }
        Ok(Some(VideoAccess { video, space, membership, lti_sub, progress }))
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

    async fn videos(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        let mut unique: Vec<&VideoId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique.into_iter().map(|v| key(keys::video(v), keys::META)).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }
}

#[async_trait]
impl CatalogEdits for Table {
    async fn update_video(&self, id: &VideoId, patch: &VideoPatch, now: &str) -> Result<Video, StoreError> {
        let mut changes = Changes::new();
        if let Some(shown) = patch.shown {
            // Published is the attribute's absence (every video's from before visibility).
            changes = match shown.visibility {
                Visibility::Published => changes.remove(attrs::VISIBILITY),
                v => changes.set(attrs::VISIBILITY, s(v.as_str())),
            };
            changes = match shown.publish_at {
                Some(at) => changes.set(attrs::PUBLISH_AT, n(at)),
                None => changes.remove(attrs::PUBLISH_AT),
            };
        }
        let changes = changes
            .set(attrs::UPDATED_AT, s(now))
            .set_some(attrs::TITLE, patch.title.as_ref().map(|v| s(v.as_str())))
            .set_some(attrs::DESCRIPTION, patch.description.as_ref().map(|v| s(v.as_str())))
            .set_some(
                attrs::CHAPTERS,
                patch.chapters.as_ref().map(serde_dynamo::to_attribute_value).transpose().map_err(backend)?,
            )
            .when(expr::exists_not_deleting());
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .return_values(ReturnValue::AllNew);
        let resp = changes.apply(req).send().await.map_err(conditional(Guard::Video))?;
        from_item(resp.attributes.unwrap_or_default())
    }

    async fn place_videos(&self, space: &SpaceId, moves: &[(&Video, Option<u32>)]) -> Result<(), StoreError> {
        for chunk in moves.chunks(100) {
            let mut items = Vec::with_capacity(chunk.len());
            for (video, position) in chunk {
                let place = s(keys::video_place(*position, &video.created_at, &video.video_id));
                let changes = match position {
                    Some(p) => Changes::new().set(attrs::POSITION, n(p)),
                    None => Changes::new().remove(attrs::POSITION),
                }
                .set(GSI1SK, place)
                .when("attribute_exists(PK) AND #spaceId = :space")
                .named(attrs::SPACE_ID)
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
}

#[async_trait]
impl VideoRemoval for Table {
    async fn tombstone_video(&self, video: &Video) -> Result<bool, StoreError> {
        let mark = |condition: &str| {
            // With its entry in the marks' index (in place of a pending upload's).
            Marked::Video(&video.video_id)
                .indexed(Changes::new().set(attrs::DELETING, AttributeValue::Bool(true)))
                .when(condition)
                .into_update(&self.table, key(keys::video(&video.video_id), keys::META))
                .map_err(backend)
        };
        let count = Changes::new()
            .increment(attrs::VIDEO_COUNT, -1)
            .when("attribute_exists(PK)")
            .into_update(&self.table, key(keys::space(&video.space_id), keys::META))
            .map_err(backend)?;
        // The mark and the place it frees in the space go together, once.
        let items = vec![
            TransactWriteItem::builder().update(mark(&expr::exists_not_deleting())?).build(),
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
        let objects =
            items.iter().filter_map(|i| i.get(attrs::OBJECT_KEY).and_then(|v| v.as_s().ok()).cloned()).collect();
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
        // A watching report that landed after the query above may have made a heat counter item
        // (its ADD creates one); none can now, its progress item being gone: those too.
        let late = self.query_keys(&keys::video(&video.video_id), Some(keys::HEAT_PREFIX)).await?;
        self.batch_delete(late).await?;
        if meta.is_empty() {
            return Ok(objects);
        }
        self.remove_video_item(video, None).await?;
        Ok(objects)
    }
}
