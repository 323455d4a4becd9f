//! A video's 2-second buckets ([`Timeline`]) and the set a student watched ([`Coverage`]).

use std::ops::Range;

use super::{BUCKET_SECONDS, CompletionThreshold, CoverageError, MAX_BUCKETS, MAX_DURATION_S, bits::Bits, heat};

/// A video's duration and its coverage buckets, `ceil(duration / 2)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    duration_s: f64,
    buckets: u32,
}

impl Timeline {
    /// A duration within `0 < d ≤` [`MAX_DURATION_S`].
    pub fn new(duration_s: f64) -> Result<Self, CoverageError> {
        if !(duration_s.is_finite() && duration_s > 0.0 && duration_s <= MAX_DURATION_S) {
            return Err(CoverageError::Duration { duration_s });
        }
        let buckets = (duration_s / f64::from(BUCKET_SECONDS)).ceil() as u32;
        Ok(Self { duration_s, buckets: buckets.clamp(1, MAX_BUCKETS) })
    }

    pub fn duration_s(&self) -> f64 {
        self.duration_s
    }

    pub fn buckets(&self) -> u32 {
        self.buckets
    }

    /// The length of its heat buckets ([`heat::heat_bucket_seconds`]).
    pub fn heat_bucket_seconds(&self) -> u32 {
        heat::heat_bucket_seconds(self.duration_s)
    }

    /// How many heat buckets it has.
    pub fn heat_buckets(&self) -> u32 {
        heat::heat_buckets(self.duration_s)
    }

    /// The middle of bucket `i`: `2i + 1`, except for a last bucket cut short by the duration,
    /// whose middle is that of its real span.
    fn midpoint(&self, i: u32) -> f64 {
        let start = f64::from(i * BUCKET_SECONDS);
        let end = (start + f64::from(BUCKET_SECONDS)).min(self.duration_s);
        (start + end) / 2.0
    }

    /// The first bucket whose midpoint is at or after `x` (`buckets` when none is).
    fn first_from(&self, x: f64) -> u32 {
        let last = self.buckets - 1;
        // For every bucket but the last, the midpoint is 2i + 1.
        let i = ((x - 1.0) / f64::from(BUCKET_SECONDS)).ceil();
        if i < f64::from(last) {
            return i.max(0.0) as u32;
        }
        if self.midpoint(last) >= x { last } else { self.buckets }
    }

    /// The span `[start, end)` of bucket `i` (the last one cut short by the duration).
    fn span(&self, i: u32) -> (f64, f64) {
        let start = f64::from(i * BUCKET_SECONDS);
        (start, (start + f64::from(BUCKET_SECONDS)).min(self.duration_s))
    }

    /// Whether `[start, end)` plays at least half of bucket `i`.
    fn half_played(&self, i: u32, start: f64, end: f64) -> bool {
        let (from, to) = self.span(i);
        end.min(to) - start.max(from) >= (to - from) / 2.0
    }

    /// The buckets an interval covers: those whose midpoint is in `[start, end)` and of which it
    /// plays at least half (1 s of a 2 s bucket). Only an interval's first and last bucket can be
    /// played in part, and the half rule matters only for an interval inside one bucket: a
    /// sliver across a midpoint (1 ms, charged 1 ms of wall time) covers nothing.
    pub fn covered(&self, start: f64, end: f64) -> Range<u32> {
        let mut from = self.first_from(start);
        let mut to = self.first_from(end).max(from);
        if from < to && !self.half_played(from, start, end) {
            from += 1;
        }
        if from < to && !self.half_played(to - 1, start, end) {
            to -= 1;
        }
        from..to
    }
}

/// The buckets of a video a student watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    bits: Bits,
}

impl Coverage {
    /// Nothing watched of `buckets` (1 to [`MAX_BUCKETS`]).
    pub fn new(buckets: u32) -> Result<Self, CoverageError> {
        if !(1..=MAX_BUCKETS).contains(&buckets) {
            return Err(CoverageError::Buckets { buckets });
        }
        Ok(Self { bits: Bits::new(buckets) })
    }

    /// Nothing watched of the timeline.
    pub fn empty(timeline: &Timeline) -> Self {
        Self { bits: Bits::new(timeline.buckets()) }
    }

    pub fn buckets(&self) -> u32 {
        self.bits.len()
    }

    pub fn watched_buckets(&self) -> u32 {
        self.bits.count()
    }

    pub fn is_watched(&self, bucket: u32) -> bool {
        self.bits.get(bucket)
    }

    /// Whether any bucket of `buckets` was watched.
    pub fn any_watched(&self, buckets: Range<u32>) -> bool {
        self.bits.any_in(buckets)
    }

    /// The exact share watched, `watched / buckets`, in `0..=1`.
    pub fn ratio(&self) -> f64 {
        f64::from(self.watched_buckets()) / f64::from(self.buckets().max(1))
    }

    /// The share watched in percent, rounded down (100 only when every bucket was watched).
    pub fn percent(&self) -> u8 {
        let p = u64::from(self.watched_buckets()) * 100 / u64::from(self.buckets().max(1));
        p.min(100) as u8
    }

