//! The daily budgets of minutes (MediaConvert's and Transcribe's): counters beside `transcodeBytes`
//! on `USER#{id}`/`BUDGET#{day}`, each charge made in one transaction with the video's record of
//! it (`transcodeCharged`/`transcodeChargedOn`, `transcribeCharged`/`transcribeChargedOn` on the
//! video item), so a video is charged once per service however often its event comes.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    minutes::{Charge, Metered, MinutesBudget},
    quota::Exceeded,
    types::{UserId, VideoId, unix_now},
};

use crate::{
    attrs,
    expr::{self, Changes},
    keys,
    table::{Item, Table, backend, key, n, number, s},
    usage::counter,
};

impl Table {
    /// The video item's own attributes, read consistently.
    async fn video_attrs(&self, video: &VideoId) -> Result<Option<Item>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::META)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(resp.item)
    }

    /// The update of a day's counter by `delta` minutes (within `limit` when given); the item
    /// expires two days after the day's first charge, as the byte budget's does.
    fn minutes_counter(
        &self,
        what: Metered,
        user: &UserId,
        day: &str,
        delta: i64,
        limit: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = counter(attrs::metered(what).counter, delta, limit)
            .set(attrs::EXPIRES_AT, n(unix_now() + 2 * 86_400))
            .into_update(&self.table, key(keys::user(user), keys::budget(day)))
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl MinutesBudget for Table {
    async fn charge_minutes(
        &self,
        what: Metered,
        video: &VideoId,
        user: &UserId,
        minutes: u64,
        day: &str,
        limit: u64,
    ) -> Result<Charge, StoreError> {
        let exceeded = Exceeded { quota: what.quota(), limit };
        // More than a whole day's budget never fits (the counter's condition cannot say so for
        // a day that has no item yet).
        if minutes > limit {
            return Ok(Charge::Exceeded(exceeded));
        }
        let a = attrs::metered(what);
        let delta = i64::try_from(minutes).map_err(backend)?;
        let record = Changes::new()
            .set(a.charged, n(minutes))
            .set(a.charged_on, s(day))
            .when(format!("{} AND attribute_not_exists(#{})", expr::exists_not_deleting(), a.charged))
            .into_update(&self.table, key(keys::video(video), keys::META))
            .map_err(backend)?;
        let items = vec![
            TransactWriteItem::builder().update(record).build(),
            self.minutes_counter(what, user, day, delta, Some(limit))?,
        ];
        match self.transact(items, &[Guard::Video, Guard::Quota(exceeded)]).await {
            Ok(()) => Ok(Charge::Charged),
            Err(StoreError::Condition(Guard::Quota(e))) => Ok(Charge::Exceeded(e)),
            // Charged by an earlier delivery, or gone: one read tells.
            Err(StoreError::Condition(Guard::Video)) => {
                let item = self.video_attrs(video).await?;
                Ok(match item {
                    Some(i) if !i.contains_key(attrs::DELETING) && i.contains_key(a.charged) => Charge::AlreadyCharged,
                    _ => Charge::Gone,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn settle_minutes(&self, what: Metered, video: &VideoId, minutes: u64) -> Result<bool, StoreError> {
        let a = attrs::metered(what);
        let Some(item) = self.video_attrs(video).await? else { return Ok(false) };
        let (Some(charged), Some(day), None) = (
            number::<i64>(&item, a.charged),
            item.get(a.charged_on).and_then(|v| v.as_s().ok()).cloned(),
            item.get(a.settled),
        ) else {
            return Ok(false);
        };
        let Some(user) = item.get(attrs::CREATED_BY).and_then(|v| v.as_s().ok()).and_then(|u| u.parse::<UserId>().ok())
        else {
            return Ok(false);
        };
        let actual = i64::try_from(minutes).map_err(backend)?;
        // Once: only while the charge is the one read and not settled yet.
        let settle = Changes::new()
            .set(a.charged, n(actual))
            .set(a.settled, AttributeValue::Bool(true))
            .named(a.charged)
            .bind(":was", n(charged))
            .when(format!("#{} = :was AND attribute_not_exists(#{})", a.charged, a.settled))
            .named(a.settled)
            .into_update(&self.table, key(keys::video(video), keys::META))
            .map_err(backend)?;
        let mut items = vec![(TransactWriteItem::builder().update(settle).build(), Guard::Video)];
        if actual != charged {
            // Into the day that was charged, while its item lasts (two days): spent, so no limit.
            let correction = counter(a.counter, actual - charged, None)
                .when("attribute_exists(PK)")
                .into_update(&self.table, key(keys::user(&user), keys::budget(&day)))
                .map_err(backend)?;
            items.push((TransactWriteItem::builder().update(correction).build(), Guard::Item));
        }
        loop {
            let (writes, guards): (Vec<_>, Vec<_>) = items.iter().cloned().unzip();
            match self.transact(writes, &guards).await {
                Ok(()) => return Ok(true),
                Err(StoreError::Condition(Guard::Video)) => return Ok(false),
                // The day's budget expired already: the video is settled alone.
                Err(StoreError::Condition(Guard::Item)) if items.len() > 1 => items.truncate(1),
                Err(e) => return Err(e),
            }
        }
    }
}
