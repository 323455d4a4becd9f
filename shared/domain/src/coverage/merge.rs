//! Merging a report into a student's coverage: the ledger decides, then the coverage takes the
//! union, and the merge says what changed for the class counters.

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Range,
};

use super::{
    BUCKET_SECONDS, Coverage, CoverageError, Timeline, WatchReport,
    heat::{HeatChunk, group_by_chunk},
    ledger::{Admission, SessionLedger},
};

/// What is kept per student and video: the coverage and the ledger of player sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentCoverage {
    pub coverage: Coverage,
    pub ledger: SessionLedger,
}

impl StudentCoverage {
    /// Nothing watched yet, no session.
    pub fn new(timeline: &Timeline) -> Self {
        Self { coverage: Coverage::empty(timeline), ledger: SessionLedger::default() }
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The report was seen before: nothing changed.
    Replay,
    /// The report was taken.
    Merged(Merged),
}

/// A report taken into the coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// Coverage buckets this student had not watched before, ordered and disjoint.
    pub newly_covered: Vec<Range<u32>>,
    /// Each interval's covered buckets, one range per interval in the report's order (empty for
    /// an interval too short to cover a midpoint).
    pub views: Vec<Range<u32>>,
    pub percent_before: u8,
    pub percent_after: u8,
    /// Whether this student had watched nothing of the video before and has now (add 1 to the
    /// video's count of starters).
    pub started: bool,
    /// The video's heat bucket length ([`super::heat_bucket_seconds`]).
    pub heat_bucket_seconds: u32,
    /// Heat buckets this student watched a part of for the first time, ordered.
    pub entered_heat: Vec<u32>,
}

impl Merged {
    /// Coverage buckets per heat bucket.
    fn per_heat(&self) -> u32 {
        (self.heat_bucket_seconds / BUCKET_SECONDS).max(1)
    }

    /// The `distinct` deltas: +1 for each heat bucket this student watched for the first time.
    pub fn heat_distinct(&self) -> Vec<(u32, u32)> {
        self.entered_heat.iter().map(|h| (*h, 1)).collect()
    }

    /// The `views` deltas: +1 per interval per heat bucket it covers a part of, ordered.
    pub fn heat_views(&self) -> Vec<(u32, u32)> {
        let k = self.per_heat();
        let mut counts = BTreeMap::<u32, u32>::new();
        for v in self.views.iter().filter(|v| !v.is_empty()) {
            for h in v.start / k..=(v.end - 1) / k {
                *counts.entry(h).or_default() += 1;
            }
        }
        counts.into_iter().collect()
    }

    /// Both kinds of delta, grouped by chunk: what the adapter adds to the counter items.
    pub fn heat_deltas(&self) -> Vec<HeatChunk> {
        group_by_chunk(&self.heat_distinct(), &self.heat_views())
    }
}

/// Takes `report` into `state`, for a video of `duration_s`, at `now_ms` by the server's clock.
///
/// The report is checked against the video, then the ledger: a replay answers [`Applied::Replay`]
/// and an error refuses the report; in both cases `state` is unchanged. A coverage of another
/// length than the video's (its duration changed) is resized first.
pub fn apply(
    state: &mut StudentCoverage,
    report: &WatchReport,
    duration_s: f64,
    now_ms: i64,
) -> Result<Applied, CoverageError> {
    let timeline = Timeline::new(duration_s)?;
    report.check_against(&timeline)?;
    let plan = match state.ledger.admit(report.session(), report.seq(), report.wall_ms(), now_ms)? {
        Admission::Replay => return Ok(Applied::Replay),
        Admission::Fresh(plan) => plan,
    };
    if state.coverage.buckets() != timeline.buckets() {
        state.coverage = state.coverage.resized(timeline.buckets())?;
    }
    let before = state.coverage.clone();
    let views: Vec<Range<u32>> = report.intervals().iter().map(|i| timeline.covered(i.start, i.end)).collect();
    let mut newly: Vec<Range<u32>> = Vec::new();
    for v in &views {
        newly.extend(state.coverage.cover(v.clone()));
    }
    newly.sort_by_key(|r| r.start);
    let heat_bucket_seconds = timeline.heat_bucket_seconds();
    let k = (heat_bucket_seconds / BUCKET_SECONDS).max(1);
    let entered_heat: Vec<u32> = newly
        .iter()
        .flat_map(|r| r.start / k..=r.end.saturating_sub(1) / k)
        .collect::<BTreeSet<u32>>()
        .into_iter()
        .filter(|h| !before.any_watched(h * k..(h + 1) * k))
        .collect();
    state.ledger.record(plan, report.seq(), report.wall_ms(), now_ms);
    Ok(Applied::Merged(Merged {
        newly_covered: merge_adjacent(newly),
        views,
        percent_before: before.percent(),
        percent_after: state.coverage.percent(),
        started: before.watched_buckets() == 0 && state.coverage.watched_buckets() > 0,
        heat_bucket_seconds,
        entered_heat,
    }))
}

/// Ordered ranges with touching neighbours joined.
fn merge_adjacent(sorted: Vec<Range<u32>>) -> Vec<Range<u32>> {
    let mut out: Vec<Range<u32>> = Vec::new();
    for r in sorted {
        match out.last_mut() {
            Some(last) if last.end >= r.start => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}
