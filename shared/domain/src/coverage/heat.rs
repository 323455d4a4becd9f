//! The class's heatmap: heat buckets, the counter deltas a merge adds, the heatmap and drop-off
//! read back from the summed counters, and completion.

use std::{collections::BTreeMap, ops::Range};

use serde::{Deserialize, Serialize};

use super::{
    BUCKET_SECONDS, CoverageError, HEAT_CHUNK, MAX_DURATION_S, MAX_HEAT_BUCKETS, MIN_HEAT_BUCKET_SECONDS, Timeline,
};

/// The coverage buckets of a duration (0 for one that is not a video's).
fn coverage_buckets(duration_s: f64) -> u32 {
    // Not `f64::min`, which would make a NaN the longest video.
    let d = if duration_s > MAX_DURATION_S { MAX_DURATION_S } else { duration_s };
    Timeline::new(d).map_or(0, |t| t.buckets())
}

/// The heat bucket length of a video: the shortest multiple of 2 s, at least 10 s, that gives it
/// at most [`MAX_HEAT_BUCKETS`] buckets (10 s up to an hour, 12 s up to 72 minutes, 100 s for
/// 10 hours). A duration that is not a video's (not positive, not finite) gets 10 s; one past
/// 24 hours that of 24 hours.
pub fn heat_bucket_seconds(duration_s: f64) -> u32 {
    let buckets = coverage_buckets(duration_s);
    let per_heat = buckets.div_ceil(MAX_HEAT_BUCKETS).max(MIN_HEAT_BUCKET_SECONDS / BUCKET_SECONDS);
    per_heat * BUCKET_SECONDS
}

/// How many heat buckets a video has (0 for a duration that is not a video's).
pub fn heat_buckets(duration_s: f64) -> u32 {
    coverage_buckets(duration_s).div_ceil(heat_bucket_seconds(duration_s) / BUCKET_SECONDS)
}

/// The chunk holding a heat bucket.
pub fn heat_chunk(bucket: u32) -> u32 {
    bucket / HEAT_CHUNK
}

/// The heat buckets of a chunk.
pub fn heat_chunk_buckets(chunk: u32) -> Range<u32> {
    chunk.saturating_mul(HEAT_CHUNK)..chunk.saturating_add(1).saturating_mul(HEAT_CHUNK)
}

/// The chunks of a video (at most 12).
pub fn heat_chunks(duration_s: f64) -> Range<u32> {
    0..heat_buckets(duration_s).div_ceil(HEAT_CHUNK)
}

/// What one merge adds to one heat bucket's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatDelta {
    pub bucket: u32,
    /// Distinct students: 0 or 1.
    pub distinct: u32,
    /// Views (an interval's pass over the bucket).
    pub views: u32,
}

/// The deltas of one chunk (one counter item per shard), ordered by bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatChunk {
    pub chunk: u32,
    pub deltas: Vec<HeatDelta>,
}

/// Joins `(bucket, delta)` lists into deltas grouped by chunk, ordered, without zero deltas.
pub(crate) fn group_by_chunk(distinct: &[(u32, u32)], views: &[(u32, u32)]) -> Vec<HeatChunk> {
    let mut by_bucket = BTreeMap::<u32, (u32, u32)>::new();
    for (b, d) in distinct {
        by_bucket.entry(*b).or_default().0 += d;
    }
    for (b, v) in views {
        by_bucket.entry(*b).or_default().1 += v;
    }
    let mut chunks: Vec<HeatChunk> = Vec::new();
    for (bucket, (distinct, views)) in by_bucket.into_iter().filter(|(_, (d, v))| d + v > 0) {
        let delta = HeatDelta { bucket, distinct, views };
        match chunks.last_mut() {
            Some(c) if c.chunk == heat_chunk(bucket) => c.deltas.push(delta),
            _ => chunks.push(HeatChunk { chunk: heat_chunk(bucket), deltas: vec![delta] }),
        }
    }
    chunks
}

/// One heat bucket's counters as read (summed over shards by the adapter, or here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatCounter {
    pub bucket: u32,
    pub distinct: u64,
    pub views: u64,
}

/// One heat bucket of the heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeatBucket {
    pub start_s: u32,
    /// Distinct students who watched a part of it.
    pub distinct: u64,
    /// Views, rewatches included.
    pub views: u64,
}

/// A video's heatmap and drop-off curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Heatmap {
    pub bucket_seconds: u32,
    pub buckets: Vec<HeatBucket>,
    /// Per heat bucket, in `0..=1`, non-increasing: `max(distinct[j], j ≥ i) / starters` (see the
    /// module's docs for what it is and its limit).
    pub dropoff: Vec<f64>,
    /// Students who watched anything of the video.
    pub starters: u64,
}

