//! The class study map (issue 29): per heat bucket of a video, how many distinct members wrote a
//! note, drew, took a snapshot or bookmarked there, each count shown only from k members on
//! ([`crate::coverage::study_map`], the rule), beside the caller's own marks. The port reads the
//! marks where they are (the video's notes, drawings, snapshots and bookmarks carry their
//! author and time) and keeps the class's counts, computed at most every
//! [`MAX_AGE_SECONDS`], so that a class's readers cost one read between computations.

use async_trait::async_trait;
use serde::Serialize;

use crate::{
    coverage::{KAnonymity, MarkKind, StudyBucket, heat_bucket_seconds, heat_buckets, study_map},
    error::StoreError,
    types::{UserId, VideoId},
};

/// How long the class's counts are served as computed: a mark made meanwhile shows up at most
/// this much later (the caller's own marks are read afresh on every request).
pub const MAX_AGE_SECONDS: i64 = 600;
/// How far in the future a computation's time may be (another function's clock) and still be
/// served; one later than that is counted again.
const CLOCK_SKEW_SECONDS: i64 = 60;

/// One mark: its kind and where on the video, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mark {
    pub kind: MarkKind,
    pub seconds: f64,
}

/// A member's mark, as the class's counts read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassMark {
    pub user: UserId,
    pub mark: Mark,
}

/// The class's counts as computed at one time: what the store keeps between computations. A
/// count below k is not kept (nor shown).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassCounts {
    /// The heat buckets' length ([`heat_bucket_seconds`] of the video's duration).
    pub bucket_seconds: u32,
    pub k: KAnonymity,
    /// Every heat bucket of the video, in order.
    pub buckets: Vec<StudyBucket>,
    /// When they were counted, Unix seconds.
    pub computed_at: i64,
}

impl ClassCounts {
    /// Counts `marks` for a video of `duration_s` at `now` (Unix seconds).
    pub fn count(marks: &[ClassMark], duration_s: f64, k: KAnonymity, now: i64) -> Self {
        let bucket_seconds = heat_bucket_seconds(duration_s);
        let marks = marks.iter().map(|m| (&m.user, m.mark.kind, m.mark.seconds));
        Self {
            bucket_seconds,
            k,
            buckets: study_map(marks, bucket_seconds, heat_buckets(duration_s), k),
            computed_at: now,
        }
    }

    /// Whether these counts may still be served for a video of `duration_s` with `k` at `now`:
    /// younger than [`MAX_AGE_SECONDS`], and cut for the same buckets and k.
    pub fn serves(&self, duration_s: f64, k: KAnonymity, now: i64) -> bool {
        let age = now.saturating_sub(self.computed_at);
        (-CLOCK_SKEW_SECONDS..MAX_AGE_SECONDS).contains(&age)
            && self.k == k
            && self.bucket_seconds == heat_bucket_seconds(duration_s)
            && u32::try_from(self.buckets.len()).is_ok_and(|n| n == heat_buckets(duration_s))
    }
}

/// The caller's marks as they see them: ordered by time then kind, each distinct (a checkpoint
/// of a memo at the memo's time is one note).
pub fn own_marks(mut marks: Vec<Mark>) -> Vec<Mark> {
    marks.retain(|m| m.seconds.is_finite());
    marks.sort_by(|a, b| a.seconds.total_cmp(&b.seconds).then_with(|| kind_order(a.kind).cmp(&kind_order(b.kind))));
    marks.dedup();
    marks
}

fn kind_order(kind: MarkKind) -> usize {
    MarkKind::ALL.iter().position(|k| *k == kind).unwrap_or(MarkKind::ALL.len())
}

/// Where the marks of a video are, and the class's counts kept between computations.
#[async_trait]
pub trait StudyMarks: Send + Sync {
    /// Every member's marks on the video (notes: the latest memo and its checkpoints, at their
    /// video time; drawings shown over the video, at their start; snapshots; bookmarks). Marks
    /// without a time on the video (a memo saved without one, a drawing page) are none.
    async fn class_marks(&self, video: &VideoId) -> Result<Vec<ClassMark>, StoreError>;
    /// The caller's own marks on the video, read strongly consistent.
    async fn own_marks(&self, video: &VideoId, user: &UserId) -> Result<Vec<Mark>, StoreError>;
    /// The class's counts as last kept (`None`: never, or unreadable).
    async fn kept_counts(&self, video: &VideoId) -> Result<Option<ClassCounts>, StoreError>;
    /// Keeps the class's counts (they go with the video).
    async fn keep_counts(&self, video: &VideoId, counts: &ClassCounts) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(user: &UserId, kind: MarkKind, seconds: f64) -> ClassMark {
        ClassMark { user: user.clone(), mark: Mark { kind, seconds } }
    }

    #[test]
    fn counts_are_served_for_ten_minutes_for_the_same_buckets_and_k() {
        let users: Vec<UserId> = (0..5).map(|_| UserId::generate()).collect();
        let marks: Vec<ClassMark> = users.iter().map(|u| mark(u, MarkKind::Bookmark, 12.0)).collect();
        let k = KAnonymity::DEFAULT;
        // 60 s: six buckets of 10 s.
        let counts = ClassCounts::count(&marks, 60.0, k, 1_000);
        assert_eq!((counts.bucket_seconds, counts.buckets.len()), (10, 6));
        assert_eq!(
            (counts.buckets[1].bookmarks, counts.buckets[1].any, counts.buckets[0].any),
            (Some(5), Some(5), None)
        );
        assert!(counts.serves(60.0, k, 1_000) && counts.serves(60.0, k, 1_599) && counts.serves(60.0, k, 950));
        assert!(!counts.serves(60.0, k, 1_600), "ten minutes old");
        assert!(!counts.serves(60.0, k, 900), "from too far in the future");
        assert!(!counts.serves(70.0, k, 1_000), "another bucket count");
        assert!(!counts.serves(60.0, KAnonymity::new(3).expect("k"), 1_000), "another k");
        // Four of them: hidden.
        let fewer = ClassCounts::count(&marks[..4], 60.0, k, 1_000);
        assert!(fewer.buckets.iter().all(|b| b.any.is_none() && b.bookmarks.is_none()));
    }

    #[test]
    fn own_marks_are_ordered_and_distinct() {
        let m = |kind, seconds| Mark { kind, seconds };
        let got = own_marks(vec![
            m(MarkKind::Bookmark, 30.0),
            m(MarkKind::Note, 12.5),
            m(MarkKind::Note, 12.5),
            m(MarkKind::Snapshot, 12.5),
            m(MarkKind::Drawing, f64::NAN),
        ]);
        assert_eq!(got, vec![m(MarkKind::Note, 12.5), m(MarkKind::Snapshot, 12.5), m(MarkKind::Bookmark, 30.0)]);
    }
}
