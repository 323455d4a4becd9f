//! Watched coverage (issue 29): which parts of a video a student actually watched, checked
//! against the wall clock, merged idempotently, and the class aggregates built from it (heatmap,
//! drop-off, completion, the k-anonymous study map). Pure rules: the adapter loads and stores the
//! bytes and counters, the edge maps [`CoverageError`] to HTTP.
//!
//! # Reports
//! The player sends a [`WatchReport`] every ~30 s and on pause/close: its page load's
//! [`PlayerSession`] (a client-made id), a per-session sequence number `seq` (0-based, below
//! [`MAX_SEQ`]) and 1–[`MAX_INTERVALS`] [`Interval`]s of the timeline played, each with its
//! playback rate. [`WatchReport::new`] checks what needs no video (finite numbers, `0 ≤ start <
//! end`, rate in [`MIN_RATE`]..=[`MAX_RATE`], at most [`MAX_REPORT_WALL_MS`] of wall time per
//! report, the wall time of an interval being `(end − start) / rate`, rounded to the
//! millisecond); [`apply`] checks the rest against the video's duration (`end ≤ duration +
//! 1 s`).
//!
//! # Coverage
//! A student's [`Coverage`] of a video is a set of 2-second buckets: bucket `i` spans `[2i,
//! 2i + 2)`, and an interval covers it when it contains the bucket's midpoint (`start ≤ 2i + 1 <
//! end`) and plays at least half of it (1 s): a sliver across a midpoint, charged next to no wall
//! time, covers nothing (it matters only for an interval inside one bucket; a longer one that
//! contains a midpoint always plays half that bucket). A video has `ceil(duration / 2)` buckets ([`Timeline`]). **Decision:** the last bucket
//! of a video whose duration is not a multiple of 2 s is shorter, and its midpoint is taken in
//! the middle of its real span (`(2i + duration) / 2`), so that watching to the end covers it (a
//! 61 s video's bucket 30 would otherwise need a play past 61 s).
//!
//! [`Coverage::encode`] writes a format byte then either the raw bitmap (LSB first) or the run
//! lengths (canonical LEB128 varints of alternating unwatched/watched runs, starting with an
//! unwatched run that may be 0), whichever is smaller (the bitmap on a tie). The bitmap bounds it:
//! a 10-hour lecture (18,000 buckets) is at most 2,251 bytes. [`Coverage::decode`] accepts only
//! what `encode` writes (no padding bits, no empty runs, no overlong varints, no trailing bytes,
//! runs only when smaller), so `encode(decode(b)) == b`, and refuses anything else with an error.
//!
//! # The session ledger (anti-cheat and idempotency)
//! Kept with the coverage ([`StudentCoverage`]): per player session, when it opened (server
//! clock), the wall time its reports claimed so far, and the set of seqs seen. Rules, in order:
//! - a seq already seen is a replay: [`Applied::Replay`], nothing changes;
//! - a session's first report opens it at `now − claim`; when [`KEPT_SESSIONS`] are kept and the
//!   new one opened before all of them, or the session was evicted before, it is
//!   [`CoverageError::Stale`];
//! - a later report must fit the clock: `claimed + claim ≤ (now − opened) + CLOCK_SLACK_MS`, else
//!   [`CoverageError::FasterThanTheClock`] and nothing changes. **Decision:** a *late* report (a
//!   seq below one already seen, e.g. seq 2 arriving after seq 3) was played before the session's
//!   estimated opening, so its allowance gets [`REORDER_CREDIT_MS`] (one report's worth) more;
//!   the credit is a bound on the session's total, so it cannot be spent twice;
//! - **Decision (new-session spam):** a client can make a fresh session id per report, and the
//!   first report of a session always fits its own clock. So every report also spends its claim
//!   from one budget for the student's video ([`SessionLedger::budget_at`]): a token bucket that
//!   fills at `MAX_PARALLEL_PLAYERS` ms per ms of the server's clock up to [`BUDGET_CAP_MS`] (two
//!   full reports and the slack). One player at a time (or two side by side) never empties it; a
//!   burst of fresh sessions, evicted sessions or reordered reports frees nothing, so nothing
//!   claims more than twice real time after the first 250 s.
//!
//! Sessions are kept by a 64-bit fingerprint (FNV-1a of the id), not the id; the fingerprints of
//! the last [`EVICTED_KEPT`] evicted sessions are kept too, so a late or replayed report of an
//! evicted session is stale rather than counted again. [`SessionLedger::encode`] writes compact
//! bytes (a few dozen per session; at most about 5 KiB) and [`SessionLedger::decode`] reads them
//! back strictly, like the coverage.
//!
//! # Heatmap, drop-off, completion
//! Heat buckets are [`heat_bucket_seconds`] long (a multiple of 2 s, at least 10 s, at most
//! [`MAX_HEAT_BUCKETS`] per video), grouped [`HEAT_CHUNK`] per chunk (one counter item per chunk
//! and shard for the adapter). [`Merged::heat_deltas`] turns a merge into `ADD` deltas: `distinct`
//! +1 where the student watched a heat bucket for the first time, `views` +1 per interval per heat
//! bucket it covers. [`Heatmap::build`] reads the summed counters back. **Decision (drop-off):**
//! the counters hold distinct students per heat bucket, not each student's last bucket, so
//! `dropoff[i] = max(distinct[j] for j ≥ i) / starters`: exact when students watch from the start
//! and leave (the classic retention curve), a lower bound of "share still watching at or after
//! `i`" when they skip around; always non-increasing and within `0..=1`. `starters` is a counter
//! the adapter adds 1 to on [`Merged::started`]. Completion is `percent ≥ threshold`
//! ([`CompletionThreshold`], 90 by default).
//!
//! # Study map
//! [`study_map`] counts distinct students per heat bucket and kind of mark, showing a count only
//! when at least k ([`KAnonymity`], 5 by default) students did it; the `any` total follows the
//! same rule, and a kind below k stays hidden even when `any` is shown.

