//! Study notes: the memo's latest state, its checkpoint history and drawings, all under the
//! video's partition and the member's GSI2 data partition.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    notes::{Checkpoint, Drawing, DrawingId, Memo, NoteStore, SaveOutcome},
    page::{Page, PageKey},
    search,
    storage::{Limits, Stored, recharge},
    types::{Limit, Seconds, UserId, VideoId},
};

use crate::{
    attrs,
    expr::Changes,
    keys::{self, MemberItem},
    live::Grant,
    storage::Charge,
    table::{GSI2PK, GSI2SK, Item, PK, SK, Table, backend, from_item, key, n, page_key, s, start_key, to_item},
    usage::Counted,
};

/// A set of terms as a DynamoDB list (a string set cannot be empty).
fn terms_list(terms: &std::collections::BTreeSet<String>) -> AttributeValue {
    AttributeValue::L(terms.iter().map(|t| s(t.as_str())).collect())
}

impl Table {
    /// A page of one user's items of one kind under a video, the start key checked to lie there.
    async fn own_items(
        &self,
        video: &VideoId,
        prefix: &str,
        limit: Limit,
        start: Option<PageKey>,
        newest_first: bool,
        projection: Option<(&str, &[(&str, &str)])>,
    ) -> Result<(Vec<Item>, Option<PageKey>), StoreError> {
        let partition = keys::video(video);
        if let Some(sk) = start.as_ref().and_then(|k| k.get(SK))
            && !sk.starts_with(prefix)
        {
            return Err(StoreError::ForeignStart);
        }
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(partition.clone()))
            .expression_attribute_values(":prefix", s(prefix))
            .scan_index_forward(!newest_first)
            .limit(i32::from(limit.get()))
            .consistent_read(true)
            .set_exclusive_start_key(start_key(start, PK, &partition)?);
        if let Some((expr, names)) = projection {
            req = req.projection_expression(expr);
            for (k, v) in names {
                req = req.expression_attribute_names(*k, *v);
            }
        }
        let resp = req.send().await.map_err(backend)?;
        Ok((resp.items.unwrap_or_default(), page_key(resp.last_evaluated_key.as_ref())))
    }
}

#[async_trait]
impl NoteStore for Table {
    async fn memo(&self, video: &VideoId, user: &UserId) -> Result<Option<Memo>, StoreError> {
        self.get(keys::video(video), keys::memo(user)).await
    }

