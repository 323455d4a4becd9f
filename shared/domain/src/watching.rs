//! Watching a video (issue 29): the port that keeps a student's watched coverage and the class's
//! heat counters, and the rule that turns a player's report into one write. The coverage rules
//! themselves (buckets, the session ledger, heat deltas) are [`crate::coverage`]'s; the store
//! keeps their bytes on the student's progress item and the counters on items of the video.

use async_trait::async_trait;

use crate::{
    coverage::{
        Applied, CompletionThreshold, Coverage, CoverageError, HeatChunk, HeatCounter, SessionLedger, StudentCoverage,
        Timeline, WatchReport, apply,
    },
    error::StoreError,
    spaces::Role,
    types::{SpaceId, UserId, VideoId},
};

/// The heat counters of a video are spread over this many items per chunk (a student always adds
/// to the same one, [`shard_of`]): 500 students reporting every 30 s make about two writes a
/// second per item, far below a partition's 1,000 write units.
pub const HEAT_SHARDS: u8 = 8;

/// The shard a student's heat counts go to: the same one for every report (FNV-1a of the id).
pub fn shard_of(user: &UserId) -> u8 {
    let mut h: u32 = 0x811c_9dc5;
    for b in user.to_string().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    // The remainder is below HEAT_SHARDS, so it fits a u8.
    u8::try_from(h % u32::from(HEAT_SHARDS)).unwrap_or(0)
}

/// A student's coverage of a video as stored, on their progress item.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredWatch {
    pub space_id: SpaceId,
    /// The encoded [`Coverage`] and [`SessionLedger`]; `None` before the first report.
    pub coverage: Option<Vec<u8>>,
    pub ledger: Option<Vec<u8>>,
    /// The duration the coverage was cut for (its bucket count).
    pub duration_s: Option<f64>,
    /// Raised by every report taken: the next write's condition (0 before the first).
    pub version: u64,
    /// When the video was first completed (by coverage, or by a progress write of 100 before
    /// completion was watched).
    pub completed_at: Option<String>,
    /// The coverage's percent as last written (`None` before the first report).
    pub percent: Option<u8>,
    /// What the course's gradebook last took for this video (`ltiPosted`; `None`: nothing).
    pub lti_posted: Option<u8>,
}

impl StoredWatch {
    /// A progress item of the space's video with nothing reported yet.
    pub fn unreported(space: &SpaceId) -> Self {
        Self {
            space_id: space.clone(),
            coverage: None,
            ledger: None,
            duration_s: None,
            version: 0,
            completed_at: None,
            percent: None,
            lti_posted: None,
        }
    }

    /// The coverage and ledger, cut for `timeline` (resized when the video's length changed).
    pub fn state(&self, timeline: &Timeline) -> Result<StudentCoverage, CoverageError> {
        let (Some(bytes), Some(duration)) = (&self.coverage, self.duration_s) else {
            return Ok(StudentCoverage::new(timeline));
        };
        let stored = Timeline::new(duration)?;
        let coverage = Coverage::decode(bytes, stored.buckets())?.resized(timeline.buckets())?;
        let ledger = match &self.ledger {
            Some(b) => SessionLedger::decode(b)?,
            None => SessionLedger::default(),
        };
        Ok(StudentCoverage { coverage, ledger })
    }
}

/// One report taken: what the store writes, all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchWrite {
    pub video: VideoId,
    pub user: UserId,
    pub space_id: SpaceId,
    /// The condition: the version read (the write raises it by one).
    pub version: u64,
    pub coverage: Vec<u8>,
    pub ledger: Vec<u8>,
    pub duration_s: f64,
    pub percent: u8,
    pub watched_seconds: u32,
    /// Completion reached by this report: the progress item's `completedAt` is stamped (only if
    /// it has none) and the member's standing counts one more completed video.
    pub completes: bool,
    /// The student watched this video for the first time: the video's starters count one more.
    pub started: bool,
    pub shard: u8,
    pub heat: Vec<HeatChunk>,
    pub now: String,
}

/// Where coverage and heat counters are kept.
#[async_trait]
pub trait WatchStore: Send + Sync {
    /// The student's coverage of the video, read strongly consistent (the write's condition is
    /// its version); `None` when they have no progress item (they never played it: the caller
    /// checks their access and creates it).
    async fn watch(&self, video: &VideoId, user: &UserId) -> Result<Option<StoredWatch>, StoreError>;
    /// Writes a report in one transaction: the coverage (on the condition that its version is
    /// still `write.version`: `Condition(Guard::Item)` otherwise, read again and retry), the
    /// member's standing (the membership's existence: `Condition(Guard::Grant)` when they were
    /// removed), and the heat counters.
    async fn save_watch(&self, write: &WatchWrite) -> Result<(), StoreError>;
    /// The video's heat counters, summed over shards, and its starters.
    async fn heat(&self, video: &VideoId) -> Result<(Vec<HeatCounter>, u64), StoreError>;
    /// The member's role and the LTI course subject their membership came for (`ltiSub`), read
    /// only when a report raised a completion a gradebook may take; `None` when not a member.
    async fn graded_as(&self, space: &SpaceId, user: &UserId) -> Result<Option<(Role, Option<String>)>, StoreError>;
}

