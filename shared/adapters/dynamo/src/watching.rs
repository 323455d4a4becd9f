//! Watched coverage (issue 29): a student's coverage and session ledger ride on their progress
//! item (`VIDEO#{videoId}`/`PROGRESS#{userId}`, binary attributes, a version for the write's
//! condition); the class's heat counters on `VIDEO#{videoId}`/`HEAT#{chunk}#{shard}` items, one
//! number attribute per heat bucket and kind (`d{bucket}` distinct students, `v{bucket}` views),
//! added to with `ADD` (no read, no hot item: a student always adds to their own shard). A report
//! is one transaction: the coverage (conditioned on its version), the member's standing (the
//! membership's existence) and the counters. The heatmap is one query of the counter items.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use vivid_domain::{
    coverage::HeatCounter,
    error::{Guard, StoreError},
    spaces::Role,
    types::{SpaceId, UserId, VideoId},
    watching::{StoredWatch, WatchStore, WatchWrite},
};

use crate::{
    attrs,
    expr::Changes,
    keys,
    table::{Item, Table, backend, key, n, number, s},
};

fn blob(item: &Item, attr: &str) -> Option<Vec<u8>> {
    match item.get(attr) {
        Some(AttributeValue::B(b)) => Some(b.clone().into_inner()),
        _ => None,
    }
}

fn string(item: &Item, attr: &str) -> Option<String> {
    match item.get(attr) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

#[async_trait]
impl WatchStore for Table {
    async fn watch(&self, video: &VideoId, user: &UserId) -> Result<Option<StoredWatch>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::progress(user))))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let Some(item) = resp.item else { return Ok(None) };
        let space_id = string(&item, attrs::SPACE_ID)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| StoreError::backend("a progress item without its space"))?;
        Ok(Some(StoredWatch {
            space_id,
            coverage: blob(&item, attrs::COVERAGE),
            ledger: blob(&item, attrs::COVERAGE_LEDGER),
            duration_s: number(&item, attrs::COVERAGE_DURATION),
            version: number(&item, attrs::COVERAGE_VERSION).unwrap_or(0),
            completed_at: string(&item, attrs::COMPLETED_AT),
            percent: number(&item, attrs::COVERAGE_PERCENT),
            lti_posted: number(&item, crate::lti_roster::LTI_POSTED),
        }))
    }

    async fn save_watch(&self, w: &WatchWrite) -> Result<(), StoreError> {
        let mut progress = Changes::new()
            .set(attrs::COVERAGE, AttributeValue::B(w.coverage.clone().into()))
            .set(attrs::COVERAGE_LEDGER, AttributeValue::B(w.ledger.clone().into()))
            .set(attrs::COVERAGE_DURATION, n(w.duration_s))
            .set(attrs::COVERAGE_VERSION, n(w.version + 1))
            .set(attrs::COVERAGE_PERCENT, n(w.percent))
            .set(attrs::WATCHED_SECONDS, n(w.watched_seconds))
            .set(attrs::LAST_ACCESS_AT, s(&w.now))
            .set(attrs::GSI1SK, s(keys::access(&w.now, &w.video)))
            .named(attrs::SPACE_ID)
            .when(format!("attribute_exists(#{})", attrs::SPACE_ID));
        progress = if w.version == 0 {
            progress.when(format!("attribute_not_exists(#{})", attrs::COVERAGE_VERSION))
        } else {
            progress.bind(":read", n(w.version)).when(format!("#{} = :read", attrs::COVERAGE_VERSION))
        };
        if w.completes {
            // Completion is sticky and counted once: not if a progress write stamped it meanwhile.
            progress = progress
                .set(attrs::COMPLETED_AT, s(&w.now))
                .when(format!("attribute_not_exists(#{})", attrs::COMPLETED_AT));
        }
        let progress =
            progress.into_update(&self.table, key(keys::video(&w.video), keys::progress(&w.user))).map_err(backend)?;
        let standing = Self::standing(0, w.completes, &w.now)
            .into_update(&self.table, key(keys::space(&w.space_id), keys::member(&w.user)))
            .map_err(backend)?;
        let mut writes = vec![
            (TransactWriteItem::builder().update(progress).build(), Guard::Item),
            // The standing's own condition is the membership check.
            (TransactWriteItem::builder().update(standing).build(), Guard::Grant),
        ];
        let mut starters_added = false;
        for chunk in &w.heat {
            let mut counters = Changes::new().set(attrs::TYPE, s("Heat"));
            for d in &chunk.deltas {
                if d.distinct > 0 {
                    counters = counters.add(&attrs::heat_distinct(d.bucket), n(d.distinct));
                }
                if d.views > 0 {
                    counters = counters.add(&attrs::heat_views(d.bucket), n(d.views));
                }
            }
            if w.started && chunk.chunk == 0 {
                counters = counters.add(attrs::HEAT_STARTERS, n(1));
                starters_added = true;
            }
            let update = counters
                .into_update(&self.table, key(keys::video(&w.video), keys::heat(chunk.chunk, w.shard)))
                .map_err(backend)?;
            writes.push((TransactWriteItem::builder().update(update).build(), Guard::Item));
        }
        if w.started && !starters_added {
            let update = Changes::new()
                .set(attrs::TYPE, s("Heat"))
                .add(attrs::HEAT_STARTERS, n(1))
                .into_update(&self.table, key(keys::video(&w.video), keys::heat(0, w.shard)))
                .map_err(backend)?;
            writes.push((TransactWriteItem::builder().update(update).build(), Guard::Item));
        }
        self.transact_checked(writes, Vec::new()).await
    }

    async fn heat(&self, video: &VideoId) -> Result<(Vec<HeatCounter>, u64), StoreError> {
        let mut sums = BTreeMap::<u32, (u64, u64)>::new();
        let mut starters = 0u64;
        let mut start = None;
        loop {
            let (items, next) = self
                .query_items(
                    None,
                    "PK = :pk AND begins_with(SK, :heat)",
                    vec![(":pk", s(keys::video(video))), (":heat", s(keys::HEAT_PREFIX))],
                    None,
                    start,
                    true,
                )
                .await?;
            for item in &items {
                for (name, value) in item {
                    let AttributeValue::N(v) = value else { continue };
                    let count: u64 = v.parse().unwrap_or(0);
                    if name == attrs::HEAT_STARTERS {
                        starters = starters.saturating_add(count);
                    } else if let Some((bucket, distinct)) = attrs::heat_counter(name) {
                        let entry = sums.entry(bucket).or_default();
                        if distinct {
                            entry.0 = entry.0.saturating_add(count);
                        } else {
                            entry.1 = entry.1.saturating_add(count);
                        }
                    }
                }
            }
            start = next;
            if start.is_none() {
                break;
            }
        }
        let counters =
            sums.into_iter().map(|(bucket, (distinct, views))| HeatCounter { bucket, distinct, views }).collect();
        Ok((counters, starters))
    }

    async fn graded_as(&self, space: &SpaceId, user: &UserId) -> Result<Option<(Role, Option<String>)>, StoreError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Graded {
            role: Role,
            #[serde(default)]
            lti_sub: Option<String>,
        }
        let graded: Option<Graded> = self.get(keys::space(space), keys::member(user)).await?;
        Ok(graded.map(|g| (g.role, g.lti_sub)))
    }
}
