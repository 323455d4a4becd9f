//! The class study map: per heat bucket, how many distinct students left each kind of mark
//! there, shown only from k students on.

use std::{
    collections::{HashMap, HashSet},
    hash::Hash,
};

use serde::{Deserialize, Serialize};

use super::{CoverageError, MAX_HEAT_BUCKETS};

/// What a student leaves at a moment of a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MarkKind {
    Note,
    Drawing,
    Snapshot,
    Bookmark,
}

impl MarkKind {
    pub const ALL: [Self; 4] = [Self::Note, Self::Drawing, Self::Snapshot, Self::Bookmark];

    fn index(self) -> usize {
        match self {
            Self::Note => 0,
            Self::Drawing => 1,
            Self::Snapshot => 2,
            Self::Bookmark => 3,
        }
    }
}

/// The fewest distinct students a shown count may stand for: 2–100 (5 by default, a space
/// setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32")]
pub struct KAnonymity(u8);

impl TryFrom<u32> for KAnonymity {
    type Error = CoverageError;

    fn try_from(k: u32) -> Result<Self, Self::Error> {
        Self::new(k)
    }
}

impl KAnonymity {
    pub const DEFAULT: Self = Self(5);

    pub fn new(k: u32) -> Result<Self, CoverageError> {
        match u8::try_from(k) {
            Ok(k) if (2..=100).contains(&k) => Ok(Self(k)),
            _ => Err(CoverageError::KAnonymity(k)),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The count if it may be shown.
    fn show(self, count: u32) -> Option<u32> {
        (count >= u32::from(self.0)).then_some(count)
    }
}

impl Default for KAnonymity {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One heat bucket of the study map: distinct students per kind of mark and of any kind, each
/// `None` when fewer than k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StudyBucket {
    pub start_s: u32,
    pub notes: Option<u32>,
    pub drawings: Option<u32>,
    pub snapshots: Option<u32>,
    pub bookmarks: Option<u32>,
    pub any: Option<u32>,
}

impl StudyBucket {
    /// The shown count of a kind.
    pub fn count(&self, kind: MarkKind) -> Option<u32> {
        match kind {
            MarkKind::Note => self.notes,
            MarkKind::Drawing => self.drawings,
            MarkKind::Snapshot => self.snapshots,
            MarkKind::Bookmark => self.bookmarks,
        }
    }
}

/// The study map of `buckets` heat buckets of `heat_bucket_seconds` from the marks of a video:
/// `(student, kind, second)`, in any order and number. A mark at a negative, non-finite or past
/// the last bucket's end second is left out (one exactly at the end is in the last bucket). Each
/// count is of distinct students and is shown only when at least `k`; the `any` total likewise,
/// and a kind below `k` stays hidden whatever `any` is. At most [`MAX_HEAT_BUCKETS`] buckets.
pub fn study_map<U: Eq + Hash>(
    marks: impl IntoIterator<Item = (U, MarkKind, f64)>,
    heat_bucket_seconds: u32,
    buckets: u32,
    k: KAnonymity,
) -> Vec<StudyBucket> {
    let seconds = heat_bucket_seconds.max(1);
    let buckets = buckets.min(MAX_HEAT_BUCKETS);
    let mut students: HashMap<U, u32> = HashMap::new();
    let mut per_kind: HashSet<(u32, usize, u32)> = HashSet::new();
    let mut per_bucket: HashSet<(u32, u32)> = HashSet::new();
    for (user, kind, at) in marks {
        let Some(bucket) = bucket_of(at, seconds, buckets) else { continue };
        let next = students.len() as u32;
        let student = *students.entry(user).or_insert(next);
        per_kind.insert((bucket, kind.index(), student));
        per_bucket.insert((bucket, student));
    }
    let mut kinds = vec![[0u32; 4]; buckets as usize];
    let mut any = vec![0u32; buckets as usize];
    for (bucket, kind, _) in per_kind {
        if let Some(c) = kinds.get_mut(bucket as usize).and_then(|row| row.get_mut(kind)) {
            *c += 1;
        }
    }
    for (bucket, _) in per_bucket {
        if let Some(c) = any.get_mut(bucket as usize) {
            *c += 1;
        }
    }
    kinds
        .iter()
        .zip(&any)
        .enumerate()
        .map(|(i, (row, any))| StudyBucket {
            start_s: i as u32 * seconds,
            notes: k.show(row[0]),
            drawings: k.show(row[1]),
            snapshots: k.show(row[2]),
            bookmarks: k.show(row[3]),
            any: k.show(*any),
        })
        .collect()
}

fn bucket_of(at: f64, seconds: u32, buckets: u32) -> Option<u32> {
    let end = f64::from(buckets) * f64::from(seconds);
    if !(at.is_finite() && at >= 0.0 && at <= end) || buckets == 0 {
        return None;
    }
    Some(((at / f64::from(seconds)).floor() as u32).min(buckets - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_is_two_to_a_hundred() {
        assert_eq!(KAnonymity::default().get(), 5);
        for bad in [0, 1, 101, 300] {
            assert_eq!(KAnonymity::new(bad), Err(CoverageError::KAnonymity(bad)));
        }
        assert!(KAnonymity::new(2).is_ok() && KAnonymity::new(100).is_ok());
    }

    #[test]
    fn a_count_is_shown_at_k_and_hidden_below() {
        let k = KAnonymity::new(3).expect("k");
        // Bucket 0 (0–10 s): 3 students took notes, one of them twice. Bucket 1: 2 students.
        let marks = vec![
            ("ana", MarkKind::Note, 1.0),
            ("ana", MarkKind::Note, 9.9),
            ("bo", MarkKind::Note, 5.0),
            ("cy", MarkKind::Note, 0.0),
            ("ana", MarkKind::Drawing, 15.0),
            ("bo", MarkKind::Bookmark, 12.0),
        ];
        let map = study_map(marks.clone(), 10, 3, k);
        assert_eq!(map.len(), 3);
        assert_eq!((map[0].notes, map[0].any), (Some(3), Some(3)));
        assert_eq!((map[1].drawings, map[1].bookmarks, map[1].any), (None, None, None));
        // One more student in bucket 1: `any` reaches 3, each kind stays below it and hidden.
        let mut more = marks;
        more.push(("dee", MarkKind::Snapshot, 19.0));
        let map = study_map(more.clone(), 10, 3, k);
        assert_eq!(map[1].any, Some(3));
        assert!(MarkKind::ALL.iter().all(|kind| map[1].count(*kind).is_none()));
        // At k − 1 the same count is hidden.
        let map = study_map(more, 10, 3, KAnonymity::new(4).expect("k"));
        assert_eq!((map[0].notes, map[0].any, map[1].any), (None, None, None));
    }

    #[test]
    fn marks_outside_the_video_are_left_out() {
        let k = KAnonymity::new(2).expect("k");
        let marks = [(1, f64::NAN), (2, -1.0), (3, 30.5), (4, 30.0), (5, 29.0), (6, 0.0), (7, 5.0)]
            .map(|(u, at)| (u, MarkKind::Bookmark, at));
        let map = study_map(marks, 10, 3, k);
        assert_eq!(map.iter().map(|b| b.bookmarks).collect::<Vec<_>>(), vec![Some(2), None, Some(2)]);
        assert_eq!(study_map(Vec::<(u8, MarkKind, f64)>::new(), 10, 10_000, k).len(), MAX_HEAT_BUCKETS as usize);
    }
}
