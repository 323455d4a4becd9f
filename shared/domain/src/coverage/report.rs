//! What the player sends: a batch of played intervals of one page load's player.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{CoverageError, END_TOLERANCE_S, MAX_INTERVALS, MAX_RATE, MAX_REPORT_WALL_MS, MAX_SEQ, MIN_RATE, Timeline};

/// The id a player makes for itself per page load: 1–64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlayerSession(String);

impl PlayerSession {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(s: &str) -> Result<Self, CoverageError> {
        let ok = (1..=Self::MAX_CHARS).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok { Ok(Self(s.to_owned())) } else { Err(CoverageError::Session) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PlayerSession {
    type Error = CoverageError;
    fn try_from(s: String) -> Result<Self, CoverageError> {
        Self::parse(&s)
    }
}

impl From<PlayerSession> for String {
    fn from(s: PlayerSession) -> String {
        s.0
    }
}

impl fmt::Display for PlayerSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stretch of the timeline the player played, in seconds, at a playback rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub start: f64,
    pub end: f64,
    pub rate: f64,
}

impl Interval {
    /// The wall time it took to play, in seconds.
    pub fn wall_seconds(&self) -> f64 {
        (self.end - self.start) / self.rate
    }
}

/// A checked report: see [`WatchReport::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct WatchReport {
    session: PlayerSession,
    seq: u32,
    intervals: Vec<Interval>,
    wall_ms: i64,
}

impl WatchReport {
    /// Checks everything that needs no video: the seq, the number of intervals, finite numbers,
    /// `0 ≤ start < end`, the rate, and the wall time claimed (at most [`MAX_REPORT_WALL_MS`]).
    /// The first broken rule is the error, intervals checked in order.
    pub fn new(session: PlayerSession, seq: u32, intervals: Vec<Interval>) -> Result<Self, CoverageError> {
        if seq >= MAX_SEQ {
            return Err(CoverageError::Seq { seq });
        }
        if intervals.is_empty() || intervals.len() > MAX_INTERVALS {
            return Err(CoverageError::IntervalCount { count: intervals.len() });
        }
        let mut wall_s = 0.0;
        for (index, i) in intervals.iter().enumerate() {
            if !(i.start.is_finite() && i.end.is_finite() && i.rate.is_finite()) {
                return Err(CoverageError::NotFinite { index });
            }
            if i.start < 0.0 {
                return Err(CoverageError::BeforeZero { index });
            }
            if i.end <= i.start {
                return Err(CoverageError::Empty { index });
            }
            if !(MIN_RATE..=MAX_RATE).contains(&i.rate) {
                return Err(CoverageError::Rate { index, rate: i.rate });
            }
            wall_s += i.wall_seconds();
        }
        let wall_ms = (wall_s * 1000.0).round();
        // Also refuses an infinite sum (finite but huge intervals).
        if wall_ms.is_nan() || wall_ms > MAX_REPORT_WALL_MS as f64 {
            return Err(CoverageError::ReportTooLong { claimed_s: wall_s });
        }
        Ok(Self { session, seq, intervals, wall_ms: wall_ms as i64 })
    }

    pub fn session(&self) -> &PlayerSession {
        &self.session
    }

    pub fn seq(&self) -> u32 {
        self.seq
    }

    pub fn intervals(&self) -> &[Interval] {
        &self.intervals
    }

    /// The wall time the report claims, `Σ (end − start) / rate`, in milliseconds (rounded).
    pub fn wall_ms(&self) -> i64 {
        self.wall_ms
    }

