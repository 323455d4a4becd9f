//! Study notes: the memo's latest state, its checkpoint history and drawings, all under the
//! video's partition and the member's GSI2 data partition.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    notes::{Checkpoint, Drawing, DrawingId, Memo, NoteStore, SaveOutcome},
    page::{Page, PageKey},
    types::{Limit, Seconds, UserId, VideoId},
};

use crate::{
    expr::Changes,
    keys,
    table::{
        GSI2PK, GSI2SK, Item, PK, SK, Table, backend, conditional, from_item, key, n, page_key, s, start_key, to_item,
    },
    usage::Counted,
};

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
        let mut changes = Changes::new()
            .set("stateJson", s(state))
            .set("updatedAt", s(now))
            .increment("version", 1)
            .set_some("videoTime", video_time.map(n))
            .when("attribute_exists(spaceId)");
        if let Some(v) = expected {
            changes = changes.when("#version = :expected").bind(":expected", n(v));
        }
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::memo(user))))
            // The item it replaces: the new one is that with the changes above, and the state it
            // replaces is what the author's notes index has to be moved from.
            .return_values(ReturnValue::AllOld);
        match changes.apply(req).send().await {
            Ok(out) => {
                let old: Memo = from_item(out.attributes.unwrap_or_default())?;
                let saved = Memo {
                    state_json: state.to_owned(),
                    video_time: video_time.or(old.video_time),
                    version: old.version + 1,
                    updated_at: now.to_owned(),
                    ..old.clone()
                };
                Ok(SaveOutcome::Saved(saved, old.state_json))
            }
            Err(e) => match conditional::<aws_sdk_dynamodb::operation::update_item::UpdateItemError>(Guard::Memo)(e) {
                StoreError::Condition(_) => {
                    // Which condition failed: no memo (no grant yet), or another version.
                    Ok(if self.memo(video, user).await?.is_some() { SaveOutcome::Stale } else { SaveOutcome::NoMemo })
                }
                other => Err(other),
            },
        }
    }

    async fn create_memo(&self, memo: &Memo) -> Result<(), StoreError> {
        let item = to_item(
            memo,
            &[
                (PK, keys::video(&memo.video_id)),
                (SK, keys::memo(&memo.user_id)),
                (GSI2PK, keys::member_data(&memo.space_id, &memo.user_id)),
                (GSI2SK, format!("{}#MEMO", memo.video_id)),
                ("type", "Memo".into()),
            ],
        )?;
        self.put_new(item, Guard::Memo).await
    }

    async fn checkpoint(&self, c: &Checkpoint, limit: u64) -> Result<(), StoreError> {
        let item = to_item(
            c,
            &[
                (PK, keys::video(&c.video_id)),
                (SK, format!("{}{}", keys::memo_history_prefix(&c.user_id), c.checkpoint_id)),
                (GSI2PK, keys::member_data(&c.space_id, &c.user_id)),
                (GSI2SK, format!("{}#MEMOHIST#{}", c.video_id, c.checkpoint_id)),
                ("type", "MemoCheckpoint".into()),
            ],
        )?;
        let mark = Changes::new()
            .set("checkpointedVersion", n(c.version))
            .when("attribute_exists(PK) AND (attribute_not_exists(#checkpointedVersion) OR #checkpointedVersion < :checkpointedVersion)")
            .into_update(&self.table, key(keys::video(&c.video_id), keys::memo(&c.user_id)))
            .map_err(backend)?;
        let counted = Counted::Checkpoints;
        self.transact(
            vec![
                self.put(item, Some("attribute_not_exists(PK)"))?,
                TransactWriteItem::builder().update(mark).build(),
                self.count_on_video(counted, &c.video_id, &c.space_id, &c.user_id, 1, Some(limit))?,
            ],
            &[Guard::Checkpoint, Guard::Memo, counted.guard(limit)],
        )
        .await
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

    async fn put_drawing(&self, d: &Drawing, limit: u64) -> Result<Option<Drawing>, StoreError> {
        let item = to_item(
            d,
            &[
                (PK, keys::video(&d.video_id)),
                (SK, format!("{}{}", keys::drawing_prefix(&d.user_id), d.drawing_id)),
                (GSI2PK, keys::member_data(&d.space_id, &d.user_id)),
                (GSI2SK, format!("{}#DRAW#{}", d.video_id, d.drawing_id)),
                ("type", "Drawing".into()),
            ],
        )?;
        let counted = Counted::Drawings;
        // A new drawing is counted with its creation; a replacement is one conditional put. A
        // delete racing between the two is answered by trying again.
        for _ in 0..3 {
            let created = self
                .transact(
                    vec![
                        self.put(item.clone(), Some("attribute_not_exists(PK)"))?,
                        self.count_on_video(counted, &d.video_id, &d.space_id, &d.user_id, 1, Some(limit))?,
                    ],
                    &[Guard::Drawing, counted.guard(limit)],
                )
                .await;
            match created {
                Ok(()) => return Ok(None),
                Err(StoreError::Condition(Guard::Drawing)) => {}
                Err(e) => return Err(e),
            }
            let replaced = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_exists(PK)")
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(conditional(Guard::Drawing));
            match replaced {
                Ok(out) => return out.attributes.filter(|a| !a.is_empty()).map(from_item).transpose(),
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
            &[("#kind", "kind")][..],
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
        let Some(d) = self.get::<Drawing>(keys::video(video), sk.clone()).await? else { return Ok(None) };
        match self.uncount(Counted::Drawings, key(keys::video(video), sk), &d.video_id, &d.space_id, user).await {
            // Deleted meanwhile by a concurrent request: the same answer.
            Ok(()) | Err(StoreError::Condition(Guard::Item)) => Ok(Some(d)),
            Err(e) => Err(e),
        }
    }
}