/// What a report changed, or found when it was a replay.
#[derive(Debug, Clone, PartialEq)]
pub enum Reported {
    /// A report seen before: nothing written.
    Replay(StudentCoverage),
    /// A report to write.
    Write(Box<WatchWrite>, StudentCoverage),
}

/// Takes `report` into the stored coverage for a video of `duration_s`: a replay changes
/// nothing; otherwise the write that stores it (the caller runs it and, on a lost race, calls
/// again with what it reads then).
#[allow(clippy::too_many_arguments)]
pub fn take_report(
    stored: &StoredWatch,
    video: &VideoId,
    user: &UserId,
    report: &WatchReport,
    duration_s: f64,
    threshold: CompletionThreshold,
    now_ms: i64,
    now: &str,
) -> Result<Reported, CoverageError> {
    let timeline = Timeline::new(duration_s)?;
    let mut state = stored.state(&timeline)?;
    let merged = match apply(&mut state, report, duration_s, now_ms)? {
        Applied::Replay => return Ok(Reported::Replay(state)),
        Applied::Merged(merged) => merged,
    };
    let write = WatchWrite {
        video: video.clone(),
        user: user.clone(),
        space_id: stored.space_id.clone(),
        version: stored.version,
        coverage: state.coverage.encode(),
        ledger: state.ledger.encode(),
        duration_s,
        percent: state.coverage.percent(),
        watched_seconds: state.coverage.watched_seconds(),
        completes: stored.completed_at.is_none() && state.coverage.is_complete(threshold),
        started: merged.started,
        shard: shard_of(user),
        heat: merged.heat_deltas(),
        now: now.to_owned(),
    };
    Ok(Reported::Write(Box::new(write), state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::{Interval, PlayerSession};

    fn ids() -> (VideoId, UserId) {
        (VideoId::generate(), UserId::generate())
    }

    fn report(seq: u32, intervals: &[(f64, f64)]) -> WatchReport {
        let intervals = intervals.iter().map(|&(start, end)| Interval { start, end, rate: 1.0 }).collect();
        WatchReport::new(PlayerSession::parse("page-1").expect("a session"), seq, intervals).expect("a report")
    }

    fn fresh(space: &SpaceId) -> StoredWatch {
        StoredWatch::unreported(space)
    }

    #[test]
    fn a_report_becomes_one_write_and_its_replay_none() {
        let (video, user) = ids();
        let space = SpaceId::generate();
        let threshold = CompletionThreshold::default();
        let now_ms = 1_000_000_000;
        let first =
            take_report(&fresh(&space), &video, &user, &report(0, &[(0.0, 30.0)]), 100.0, threshold, now_ms, "t")
                .expect("taken");
        let Reported::Write(write, _) = first else { panic!("a write: {first:?}") };
        assert_eq!((write.percent, write.watched_seconds, write.started, write.completes), (30, 30, true, false));
        assert_eq!(write.version, 0);
        assert_eq!(write.shard, shard_of(&user));
        assert!(!write.heat.is_empty());
        // Stored as written, the same report again is a replay.
        let stored = StoredWatch {
            coverage: Some(write.coverage.clone()),
            ledger: Some(write.ledger.clone()),
            duration_s: Some(100.0),
            version: 1,
            ..fresh(&space)
        };
        let again = take_report(&stored, &video, &user, &report(0, &[(0.0, 30.0)]), 100.0, threshold, now_ms + 5, "t")
            .expect("taken");
        assert!(matches!(again, Reported::Replay(_)), "{again:?}");
        // The rest of the lecture, 70 s later: complete (90 % by default), once.
        let rest =
            take_report(&stored, &video, &user, &report(1, &[(30.0, 100.0)]), 100.0, threshold, now_ms + 70_000, "t")
                .expect("taken");
        let Reported::Write(rest, _) = rest else { panic!("a write") };
        assert_eq!((rest.percent, rest.completes, rest.started, rest.version), (100, true, false, 1));
        let done = StoredWatch { completed_at: Some("earlier".into()), ..stored };
        let Reported::Write(after, _) =
            take_report(&done, &video, &user, &report(1, &[(30.0, 100.0)]), 100.0, threshold, now_ms + 70_000, "t")
                .expect("taken")
        else {
            panic!("a write")
        };
        assert!(!after.completes, "completion is counted once");
    }

    #[test]
    fn shards_spread_and_stay() {
        let users: Vec<UserId> = (0..400).map(|_| UserId::generate()).collect();
        let mut seen = [0u32; HEAT_SHARDS as usize];
        for u in &users {
            assert_eq!(shard_of(u), shard_of(u));
            seen[usize::from(shard_of(u))] += 1;
        }
        assert!(seen.iter().all(|&n| n > 20), "{seen:?}");
    }
}
