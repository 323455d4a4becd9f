//! The player sessions of one student on one video: replays are recognised, and the wall time
//! claimed is held to the clock (see the module's docs for the rules).

use super::{
    BUDGET_CAP_MS, CLOCK_SLACK_MS, CoverageError, EVICTED_KEPT, KEPT_SESSIONS, MAX_PARALLEL_PLAYERS, MAX_SEQ,
    PlayerSession, REORDER_CREDIT_MS,
    bits::{Bits, Reader, Why, put_varint},
};

/// The ledger's format byte (2: with the budget).
const VERSION: u8 = 2;

/// One kept player session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEntry {
    /// The FNV-1a 64 fingerprint of the session id.
    pub fingerprint: u64,
    /// When it opened, by the server's clock: its first report's arrival minus that report's claim.
    pub opened_at_ms: i64,
    /// The wall time its accepted reports claimed, in milliseconds.
    pub claimed_wall_ms: i64,
    /// The seq of the report that opened it: a lower seq accepted later was played before
    /// `opened_at_ms`, and gives the session [`REORDER_CREDIT_MS`] more.
    pub opened_by_seq: u32,
    seqs: Bits,
}

impl SessionEntry {
    /// Whether a report with this seq was accepted.
    pub fn has_seq(&self, seq: u32) -> bool {
        self.seqs.get(seq)
    }

    /// How many reports were accepted.
    pub fn reports(&self) -> u32 {
        self.seqs.count()
    }
}

/// The kept sessions (at most [`KEPT_SESSIONS`], the most recently opened) and the fingerprints
/// of the last [`EVICTED_KEPT`] evicted ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionLedger {
    sessions: Vec<SessionEntry>,
    evicted: Vec<u64>,
    /// The wall time all reports together may still claim, and when it was last counted:
    /// `None` before the first report (a full budget). See [`SessionLedger::budget_at`].
    budget: Option<(i64, i64)>,
}

/// What the ledger decided for a report, before anything changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Replay,
    Fresh(Plan),
}

/// How to record an admitted report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    Known { index: usize },
    Open { fingerprint: u64, opened_at_ms: i64, seq: u32, evict: Option<usize> },
}