    async fn save_memo(
        &self,
        video: &VideoId,
        user: &UserId,
        state: &str,
        video_time: Option<Seconds>,
        expected: Option<u64>,
        now: &str,
    ) -> Result<SaveOutcome, StoreError> {
        // Read, then write on the version read, in one transaction with the membership: the state
        // it replaces is what the author's notes index has to be moved from, and a member removed
        // meanwhile is refused at the write. A save racing another without `If-Match` reads again.
        for _ in 0..3 {
            let Some(old) = self.memo(video, user).await? else { return Ok(SaveOutcome::NoMemo) };
            if expected.is_some_and(|v| v != old.version) {
                return Ok(SaveOutcome::Stale);
            }
            // The index moves a bounded step with each save, recorded with the save.
            let indexed = search::indexed_terms(&old);
            let moved = search::note_index_step(&indexed, &search::note_terms(state), search::MAX_NOTE_INDEX_WRITES);
            let update = Changes::new()
                .set(attrs::INDEXED_TERMS, terms_list(&moved))
                .set(attrs::STATE_JSON, s(state))
                .set(attrs::UPDATED_AT, s(now))
                .set(attrs::VERSION, n(old.version + 1))
                .set_some(attrs::VIDEO_TIME, video_time.map(n))
                .when("#version = :read")
                .bind(":read", n(old.version))
                .into_update(&self.table, key(keys::video(video), keys::memo(user)))
                .map_err(backend)?;
            let grant = Grant { space: &old.space_id, video, user };
            let written = self
                .transact_checked(
                    vec![(TransactWriteItem::builder().update(update).build(), Guard::Memo)],
                    // The full grant: a save lands in no video or space being deleted.
                    self.grant_checks(grant)?,
                )
                .await;
            match written {
                Ok(()) => {
                    let saved = Memo {
                        state_json: state.to_owned(),
                        video_time: video_time.or(old.video_time),
                        version: old.version + 1,
                        updated_at: now.to_owned(),
                        indexed_terms: Some(moved),
                        ..old
                    };
                    return Ok(SaveOutcome::Saved(Box::new(saved), indexed));
                }
                Err(StoreError::Condition(Guard::Memo)) if expected.is_some() => return Ok(SaveOutcome::Stale),
                Err(StoreError::Condition(Guard::Memo)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(SaveOutcome::Stale)
    }

    async fn create_memo(&self, memo: &Memo) -> Result<(), StoreError> {
        let item = to_item(
            memo,
            &[
                (PK, keys::video(&memo.video_id)),
                (SK, keys::memo(&memo.user_id)),
                (GSI2PK, keys::member_data(&memo.space_id, &memo.user_id)),
                (GSI2SK, keys::member_item(&memo.video_id, MemberItem::Memo, None)),
                (attrs::TYPE, "Memo".into()),
            ],
        )?;
        let grant = Grant { space: &memo.space_id, video: &memo.video_id, user: &memo.user_id };
        self.transact_checked(
            vec![(self.put(item, Some("attribute_not_exists(PK)"))?, Guard::Memo)],
            self.grant_checks(grant)?,
        )
        .await
    }

    async fn checkpoint(&self, c: &Checkpoint, limits: Limits) -> Result<(), StoreError> {
        let item = to_item(
            c,
            &[
                (PK, keys::video(&c.video_id)),
                (SK, format!("{}{}", keys::memo_history_prefix(&c.user_id), c.checkpoint_id)),
                (GSI2PK, keys::member_data(&c.space_id, &c.user_id)),
                (GSI2SK, keys::member_item(&c.video_id, MemberItem::Checkpoint, Some(c.checkpoint_id.as_str()))),
                (attrs::TYPE, "MemoCheckpoint".into()),
            ],
        )?;
        let mark = Changes::new()
            .set(attrs::CHECKPOINTED_VERSION, n(c.version))
            .when("attribute_exists(PK) AND (attribute_not_exists(#checkpointedVersion) OR #checkpointedVersion < :checkpointedVersion)")
            .into_update(&self.table, key(keys::video(&c.video_id), keys::memo(&c.user_id)))
            .map_err(backend)?;
        let grant = Grant { space: &c.space_id, video: &c.video_id, user: &c.user_id };
        let charge = Charge { bytes: c.stored_bytes(), limit: limits.storage_bytes };
        let mut writes = vec![
            (self.put(item, Some("attribute_not_exists(PK)"))?, Guard::Checkpoint),
            (TransactWriteItem::builder().update(mark).build(), Guard::Memo),
        ];
        writes.extend(self.count_and_charge(Counted::Checkpoints, grant, limits.per_video, Some(charge))?);
        self.transact_checked(writes, self.grant_checks(grant)?).await
    }

    async fn history(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Checkpoint>, StoreError> {
        let (items, next) = self.own_items(video, &keys::memo_history_prefix(user), limit, start, true, None).await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next })
    }

    async fn put_drawing(&self, d: &Drawing, limits: Limits) -> Result<Option<Drawing>, StoreError> {
        let item = to_item(
            d,
            &[
                (PK, keys::video(&d.video_id)),
                (SK, format!("{}{}", keys::drawing_prefix(&d.user_id), d.drawing_id)),
                (GSI2PK, keys::member_data(&d.space_id, &d.user_id)),
                (GSI2SK, keys::member_item(&d.video_id, MemberItem::Drawing, Some(d.drawing_id.as_str()))),
                (attrs::TYPE, "Drawing".into()),
            ],
        )?;
        let grant = Grant { space: &d.space_id, video: &d.video_id, user: &d.user_id };
        let sk = format!("{}{}", keys::drawing_prefix(&d.user_id), d.drawing_id);
        let charge = Charge { bytes: d.stored_bytes(), limit: limits.storage_bytes };
        // A new drawing is counted and charged with its creation; a replacement is a put on the
        // version read (its old object is the caller's to remove), charged the difference in
        // size. Both carry the live grant. A delete or another replacement racing between the
        // steps is answered by trying again.
        for _ in 0..3 {
            let mut writes = vec![(self.put(item.clone(), Some("attribute_not_exists(PK)"))?, Guard::Drawing)];
            writes.extend(self.count_and_charge(Counted::Drawings, grant, limits.per_video, Some(charge))?);
            let created = self.transact_checked(writes, self.grant_checks(grant)?).await;
            match created {
                Ok(()) => return Ok(None),
                Err(StoreError::Condition(Guard::Drawing)) => {}
                Err(e) => return Err(e),
            }
            let Some(old) = self.get::<Drawing>(keys::video(&d.video_id), sk.clone()).await? else { continue };
            let replace = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_exists(PK) AND updatedAt = :read AND sizeBytes = :size")
                .expression_attribute_values(":read", s(old.updated_at.clone()))
                .expression_attribute_values(":size", n(old.size_bytes))
                .build()
                .map_err(backend)?;
            let mut writes = vec![(TransactWriteItem::builder().put(replace).build(), Guard::Drawing)];
            writes.extend(self.recharge(
                grant,
                recharge(old.stored_bytes(), d.stored_bytes()),
                limits.storage_bytes,
            )?);
            match self.transact_checked(writes, self.grant_checks(grant)?).await {
                Ok(()) => return Ok(Some(old)),
                Err(StoreError::Condition(Guard::Drawing)) => {}
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Condition(Guard::Drawing))
    }

    async fn drawing(&self, video: &VideoId, user: &UserId, id: &DrawingId) -> Result<Option<Drawing>, StoreError> {
        self.get(keys::video(video), format!("{}{id}", keys::drawing_prefix(user))).await
    }

    async fn drawings(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Drawing>, StoreError> {
        // Everything but the documents.
        let projection = (
            "PK, SK, drawingId, videoId, userId, spaceId, #kind, startSeconds, endSeconds, sizeBytes, updatedAt, objectKey",
            &[("#kind", attrs::KIND)][..],
        );
        let (items, next) =
            self.own_items(video, &keys::drawing_prefix(user), limit, start, false, Some(projection)).await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next })
    }

    async fn delete_drawing(
        &self,
        video: &VideoId,
        user: &UserId,
        id: &DrawingId,
    ) -> Result<Option<Drawing>, StoreError> {
        let sk = format!("{}{id}", keys::drawing_prefix(user));
        let mut seen = None;
        for _ in 0..3 {
            // Deleted meanwhile by a concurrent request (once this one had seen it): the same answer.
            let Some(d) = self.get::<Drawing>(keys::video(video), sk.clone()).await? else { return Ok(seen) };
            // On the version read: the bytes given back are the ones it was charged.
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::video(video), sk.clone())))
                .condition_expression("updatedAt = :read AND sizeBytes = :size")
                .expression_attribute_values(":read", s(d.updated_at.clone()))
                .expression_attribute_values(":size", n(d.size_bytes))
                .build()
                .map_err(backend)?;
            let grant = Grant { space: &d.space_id, video: &d.video_id, user };
            match self.uncount_stored(Counted::Drawings, delete, grant, d.stored_bytes()).await {
                Ok(()) => return Ok(Some(d)),
                // Deleted or replaced meanwhile: read it again.
                Err(StoreError::Condition(Guard::Item)) => seen = Some(d),
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Condition(Guard::Drawing))
    }
}
