//! The class study map (issue 29): the marks are read where they are, in the video's partition,
//! their author in the sort key — snapshots `SNAP#{userId}#…` and bookmarks `BOOKMARK#{userId}#…`
//! (`videoSeconds`), drawings `DRAW#{userId}#…` (`startSeconds`), memo checkpoints
//! `MEMOHIST#{userId}#…` and latest memos `MEMO#{userId}` (`videoTime`) — one query per prefix,
//! projected to the sort key and the time (DynamoDB still charges each item's whole size). The
//! class's counts are kept on `VIDEO#{videoId}`/`STUDYMAP` (so they go with the video's
//! partition), with a time to live of a day: a computation that lands after its video's deletion
//! leaves nothing for long.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use vivid_domain::{
    coverage::{KAnonymity, MAX_HEAT_BUCKETS, MarkKind, StudyBucket},
    error::StoreError,
    study_map::{ClassCounts, ClassMark, Mark, StudyMarks},
    types::{UserId, VideoId},
};

use crate::{
    attrs, keys,
    table::{Item, PK, SK, Table, backend, key, n, number, s},
};

/// How long a kept study map stays in the table after its computation (the time to live): far
/// longer than it is served, so only a map nobody reads, or one orphaned by its video's
/// deletion, goes.
const KEPT_SECONDS: i64 = 86_400;
/// Numbers kept per heat bucket with a count shown: its index, then notes, drawings, snapshots,
/// bookmarks and any (0: hidden; a shown count is at least k ≥ 2).
const ROW: usize = 6;

/// The time attribute of each kind of mark's items.
fn time_attr(prefix: &str) -> &'static str {
    match prefix {
        keys::SNAPSHOT_PREFIX | keys::BOOKMARK_PREFIX => attrs::VIDEO_SECONDS,
        keys::DRAWING_PREFIX => attrs::START_SECONDS,
        _ => attrs::VIDEO_TIME,
    }
}

/// Where the class's marks are: the kind, and the sort key prefix of every member's items.
const CLASS: [(MarkKind, &str); 5] = [
    (MarkKind::Snapshot, keys::SNAPSHOT_PREFIX),
    (MarkKind::Bookmark, keys::BOOKMARK_PREFIX),
    (MarkKind::Drawing, keys::DRAWING_PREFIX),
    (MarkKind::Note, keys::MEMO_HISTORY_PREFIX),
    (MarkKind::Note, keys::MEMO_PREFIX),
];

fn sort_key(item: &Item) -> Option<&str> {
    item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str)
}

impl Table {
    /// The sort keys and times of the items under `prefix` in the video's partition (all pages),
    /// those without a time left out.
    async fn marks_under(
        &self,
        video: &VideoId,
        prefix: &str,
        time: &str,
        consistent: bool,
    ) -> Result<Vec<(String, f64)>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::video(video)))
            .expression_attribute_values(":prefix", s(prefix))
            .projection_expression("#sk, #t")
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#t", time)
            .consistent_read(consistent);
        let items = self.all_pages(query).await?;
        Ok(items.iter().filter_map(|item| Some((sort_key(item)?.to_owned(), number::<f64>(item, time)?))).collect())
    }

    /// The marks of one kind under `prefix`.
    async fn class_marks_under(
        &self,
        video: &VideoId,
        kind: MarkKind,
        prefix: &str,
    ) -> Result<Vec<ClassMark>, StoreError> {
        let found = self.marks_under(video, prefix, time_attr(prefix), false).await?;
        Ok(found
            .into_iter()
            .filter_map(|(sk, seconds)| {
                keys::author_of(&sk, prefix).map(|user| ClassMark { user, mark: Mark { kind, seconds } })
            })
            .collect())
    }

    async fn own_marks_under(
        &self,
        video: &VideoId,
        kind: MarkKind,
        prefix: String,
        time: &str,
    ) -> Result<Vec<Mark>, StoreError> {
        let found = self.marks_under(video, &prefix, time, true).await?;
        Ok(found.into_iter().map(|(_, seconds)| Mark { kind, seconds }).collect())
    }

    /// The time of the caller's latest memo, if it has one.
    async fn memo_time(&self, video: &VideoId, user: &UserId) -> Result<Vec<Mark>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::memo(user))))
            .projection_expression("#t")
            .expression_attribute_names("#t", attrs::VIDEO_TIME)
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let at = resp.item.as_ref().and_then(|item| number::<f64>(item, attrs::VIDEO_TIME));
        Ok(at.map(|seconds| Mark { kind: MarkKind::Note, seconds }).into_iter().collect())
    }
}