/// FNV-1a, 64 bits: stable across builds and platforms (what is stored must not change).
fn fingerprint(session: &PlayerSession) -> u64 {
    session.as_str().bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl SessionLedger {
    pub fn sessions(&self) -> &[SessionEntry] {
        &self.sessions
    }

    /// What all reports together may claim at `now_ms`: a token bucket that fills at
    /// [`MAX_PARALLEL_PLAYERS`] ms per ms of the server's clock up to [`BUDGET_CAP_MS`], and that
    /// every accepted report spends its claim from. It is one for the student's video whatever
    /// the sessions, so a fresh session, an evicted one or reordering frees nothing.
    pub fn budget_at(&self, now_ms: i64) -> i64 {
        match self.budget {
            None => BUDGET_CAP_MS,
            Some((balance, at)) => balance
                .saturating_add(now_ms.saturating_sub(at).max(0).saturating_mul(MAX_PARALLEL_PLAYERS))
                .min(BUDGET_CAP_MS),
        }
    }

    /// The kept session of this id.
    pub fn session(&self, session: &PlayerSession) -> Option<&SessionEntry> {
        let fp = fingerprint(session);
        self.sessions.iter().find(|s| s.fingerprint == fp)
    }

    /// Decides on a report of `claim_ms` with `seq` in `session` arriving at `now_ms`; changes
    /// nothing (see [`SessionLedger::record`]).
    pub(crate) fn admit(
        &self,
        session: &PlayerSession,
        seq: u32,
        claim_ms: i64,
        now_ms: i64,
    ) -> Result<Admission, CoverageError> {
        let fp = fingerprint(session);
        let plan = match self.sessions.iter().position(|s| s.fingerprint == fp) {
            Some(index) => {
                let entry = &self.sessions[index];
                if entry.seqs.get(seq) {
                    return Ok(Admission::Replay);
                }
                let lowest = entry.seqs.lowest().map_or(seq, |l| l.min(seq));
                let credit = if lowest < entry.opened_by_seq { REORDER_CREDIT_MS } else { 0 };
                let allowed =
                    now_ms.saturating_sub(entry.opened_at_ms).saturating_add(CLOCK_SLACK_MS).saturating_add(credit);
                let claimed = entry.claimed_wall_ms.saturating_add(claim_ms);
                if claimed > allowed {
                    return Err(CoverageError::FasterThanTheClock { claimed_ms: claimed, allowed_ms: allowed });
                }
                Plan::Known { index }
            }
            None => {
                if self.evicted.contains(&fp) {
                    return Err(CoverageError::Stale);
                }
                let opened_at_ms = now_ms.saturating_sub(claim_ms);
                let oldest = self.sessions.iter().enumerate().min_by_key(|(_, s)| s.opened_at_ms);
                let evict = match oldest {
                    Some((i, s)) if self.sessions.len() >= KEPT_SESSIONS => {
                        if opened_at_ms < s.opened_at_ms {
                            return Err(CoverageError::Stale);
                        }
                        Some(i)
                    }
                    _ => None,
                };
                Plan::Open { fingerprint: fp, opened_at_ms, seq, evict }
            }
        };
        self.check_all(claim_ms, now_ms)?;
        Ok(Admission::Fresh(plan))
    }

    /// The report's claim fits what all reports together may still claim ([`Self::budget_at`]).
    fn check_all(&self, claim_ms: i64, now_ms: i64) -> Result<(), CoverageError> {
        let allowed = self.budget_at(now_ms);
        if claim_ms > allowed {
            return Err(CoverageError::FasterThanTheClock { claimed_ms: claim_ms, allowed_ms: allowed });
        }
        Ok(())
    }

    /// Records an admitted report, spending its claim from the budget.
    pub(crate) fn record(&mut self, plan: Plan, seq: u32, claim_ms: i64, now_ms: i64) {
        self.budget = Some((self.budget_at(now_ms).saturating_sub(claim_ms), now_ms));
        let index = match plan {
            Plan::Known { index } => index,
            Plan::Open { fingerprint, opened_at_ms, seq: opened_by_seq, evict } => {
                if let Some(i) = evict.filter(|i| *i < self.sessions.len()) {
                    let gone = self.sessions.remove(i);
                    if self.evicted.len() >= EVICTED_KEPT {
                        self.evicted.remove(0);
                    }
                    self.evicted.push(gone.fingerprint);
                }
                self.sessions.push(SessionEntry {
                    fingerprint,
                    opened_at_ms,
                    claimed_wall_ms: 0,
                    opened_by_seq,
                    seqs: Bits::new(MAX_SEQ),
                });
                self.sessions.len() - 1
            }
        };
        if let Some(entry) = self.sessions.get_mut(index) {
            entry.seqs.set(seq);
            entry.claimed_wall_ms = entry.claimed_wall_ms.saturating_add(claim_ms);
        }
    }

    /// Compact bytes: a version byte, the sessions (count; then each one's fingerprint as 8
    /// bytes, its opening as a zigzag varint, its claim and opening seq as varints, its seq set's length and
    /// bytes as [`super::Coverage::encode`] writes a set), then the evicted fingerprints (count;
    /// 8 bytes each). All integers little-endian or LEB128.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        put_varint(&mut out, self.sessions.len() as u64);
        for s in &self.sessions {
            out.extend_from_slice(&s.fingerprint.to_le_bytes());
            put_varint(&mut out, zigzag(s.opened_at_ms));
            put_varint(&mut out, s.claimed_wall_ms.max(0) as u64);
            put_varint(&mut out, u64::from(s.opened_by_seq));
            let seqs = s.seqs.encode();
            put_varint(&mut out, seqs.len() as u64);
            out.extend_from_slice(&seqs);
        }
        put_varint(&mut out, self.evicted.len() as u64);
        for fp in &self.evicted {
            out.extend_from_slice(&fp.to_le_bytes());
        }
        match self.budget {
            None => out.push(0),
            Some((balance, at)) => {
                out.push(1);
                put_varint(&mut out, zigzag(balance));
                put_varint(&mut out, zigzag(at));
            }
        }
        out
    }

    /// Reads what [`SessionLedger::encode`] wrote; any other bytes are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, CoverageError> {
        Self::read(bytes).map_err(|why| CoverageError::Corrupt { what: "session ledger", why })
    }

    fn read(bytes: &[u8]) -> Result<Self, Why> {
        let mut r = Reader::new(bytes);
        if r.byte()? != VERSION {
            return Err("unknown version");
        }
        let n = r.varint()?;
        if n > KEPT_SESSIONS as u64 {
            return Err("too many sessions");
        }
        let mut sessions: Vec<SessionEntry> = Vec::new();
        for _ in 0..n {
            let fingerprint = fingerprint_from(r.take(8)?)?;
            if sessions.iter().any(|s| s.fingerprint == fingerprint) {
                return Err("a session twice");
            }
            let opened_at_ms = unzigzag(r.varint()?);
            let claimed_wall_ms = i64::try_from(r.varint()?).map_err(|_| "claim too large")?;
            let opened_by_seq = u32::try_from(r.varint()?).map_err(|_| "seq too large")?;
            let len = usize::try_from(r.varint()?).map_err(|_| "seq set too long")?;
            let seqs = Bits::decode(r.take(len)?, MAX_SEQ)?;
            if !seqs.get(opened_by_seq) {
                return Err("the opening report is not among the session's");
            }
            sessions.push(SessionEntry { fingerprint, opened_at_ms, claimed_wall_ms, opened_by_seq, seqs });
        }
        let m = r.varint()?;
        if m > EVICTED_KEPT as u64 {
            return Err("too many evicted sessions");
        }
        let mut evicted = Vec::new();
        for _ in 0..m {
            evicted.push(fingerprint_from(r.take(8)?)?);
        }
        let budget = match r.byte()? {
            0 => None,
            1 => {
                let balance = unzigzag(r.varint()?);
                let at = unzigzag(r.varint()?);
                if balance > BUDGET_CAP_MS {
                    return Err("budget above its cap");
                }
                Some((balance, at))
            }
            _ => return Err("unknown budget flag"),
        };
        if !r.is_empty() {
            return Err("trailing bytes");
        }
        Ok(Self { sessions, evicted, budget })
    }
}