mod bits;
mod heat;
mod ledger;
mod merge;
mod report;
mod study;
mod watched;

#[cfg(test)]
mod tests;

pub use heat::{
    CompletionThreshold, HeatBucket, HeatChunk, HeatCounter, HeatDelta, Heatmap, completion, heat_bucket_seconds,
    heat_buckets, heat_chunk, heat_chunk_buckets, heat_chunks,
};
pub use ledger::{SessionEntry, SessionLedger};
pub use merge::{Applied, Merged, StudentCoverage, apply};
pub use report::{Interval, PlayerSession, WatchReport};
pub use study::{KAnonymity, MarkKind, StudyBucket, study_map};
pub use watched::{Coverage, Timeline};

/// The coverage resolution, in seconds.
pub const BUCKET_SECONDS: u32 = 2;
/// The longest video covered: 24 hours (as [`crate::types::Seconds::MAX`]).
pub const MAX_DURATION_S: f64 = 86_400.0;
/// The most coverage buckets a video has (24 hours).
pub const MAX_BUCKETS: u32 = 43_200;
/// The most intervals in one report.
pub const MAX_INTERVALS: usize = 64;
/// Sequence numbers are below this (per player session).
pub const MAX_SEQ: u32 = 4096;
/// The slowest playback rate reported.
pub const MIN_RATE: f64 = 0.25;
/// The fastest playback rate reported.
pub const MAX_RATE: f64 = 4.0;
/// How far past the video's duration an interval may end (players round up).
pub const END_TOLERANCE_S: f64 = 1.0;
/// The most wall time one report may claim, in milliseconds.
pub const MAX_REPORT_WALL_MS: i64 = 120_000;
/// What a session's claims may exceed its clock by (latency, clocks, rounding), per session.
pub const CLOCK_SLACK_MS: i64 = 10_000;
/// The extra allowance of a late (reordered) report: one report's worth.
pub const REORDER_CREDIT_MS: i64 = MAX_REPORT_WALL_MS;
/// How many players of one student may play at the same time before their claims are refused.
pub const MAX_PARALLEL_PLAYERS: i64 = 2;
/// The most wall time all reports of a student's video may claim at once: two players' full
/// reports and the slack. The budget refills at [`MAX_PARALLEL_PLAYERS`] ms per ms.
pub const BUDGET_CAP_MS: i64 = MAX_PARALLEL_PLAYERS * MAX_REPORT_WALL_MS + CLOCK_SLACK_MS;
/// How many player sessions a student's ledger keeps (the most recently opened).
pub const KEPT_SESSIONS: usize = 8;
/// How many evicted sessions' fingerprints the ledger keeps.
pub const EVICTED_KEPT: usize = 32;
/// The shortest heat bucket, in seconds.
pub const MIN_HEAT_BUCKET_SECONDS: u32 = 10;
/// The most heat buckets a video has.
pub const MAX_HEAT_BUCKETS: u32 = 360;
/// Heat buckets per chunk (per counter item).
pub const HEAT_CHUNK: u32 = 30;

/// Why a report, a setting or stored bytes were refused. The client's mistakes
/// ([`CoverageError::is_client_error`]) are a 422 (or 409 for [`CoverageError::Stale`] and 429-like
/// [`CoverageError::FasterThanTheClock`], as the edge decides); [`CoverageError::Duration`],
/// [`CoverageError::Buckets`] and [`CoverageError::Corrupt`] are the server's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoverageError {
    #[error("the player session id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")]
    Session,
    #[error("the sequence number {seq} is not below {MAX_SEQ}")]
    Seq { seq: u32 },
    #[error("a report holds 1 to {MAX_INTERVALS} intervals, not {count}")]
    IntervalCount { count: usize },
    #[error("interval {index}: its start, end or rate is not a finite number")]
    NotFinite { index: usize },
    #[error("interval {index}: it starts before 0")]
    BeforeZero { index: usize },
    #[error("interval {index}: it does not end after its start")]
    Empty { index: usize },
    #[error("interval {index}: it ends at {end} s, past the video's end ({duration} s)")]
    PastTheEnd { index: usize, end: f64, duration: f64 },
    #[error("interval {index}: the playback rate {rate} is outside {MIN_RATE}..={MAX_RATE}")]
    Rate { index: usize, rate: f64 },
    #[error("the report claims {claimed_s} s of playing, more than {MAX_REPORT_WALL_MS} ms")]
    ReportTooLong { claimed_s: f64 },
    #[error("the reports claim {claimed_ms} ms of playing where the clock allows {allowed_ms} ms")]
    FasterThanTheClock { claimed_ms: i64, allowed_ms: i64 },
    #[error("the player session is older than those kept, or was dropped")]
    Stale,
    #[error("the video's duration {duration_s} s is not within 0..={MAX_DURATION_S} s")]
    Duration { duration_s: f64 },
    #[error("a coverage holds 1 to {MAX_BUCKETS} buckets, not {buckets}")]
    Buckets { buckets: u32 },
    #[error("stored {what} unreadable: {why}")]
    Corrupt { what: &'static str, why: &'static str },
    #[error("the completion threshold must be 1 to 100 percent, not {0}")]
    Threshold(u32),
    #[error("k must be 2 to 100 students, not {0}")]
    KAnonymity(u32),
}

impl CoverageError {
    /// Whether the caller's request or setting is at fault (rather than stored data or the
    /// video's duration).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Self::Duration { .. } | Self::Buckets { .. } | Self::Corrupt { .. })
    }
}