    /// The time watched at the coverage's resolution: 2 s per watched bucket (a short last
    /// bucket counts 2 s too).
    pub fn watched_seconds(&self) -> u32 {
        self.watched_buckets() * BUCKET_SECONDS
    }

    /// Whether the share watched reaches the threshold.
    pub fn is_complete(&self, threshold: CompletionThreshold) -> bool {
        heat::completion(self.percent(), threshold)
    }

    /// The watched buckets as ordered, disjoint, non-adjacent ranges.
    pub fn watched_ranges(&self) -> Vec<Range<u32>> {
        self.bits.ones()
    }

    /// Marks `buckets` watched (clamped to the video); the ranges that were not watched before.
    pub fn cover(&mut self, buckets: Range<u32>) -> Vec<Range<u32>> {
        self.bits.set_range(buckets)
    }

    /// The same coverage over `buckets` (cut, or padded with unwatched buckets): for a video
    /// whose duration changed.
    pub fn resized(&self, buckets: u32) -> Result<Self, CoverageError> {
        if !(1..=MAX_BUCKETS).contains(&buckets) {
            return Err(CoverageError::Buckets { buckets });
        }
        Ok(Self { bits: self.bits.resized(buckets) })
    }

    /// Compact bytes (see the module's docs): at most `1 + ceil(buckets / 8)`.
    pub fn encode(&self) -> Vec<u8> {
        self.bits.encode()
    }

    /// Reads what [`Coverage::encode`] wrote for `buckets`; any other bytes are an error.
    pub fn decode(bytes: &[u8], buckets: u32) -> Result<Self, CoverageError> {
        if !(1..=MAX_BUCKETS).contains(&buckets) {
            return Err(CoverageError::Buckets { buckets });
        }
        Bits::decode(bytes, buckets)
            .map(|bits| Self { bits })
            .map_err(|why| CoverageError::Corrupt { what: "coverage", why })
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init, reason = "bucket ranges are the values compared, not ranges to collect")]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_covered_by_their_midpoint() {
        let t = Timeline::new(60.0).expect("timeline");
        assert_eq!(t.buckets(), 30);
        assert_eq!(t.covered(0.0, 2.0), 0..1);
        assert_eq!(t.covered(0.0, 1.0), 0..0, "the midpoint 1 is not before the end 1");
        assert!(t.covered(1.0, 1.01).is_empty(), "a sliver across the midpoint: less than half the bucket");
        assert!(t.covered(0.999, 1.001).is_empty(), "1 ms, charged 1 ms: nothing");
        assert_eq!(t.covered(0.5, 1.5), 0..1, "half the bucket, across its midpoint");
        assert_eq!(t.covered(1.0, 2.0), 0..1, "the midpoint is the start, and half is played");
        assert_eq!(t.covered(1.5, 3.2), 1..2, "0.5 s of bucket 0 (no), bucket 1's midpoint and 1.2 s of it (yes)");
        assert_eq!(t.covered(1.01, 3.0), 1..1);
        assert_eq!(t.covered(1.01, 3.01), 1..2);
        assert_eq!(t.covered(10.0, 20.0), 5..10);
        assert_eq!(t.covered(0.0, 60.0), 0..30);
        assert_eq!(t.covered(0.0, 61.0), 0..30);
        assert_eq!(t.covered(59.5, 61.0), 30..30);
    }

    #[test]
    fn a_short_last_bucket_is_covered_by_watching_to_the_end() {
        let t = Timeline::new(61.0).expect("timeline");
        assert_eq!(t.buckets(), 31);
        assert_eq!(t.covered(0.0, 61.0), 0..31, "the last bucket [60, 61) has its middle at 60.5");
        assert_eq!(t.covered(60.4, 61.0), 30..31);
        assert_eq!(t.covered(60.6, 62.0), 31..31);
        assert_eq!(t.covered(0.0, 60.5), 0..30);
        let tiny = Timeline::new(0.5).expect("timeline");
        assert_eq!((tiny.buckets(), tiny.covered(0.0, 0.5)), (1, 0..1));
        assert_eq!(tiny.covered(0.3, 0.5), 1..1);
    }

    #[test]
    fn durations_are_positive_and_at_most_a_day() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 86_400.5] {
            assert!(matches!(Timeline::new(bad), Err(CoverageError::Duration { .. })), "{bad}");
        }
        assert_eq!(Timeline::new(86_400.0).map(|t| t.buckets()), Ok(MAX_BUCKETS));
        assert_eq!(Timeline::new(36_000.0).map(|t| t.buckets()), Ok(18_000));
    }

    #[test]
    fn percent_rounds_down_and_seconds_count_buckets() {
        let mut c = Coverage::new(3).expect("coverage");
        assert_eq!(c.cover(0..2), vec![0..2]);
        assert_eq!((c.percent(), c.watched_seconds()), (66, 4));
        assert!((c.ratio() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.cover(1..9), vec![2..3]);
        assert_eq!(c.percent(), 100);
        assert_eq!(c.resized(5).map(|c| (c.watched_ranges(), c.percent())), Ok((vec![0..3], 60)));
        assert!(Coverage::new(0).is_err() && Coverage::new(MAX_BUCKETS + 1).is_err());
    }
}