fn fingerprint_from(bytes: &[u8]) -> Result<u64, Why> {
    let array: [u8; 8] = bytes.try_into().map_err(|_| "truncated")?;
    Ok(u64::from_le_bytes(array))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(s: &str) -> PlayerSession {
        PlayerSession::parse(s).expect("session")
    }

    /// Admits and records; the admission.
    fn report(
        l: &mut SessionLedger,
        s: &str,
        seq: u32,
        claim_ms: i64,
        now_ms: i64,
    ) -> Result<Admission, CoverageError> {
        let a = l.admit(&session(s), seq, claim_ms, now_ms)?;
        if let Admission::Fresh(plan) = a {
            l.record(plan, seq, claim_ms, now_ms);
        }
        Ok(a)
    }

    #[test]
    fn zigzag_round_trips() {
        for v in [0, 1, -1, i64::MAX, i64::MIN, 1_700_000_000_000] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn a_session_claims_no_more_than_its_clock() {
        let mut l = SessionLedger::default();
        let t0 = 1_000_000;
        assert!(report(&mut l, "a", 0, 30_000, t0).is_ok());
        assert_eq!(l.sessions()[0].opened_at_ms, t0 - 30_000);
        assert!(report(&mut l, "a", 1, 30_000, t0 + 30_000).is_ok());
        // 30 s later at 1×, and 10 s of slack: 40 s more would be 100 s claimed in 90 s.
        assert_eq!(
            report(&mut l, "a", 2, 40_001, t0 + 30_000),
            Err(CoverageError::FasterThanTheClock { claimed_ms: 100_001, allowed_ms: 70_000 })
        );
        assert!(report(&mut l, "a", 2, 10_000, t0 + 30_000).is_ok(), "within the slack");
        assert_eq!(l.sessions()[0].claimed_wall_ms, 70_000);
        assert_eq!(report(&mut l, "a", 1, 30_000, t0 + 90_000), Ok(Admission::Replay));
        assert_eq!(l.sessions()[0].claimed_wall_ms, 70_000);
    }

    #[test]
    fn a_late_report_has_one_report_of_credit() {
        let mut l = SessionLedger::default();
        let t0 = 1_000_000;
        report(&mut l, "a", 3, 5_000, t0).expect("seq 3 first: the session opens 5 s before");
        assert!(matches!(report(&mut l, "a", 4, 30_000, t0 + 400), Err(CoverageError::FasterThanTheClock { .. })));
        report(&mut l, "a", 2, 30_000, t0 + 200).expect("seq 2, played before seq 3");
        // Seq 2's 30 s were played before the session's estimated opening: the credit stays.
        report(&mut l, "a", 4, 30_000, t0 + 30_000).expect("in order again, by the clock");
        assert_eq!(l.sessions()[0].claimed_wall_ms, 65_000);
        // The credit is one report's worth in all: 35 s + 10 s + 120 s allow 100 s more, not 101.
        assert_eq!(
            l.admit(&session("a"), 0, 101_000, t0 + 30_000),
            Err(CoverageError::FasterThanTheClock { claimed_ms: 166_000, allowed_ms: 165_000 })
        );
        report(&mut l, "a", 0, 100_000, t0 + 30_000).expect("within the credit");
    }

    #[test]
    fn eight_sessions_are_kept_and_older_ones_are_stale() {
        let mut l = SessionLedger::default();
        let hour = 3_600_000;
        for i in 0..10 {
            report(&mut l, &format!("s{i}"), 0, 60_000, (i + 1) * hour).expect("a session an hour");
        }
        assert_eq!(l.sessions().len(), KEPT_SESSIONS);
        assert_eq!(report(&mut l, "s0", 1, 1_000, 11 * hour), Err(CoverageError::Stale), "evicted");
        assert_eq!(report(&mut l, "s1", 0, 60_000, 11 * hour), Err(CoverageError::Stale), "a replay of an evicted one");
        assert!(matches!(report(&mut l, "s9", 1, 1_000, 11 * hour), Ok(Admission::Fresh(_))));
        // A first report claiming to have opened before all the kept sessions.
        let mut full = SessionLedger::default();
        for i in 0..8 {
            report(&mut full, &format!("k{i}"), 0, 1_000, 100 * hour + i * 1_000).expect("kept");
        }
        assert_eq!(full.admit(&session("new"), 0, 2_000, 100 * hour), Err(CoverageError::Stale));
        assert!(full.admit(&session("new"), 0, 1_000, 100 * hour).is_ok(), "opened with the oldest");
    }

    #[test]
    fn fresh_sessions_cannot_claim_more_than_the_clock_together() {
        let mut l = SessionLedger::default();
        let now = 50_000_000;
        let mut accepted = 0;
        for i in 0..300 {
            if report(&mut l, &format!("spam{i}"), 0, 120_000, now + i * 200).is_ok() {
                accepted += 1;
            }
        }
        assert!(accepted <= 4, "{accepted} fresh sessions of 2 minutes each in one minute");
        // Two players side by side, both at 1×, for ten minutes: fine.
        let mut two = SessionLedger::default();
        for k in 0..20 {
            for p in ["left", "right"] {
                report(&mut two, p, k, 30_000, now + (i64::from(k) + 1) * 30_000).expect("two players");
            }
        }
    }

    #[test]
    fn ledger_bytes_stay_small() {
        // An hour of one player reporting every 30 s, in order.
        let mut hour = SessionLedger::default();
        for seq in 0..120 {
            report(&mut hour, "V1StGXR8_Z5jdHi6B-myT", seq, 30_000, 1_700_000_000_000 + i64::from(seq + 1) * 30_000)
                .expect("in order");
        }
        // The worst: 8 sessions of every other seq, and 32 evicted.
        let mut worst = SessionLedger::default();
        for i in 0..40 {
            let opened = 1_700_000_000_000 + i64::from(i) * 86_400_000;
            for seq in (0..MAX_SEQ).step_by(2) {
                report(&mut worst, &format!("s{i}"), seq, 1, opened + i64::from(seq) * 1_000).expect("slow");
            }
        }
        let (typical, most) = (hour.encode().len(), worst.encode().len());
        println!("session ledger: an hour of one player {typical} bytes, the worst {most} bytes");
        assert!(typical <= 48, "{typical} bytes");
        assert!(most <= 5 * 1024, "{most} bytes");
        assert_eq!(SessionLedger::decode(&worst.encode()), Ok(worst));
    }

    #[test]
    fn the_ledger_round_trips_and_refuses_junk() {
        let mut l = SessionLedger::default();
        assert_eq!(SessionLedger::decode(&l.encode()), Ok(l.clone()));
        for i in 0..12 {
            for seq in [0, 1, 2, 5, 4095] {
                let _ = report(&mut l, &format!("s{i}"), seq, 1_000, 1_700_000_000_000 + i64::from(i) * 3_600_000);
            }
        }
        let bytes = l.encode();
        assert_eq!(SessionLedger::decode(&bytes), Ok(l.clone()));
        assert!(bytes.len() < 500, "{} bytes", bytes.len());
        for cut in 0..bytes.len() {
            assert!(SessionLedger::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(SessionLedger::decode(&trailing).is_err());
    }
}