/// The kept counts, or `None` when the item is not one this adapter wrote (then they are counted
/// again).
fn counts_of(item: &Item) -> Option<ClassCounts> {
    let bucket_seconds: u32 = number(item, attrs::STUDY_BUCKET_SECONDS)?;
    let buckets: u32 = number(item, attrs::STUDY_BUCKETS)?;
    let k = KAnonymity::new(number(item, attrs::STUDY_K)?).ok()?;
    let computed_at: i64 = number(item, attrs::COMPUTED_AT)?;
    if buckets > MAX_HEAT_BUCKETS {
        return None;
    }
    let mut out: Vec<StudyBucket> = (0..buckets)
        .map(|i| StudyBucket {
            start_s: i.saturating_mul(bucket_seconds),
            notes: None,
            drawings: None,
            snapshots: None,
            bookmarks: None,
            any: None,
        })
        .collect();
    let Some(AttributeValue::L(list)) = item.get(attrs::STUDY_COUNTS) else { return None };
    let numbers: Vec<u32> = list
        .iter()
        .map(|v| match v {
            AttributeValue::N(v) => v.parse().ok(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if !numbers.len().is_multiple_of(ROW) {
        return None;
    }
    let shown = |c: u32| (c > 0).then_some(c);
    for row in numbers.chunks_exact(ROW) {
        let bucket = out.get_mut(usize::try_from(row[0]).ok()?)?;
        bucket.notes = shown(row[1]);
        bucket.drawings = shown(row[2]);
        bucket.snapshots = shown(row[3]);
        bucket.bookmarks = shown(row[4]);
        bucket.any = shown(row[5]);
    }
    Some(ClassCounts { bucket_seconds, k, buckets: out, computed_at })
}

/// The counts' number list: a row per heat bucket with a count shown.
fn rows_of(counts: &ClassCounts) -> Vec<AttributeValue> {
    let mut out = Vec::new();
    for (i, b) in counts.buckets.iter().enumerate() {
        let row = [b.notes, b.drawings, b.snapshots, b.bookmarks, b.any];
        if row.iter().all(Option::is_none) {
            continue;
        }
        out.push(n(i));
        out.extend(row.iter().map(|c| n(c.unwrap_or(0))));
    }
    out
}

#[async_trait]
impl StudyMarks for Table {
    async fn class_marks(&self, video: &VideoId) -> Result<Vec<ClassMark>, StoreError> {
        let [a, b, c, d, e] = CLASS;
        let found = tokio::try_join!(
            self.class_marks_under(video, a.0, a.1),
            self.class_marks_under(video, b.0, b.1),
            self.class_marks_under(video, c.0, c.1),
            self.class_marks_under(video, d.0, d.1),
            self.class_marks_under(video, e.0, e.1),
        )?;
        let (a, b, c, d, e) = found;
        Ok([a, b, c, d, e].into_iter().flatten().collect())
    }

    async fn own_marks(&self, video: &VideoId, user: &UserId) -> Result<Vec<Mark>, StoreError> {
        let found = tokio::try_join!(
            self.own_marks_under(video, MarkKind::Snapshot, keys::snapshot_prefix(user), attrs::VIDEO_SECONDS),
            self.own_marks_under(video, MarkKind::Bookmark, keys::bookmark_prefix(user), attrs::VIDEO_SECONDS),
            self.own_marks_under(video, MarkKind::Drawing, keys::drawing_prefix(user), attrs::START_SECONDS),
            self.own_marks_under(video, MarkKind::Note, keys::memo_history_prefix(user), attrs::VIDEO_TIME),
            self.memo_time(video, user),
        )?;
        let (a, b, c, d, e) = found;
        Ok([a, b, c, d, e].into_iter().flatten().collect())
    }

    async fn kept_counts(&self, video: &VideoId) -> Result<Option<ClassCounts>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::STUDY_MAP)))
            .send()
            .await
            .map_err(backend)?;
        Ok(resp.item.as_ref().and_then(counts_of))
    }

    async fn keep_counts(&self, video: &VideoId, counts: &ClassCounts) -> Result<(), StoreError> {
        let item: Item = HashMap::from([
            (PK.to_owned(), s(keys::video(video))),
            (SK.to_owned(), s(keys::STUDY_MAP)),
            (attrs::TYPE.to_owned(), s("StudyMap")),
            (attrs::STUDY_BUCKET_SECONDS.to_owned(), n(counts.bucket_seconds)),
            (attrs::STUDY_BUCKETS.to_owned(), n(counts.buckets.len())),
            (attrs::STUDY_K.to_owned(), n(counts.k.get())),
            (attrs::STUDY_COUNTS.to_owned(), AttributeValue::L(rows_of(counts))),
            (attrs::COMPUTED_AT.to_owned(), n(counts.computed_at)),
            (attrs::EXPIRES_AT.to_owned(), n(counts.computed_at.saturating_add(KEPT_SECONDS))),
        ]);
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_counts_read_back_as_written() {
        let bucket = |i: u32, bookmarks: Option<u32>, any: Option<u32>| StudyBucket {
            start_s: i * 10,
            notes: None,
            drawings: None,
            snapshots: None,
            bookmarks,
            any,
        };
        let counts = ClassCounts {
            bucket_seconds: 10,
            k: KAnonymity::DEFAULT,
            buckets: vec![bucket(0, None, None), bucket(1, Some(5), Some(6)), bucket(2, None, Some(7))],
            computed_at: 1_700_000_000,
        };
        let item: Item = HashMap::from([
            (attrs::STUDY_BUCKET_SECONDS.to_owned(), n(10)),
            (attrs::STUDY_BUCKETS.to_owned(), n(3)),
            (attrs::STUDY_K.to_owned(), n(5)),
            (attrs::STUDY_COUNTS.to_owned(), AttributeValue::L(rows_of(&counts))),
            (attrs::COMPUTED_AT.to_owned(), n(1_700_000_000)),
        ]);
        assert_eq!(rows_of(&counts).len(), 2 * ROW, "only buckets with a count shown");
        assert_eq!(counts_of(&item), Some(counts));
        let mut bad = item.clone();
        bad.insert(attrs::STUDY_COUNTS.to_owned(), AttributeValue::L(vec![n(9), n(5), n(0), n(0), n(0), n(5)]));
        assert_eq!(counts_of(&bad), None, "a bucket past the end");
        bad.insert(attrs::STUDY_COUNTS.to_owned(), AttributeValue::L(vec![n(1)]));
        assert_eq!(counts_of(&bad), None, "a short row");
        bad.insert(attrs::STUDY_BUCKETS.to_owned(), n(MAX_HEAT_BUCKETS + 1));
        assert_eq!(counts_of(&bad), None);
    }
}