impl Heatmap {
    /// From the counters (rows of one bucket are summed; rows past the video are ignored) and the
    /// number of students who watched anything.
    pub fn build(
        duration_s: f64,
        counters: impl IntoIterator<Item = HeatCounter>,
        starters: u64,
    ) -> Result<Self, CoverageError> {
        let timeline = Timeline::new(duration_s)?;
        let bucket_seconds = timeline.heat_bucket_seconds();
        let n = timeline.heat_buckets();
        let mut buckets: Vec<HeatBucket> =
            (0..n).map(|i| HeatBucket { start_s: i * bucket_seconds, distinct: 0, views: 0 }).collect();
        for c in counters {
            if let Some(b) = buckets.get_mut(c.bucket as usize) {
                b.distinct = b.distinct.saturating_add(c.distinct);
                b.views = b.views.saturating_add(c.views);
            }
        }
        let mut dropoff = vec![0.0; buckets.len()];
        let mut still: u64 = 0;
        for (i, b) in buckets.iter().enumerate().rev() {
            still = still.max(b.distinct);
            if starters > 0 {
                dropoff[i] = (still as f64 / starters as f64).min(1.0);
            }
        }
        Ok(Self { bucket_seconds, buckets, dropoff, starters })
    }
}

/// The share of a video to watch for it to count as completed, 1–100 % (90 by default, a space
/// setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32")]
pub struct CompletionThreshold(u8);

impl TryFrom<u32> for CompletionThreshold {
    type Error = CoverageError;

    fn try_from(percent: u32) -> Result<Self, Self::Error> {
        Self::new(percent)
    }
}

impl CompletionThreshold {
    pub const DEFAULT: Self = Self(90);

    pub fn new(percent: u32) -> Result<Self, CoverageError> {
        match u8::try_from(percent) {
            Ok(p) if (1..=100).contains(&p) => Ok(Self(p)),
            _ => Err(CoverageError::Threshold(percent)),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for CompletionThreshold {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Whether a coverage of `percent` (rounded down) counts as completed.
pub fn completion(percent: u8, threshold: CompletionThreshold) -> bool {
    percent >= threshold.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_buckets_are_at_least_ten_seconds_and_at_most_360() {
        let cases = [
            (1.0, 10, 1),
            (60.0, 10, 6),
            (61.0, 10, 7),
            (3600.0, 10, 360),
            (3601.0, 12, 301),
            (36_000.0, 100, 360),
            (86_400.0, 240, 360),
            (f64::NAN, 10, 0),
            (-5.0, 10, 0),
            (1e9, 240, 360),
        ];
        for (d, seconds, count) in cases {
            assert_eq!((heat_bucket_seconds(d), heat_buckets(d)), (seconds, count), "{d}");
        }
        for d in (1..=86_400).step_by(7).map(f64::from).chain([0.1, 7_200.5, 43_199.9]) {
            let s = heat_bucket_seconds(d);
            let n = heat_buckets(d);
            assert!(s.is_multiple_of(2) && s >= 10 && n <= 360 && f64::from(n * s) >= d, "{d}: {s} s × {n}");
            assert!(s == 10 || f64::from((s - 2) * 360) < d, "{d}: {s} s is not the shortest");
        }
        assert_eq!(heat_chunks(3600.0), 0..12);
        assert_eq!(heat_chunks(61.0), 0..1);
        assert_eq!((heat_chunk(29), heat_chunk(30), heat_chunk_buckets(2)), (0, 1, 60..90));
    }

    #[test]
    fn deltas_are_grouped_by_chunk() {
        let chunks = group_by_chunk(&[(3, 1), (31, 1)], &[(3, 2), (4, 1), (31, 1), (95, 1)]);
        let flat: Vec<(u32, u32, u32, u32)> =
            chunks.iter().flat_map(|c| c.deltas.iter().map(|d| (c.chunk, d.bucket, d.distinct, d.views))).collect();
        assert_eq!(flat, vec![(0, 3, 1, 2), (0, 4, 0, 1), (1, 31, 1, 1), (3, 95, 0, 1)]);
        assert_eq!(chunks.len(), 3);
    }

    #[test]
    fn dropoff_is_the_share_still_watching() {
        let counters = [(0, 10, 12), (1, 8, 8), (2, 4, 5), (2, 1, 1), (3, 2, 2), (5, 3, 3), (99, 7, 7)]
            .map(|(bucket, distinct, views)| HeatCounter { bucket, distinct, views });
        let h = Heatmap::build(60.0, counters, 10).expect("heatmap");
        assert_eq!(h.bucket_seconds, 10);
        assert_eq!(
            h.buckets.iter().map(|b| (b.start_s, b.distinct)).collect::<Vec<_>>(),
            [(0, 10), (10, 8), (20, 5), (30, 2), (40, 0), (50, 3)]
        );
        assert_eq!(h.dropoff, vec![1.0, 0.8, 0.5, 0.3, 0.3, 0.3]);
        assert_eq!(Heatmap::build(60.0, [], 0).map(|h| h.dropoff), Ok(vec![0.0; 6]));
        assert!(Heatmap::build(f64::NAN, [], 0).is_err());
    }

    #[test]
    fn completion_is_coverage_at_the_threshold() {
        assert_eq!(CompletionThreshold::default().get(), 90);
        assert!(completion(90, CompletionThreshold::DEFAULT) && !completion(89, CompletionThreshold::DEFAULT));
        assert!(CompletionThreshold::new(0).is_err() && CompletionThreshold::new(101).is_err());
        assert!(CompletionThreshold::new(256).is_err());
        assert!(completion(1, CompletionThreshold::new(1).expect("1 %")));
        assert!(!completion(99, CompletionThreshold::new(100).expect("100 %")));
    }
}