    /// The rule that needs the video: every interval ends at most [`END_TOLERANCE_S`] past it.
    pub fn check_against(&self, timeline: &Timeline) -> Result<(), CoverageError> {
        let duration = timeline.duration_s();
        match self.intervals.iter().position(|i| i.end > duration + END_TOLERANCE_S) {
            Some(index) => Err(CoverageError::PastTheEnd { index, end: self.intervals[index].end, duration }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> PlayerSession {
        PlayerSession::parse("page-1_A").expect("session")
    }

    fn iv(start: f64, end: f64, rate: f64) -> Interval {
        Interval { start, end, rate }
    }

    #[test]
    fn player_sessions_are_short_plain_ids() {
        assert!(PlayerSession::parse(&"a".repeat(64)).is_ok());
        for bad in ["", &"a".repeat(65), "a b", "é", "a/b", "a#b"] {
            assert_eq!(PlayerSession::parse(bad), Err(CoverageError::Session), "{bad:?}");
        }
        assert_eq!(serde_json::from_str::<PlayerSession>("\"x-1\"").map(String::from).ok(), Some("x-1".to_owned()));
        assert!(serde_json::from_str::<PlayerSession>("\"x 1\"").is_err());
    }

    #[test]
    fn each_rule_has_its_error() {
        let report = |seq, ivs: Vec<Interval>| WatchReport::new(session(), seq, ivs);
        assert_eq!(report(4096, vec![iv(0.0, 1.0, 1.0)]), Err(CoverageError::Seq { seq: 4096 }));
        assert_eq!(report(0, vec![]), Err(CoverageError::IntervalCount { count: 0 }));
        assert_eq!(report(0, vec![iv(0.0, 0.1, 1.0); 65]), Err(CoverageError::IntervalCount { count: 65 }));
        assert!(report(4095, vec![iv(0.0, 0.1, 1.0); 64]).is_ok());
        for bad in [iv(f64::NAN, 1.0, 1.0), iv(0.0, f64::INFINITY, 1.0), iv(0.0, 1.0, f64::NAN)] {
            assert_eq!(report(0, vec![iv(0.0, 1.0, 1.0), bad]), Err(CoverageError::NotFinite { index: 1 }));
        }
        assert_eq!(report(0, vec![iv(-0.5, 1.0, 1.0)]), Err(CoverageError::BeforeZero { index: 0 }));
        assert_eq!(report(0, vec![iv(3.0, 3.0, 1.0)]), Err(CoverageError::Empty { index: 0 }));
        assert_eq!(report(0, vec![iv(3.0, 2.0, 1.0)]), Err(CoverageError::Empty { index: 0 }));
        assert_eq!(report(0, vec![iv(0.0, 1.0, 0.2)]), Err(CoverageError::Rate { index: 0, rate: 0.2 }));
        assert_eq!(report(0, vec![iv(0.0, 1.0, 4.5)]), Err(CoverageError::Rate { index: 0, rate: 4.5 }));
        assert!(report(0, vec![iv(0.0, 1.0, 0.25), iv(0.0, 1.0, 4.0)]).is_ok());
    }

    #[test]
    fn a_report_claims_at_most_two_minutes_of_wall_time() {
        let ok = WatchReport::new(session(), 0, vec![iv(0.0, 60.0, 1.0), iv(100.0, 220.0, 2.0)]).expect("120 s");
        assert_eq!(ok.wall_ms(), 120_000);
        let at_4x = WatchReport::new(session(), 0, vec![iv(0.0, 480.0, 4.0)]).expect("480 s of video at 4x");
        assert_eq!(at_4x.wall_ms(), 120_000);
        assert!(matches!(
            WatchReport::new(session(), 0, vec![iv(0.0, 60.0, 1.0), iv(60.0, 120.5, 1.0)]),
            Err(CoverageError::ReportTooLong { .. })
        ));
        assert!(matches!(
            WatchReport::new(session(), 0, vec![iv(0.0, 1.7e308, 0.25)]),
            Err(CoverageError::ReportTooLong { .. })
        ));
    }

    #[test]
    fn intervals_end_at_most_a_second_past_the_video() {
        let t = Timeline::new(100.0).expect("timeline");
        let r = |end| WatchReport::new(session(), 0, vec![iv(0.0, 5.0, 1.0), iv(end - 1.0, end, 1.0)]).expect("report");
        assert_eq!(r(101.0).check_against(&t), Ok(()));
        assert_eq!(
            r(101.5).check_against(&t),
            Err(CoverageError::PastTheEnd { index: 1, end: 101.5, duration: 100.0 })
        );
    }
}
