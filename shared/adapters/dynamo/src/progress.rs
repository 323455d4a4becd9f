//! Members' progress: `VIDEO#{videoId}`/`PROGRESS#{userId}`, found by its user through GSI1
//! (most recent access last) and by its member's data in the space through GSI2. Every write
//! moves the member's standing on their membership in step.

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    operation::update_item::UpdateItemError,
    types::{Delete, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem},
};
use vivid_domain::{
    engagement::{COOLDOWN_SECS, EngagementStore},
    error::{Guard, StoreError},
    types::{Limit, Seconds, SpaceId, UserId, VideoId},
    video::{Progress, ProgressStore},
};

use crate::{
    attrs,
    expr::Changes,
    keys::{self, MemberItem},
    live::Grant,
    table::{
        GSI1, GSI1PK, GSI1SK, GSI2PK, GSI2SK, Item, PK, SK, Table, backend, conditional, from_item, key, n, number, s,
        to_item,
    },
};

impl Table {
    fn progress_item(&self, p: &Progress) -> Result<Item, StoreError> {
        to_item(
            p,
            &[
                (PK, keys::video(&p.video_id)),
                (SK, keys::progress(&p.user_id)),
                (GSI1PK, keys::user(&p.user_id)),
                (GSI1SK, keys::access(&p.last_access_at, &p.video_id)),
                (GSI2PK, keys::member_data(&p.space_id, &p.user_id)),
                (GSI2SK, keys::member_item(&p.video_id, MemberItem::Progress, None)),
                (attrs::TYPE, "Progress".into()),
            ],
        )
    }
}

/// What a progress item held before a write, for the member's standing.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Before {
    space_id: SpaceId,
    #[serde(default)]
    progress_rate: u8,
}

impl Table {
    /// Moves a member's standing in a space by one progress write. A member removed meanwhile
    /// has no standing to move (their progress goes with them).
    /// The change of a member's standing that a progress write makes, conditioned on the
    /// membership: it is also the write's proof that the member still belongs to the space.
    pub(crate) fn standing(delta: i64, completed: bool, now: &str) -> Changes {
        Changes::new()
            .add(attrs::PROGRESS_SUM, n(delta))
            .add(attrs::COMPLETED_VIDEOS, n(i64::from(completed)))
            .set(attrs::LAST_ACCESS_AT, s(now))
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
        Self::standing(delta, completed, now).apply(req).send().await.map_err(conditional(Guard::Grant))?;
        Ok(())
    }

    /// Deletes every member's progress on a video, each with its share of the member's standing.
    pub(crate) async fn unstand_progress(&self, video: &VideoId) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let (items, next) = self
                .query_items(
                    None,
                    "PK = :pk AND begins_with(SK, :progress)",
                    vec![(":pk", s(keys::video(video))), (":progress", s(keys::PROGRESS_PREFIX))],
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
            .add(attrs::PROGRESS_SUM, n(-i64::from(progress.progress_rate)))
            .add(attrs::COMPLETED_VIDEOS, n(-i64::from(progress.completed_at.is_some())))
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
impl ProgressStore for Table {
    async fn progress_on(&self, user: &UserId, videos: &[VideoId]) -> Result<Vec<Progress>, StoreError> {
        let keys = videos.iter().map(|v| key(keys::video(v), keys::progress(user))).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn touch_progress(
        &self,
        video: &VideoId,
        user: &UserId,
        rate: u8,
        position: Seconds,
        now: &str,
    ) -> Result<bool, StoreError> {
        // The rate is the client's claim: it never completes the video (watched coverage does).
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::progress(user))))
            .condition_expression("attribute_exists(spaceId)")
            .update_expression("SET progressRate = :r, positionSeconds = :p, lastAccessAt = :now, GSI1SK = :access")
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
        self.stand(&old.space_id, user, i64::from(rate) - i64::from(old.progress_rate), false, now).await?;
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

    async fn progress_by(&self, video: &VideoId, users: &[UserId]) -> Result<Vec<Progress>, StoreError> {
        let keys = users.iter().map(|u| key(keys::video(video), keys::progress(u))).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn recent_progress(&self, user: &UserId, limit: Limit) -> Result<Vec<Progress>, StoreError> {
        let (items, _) = self
            .query_items(
                Some(GSI1),
                "GSI1PK = :pk AND begins_with(GSI1SK, :access)",
                vec![(":pk", s(keys::user(user))), (":access", s(keys::ACCESS_PREFIX))],
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
                .filter_expression("attribute_exists(completedAt)")
                .expression_attribute_values(":pk", s(keys::user(user)))
                .expression_attribute_values(":access", s(keys::ACCESS_PREFIX))
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
}

/// The engagement export's reads and its claim (`SPACE#{id}` / `EXPORT`).
#[async_trait]
impl EngagementStore for Table {
    /// One query of the video's `PROGRESS#` items (eventually consistent; paged at 1 MB),
    /// projected to what the export shows — which saves bandwidth, not read units (DynamoDB
    /// charges a query by the items' whole sizes).
    async fn class_progress(&self, video: &VideoId) -> Result<Vec<Progress>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :progress)")
            .expression_attribute_values(":pk", s(keys::video(video)))
            .expression_attribute_values(":progress", s(keys::PROGRESS_PREFIX))
            .projection_expression(
                "videoId, userId, spaceId, progressRate, positionSeconds, lastAccessAt, completedAt, coveragePercent",
            );
        self.all_pages(query).await?.into_iter().map(from_item).collect()
    }

    /// One conditional `UpdateItem`; a refusal answers the claim as it stood (`ALL_OLD`), which
    /// tells when the next may start. The item expires (TTL) with the cooldown.
    async fn claim_export(&self, space: &SpaceId, now: u64) -> Result<Option<u64>, StoreError> {
        let claim = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::EXPORT)))
            .update_expression("SET #started = :now, #expires = :expires, #type = :type")
            .condition_expression("attribute_not_exists(#started) OR #started <= :cutoff")
            .expression_attribute_names("#started", attrs::STARTED_AT)
            .expression_attribute_names("#expires", attrs::EXPIRES_AT)
            .expression_attribute_names("#type", attrs::TYPE)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":cutoff", n(now.saturating_sub(COOLDOWN_SECS)))
            .expression_attribute_values(":expires", n(now + COOLDOWN_SECS))
            .expression_attribute_values(":type", s("EngagementExport"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match claim {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let started: u64 = failed.item.as_ref().and_then(|i| number(i, attrs::STARTED_AT)).unwrap_or(now);
                    Ok(Some((started + COOLDOWN_SECS).saturating_sub(now).max(1)))
                }
                _ => Err(backend(e)),
            },
        }
    }
}
