//! Watched coverage, cost per report (issue 29; `docs/benchmarks.md`).
//!
//! `cargo run -p vivid-dynamo --example watching_cost --release`
//!
//! A class of 500 students watches a one-hour lecture (then a ten-hour one) on a virtual clock:
//! each student's player plays, pauses, skips, rewatches, changes speed, reloads or leaves as a
//! seeded pseudo-random draw decides, and reports what it played every 30 s of playing, on pause
//! and on close, as the web player does. Every report goes through the rules the handler runs
//! (`vivid_domain::watching::take_report`), in the order the reports arrive, and the items the
//! adapter's transaction (`src/watching.rs`) leaves behind are rebuilt attribute by attribute
//! (`attrs`, `keys`, the domain structs through `serde_dynamo` as `to_item` does), so each write
//! is sized by DynamoDB's rules: an attribute is its name's bytes plus its value's (a string its
//! UTF-8 length, a binary its length, a number about one byte per two significant digits plus
//! one). What it prints is computed, not measured against DynamoDB: write units are 2 per KB
//! (rounded up, per item) in a transaction; an `UpdateItem` is charged on the larger of the item
//! before and after; index writes are DynamoDB's standard 1 per KB (GSI1 projects every attribute;
//! a changed `GSI1SK` is a delete and a put there).

use std::{
    collections::{BTreeMap, HashMap},
    error::Error,
};

use aws_sdk_dynamodb::{primitives::Blob, types::AttributeValue};
use vivid_domain::{
    coverage::{
        CompletionThreshold, Coverage, HeatChunk, Interval, PlayerSession, StudentCoverage, Timeline, WatchReport,
        apply,
    },
    lti::grades::completion_of,
    spaces::{Membership, Role},
    types::{Seconds, SpaceId, UserId, VideoId, rfc3339},
    video::Progress,
    watching::{Reported, StoredWatch, WatchWrite, take_report},
};
use vivid_dynamo::{GSI1PK, GSI1SK, GSI2PK, GSI2SK, PK, SK, attrs, keys};

type Item = HashMap<String, AttributeValue>;
type Failure = Box<dyn Error>;

const STUDENTS: usize = 500;
const SEED: u64 = 0x7669_7669_6432_3032;
/// The player reports after this much playing (and on pause and close).
const REPORT_EVERY_MS: i64 = 30_000;
/// Peaks are per window of this length, its reports taken as spread evenly over it.
const WINDOW_MS: i64 = 30_000;
const KB: usize = 1024;
/// A read unit: 4 KB read strongly consistent (half a unit eventually consistent).
const READ_UNIT: usize = 4 * KB;

// ---------------------------------------------------------------------------------------------
// DynamoDB's item size.

/// A number's stored size: one byte per two significant digits, plus one (plus one if negative).
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1 + usize::from(n.starts_with('-'))
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Ss(ss) => ss.iter().map(String::len).sum(),
        AttributeValue::Ns(ns) => ns.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(bs) => bs.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
        // BOOL, NULL (and any type added later: counted as the smallest).
        _ => 1,
    }
}

fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, v)| name.len() + value_size(v)).sum()
}

/// Write units of one item in a transaction: 2 per KB, rounded up.
fn transact_wcu(bytes: usize) -> u64 {
    2 * bytes.max(1).div_ceil(KB) as u64
}

/// Standard write units (an index write): 1 per KB, rounded up.
fn wcu(bytes: usize) -> u64 {
    bytes.max(1).div_ceil(KB) as u64
}

/// Read units of a strongly consistent read of `bytes` (a `Query` sums its items first).
fn rcu(bytes: usize) -> u64 {
    bytes.max(1).div_ceil(READ_UNIT) as u64
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// `ADD name delta` on a number attribute (absent: 0).
fn add(item: &mut Item, name: &str, delta: u64) {
    let old = match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse::<u64>().unwrap_or(0),
        _ => 0,
    };
    item.insert(name.to_owned(), n(old + delta));
}

// ---------------------------------------------------------------------------------------------
// A seeded generator (SplitMix64): the same class every run, without a dependency.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// A ULID-shaped id (26 Crockford characters, the first `0`).
    fn ulid(&mut self) -> String {
        const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let mut id = String::from("01J");
        for _ in 0..23 {
            id.push(char::from(CROCKFORD[(self.next() % 32) as usize]));
        }
        id
    }
}

// ---------------------------------------------------------------------------------------------
// The players: what each student plays and reports, on the virtual clock.

/// One report as sent: by whom, when it arrives (server clock, ms), what it says.
struct Sent {
    student: usize,
    arrives_ms: i64,
    report: WatchReport,
}

/// How a student watches, drawn once.
struct Habits {
    rate: f64,
    /// Wall ms after the lecture's start before they press play.
    joins_after_ms: i64,
    /// Chances per second of playing.
    pause: f64,
    skip: f64,
    rewatch: f64,
    reload: f64,
    /// Where they change speed once (video seconds), and to what.
    rate_change: Option<(f64, f64)>,
    /// Where they leave for good (video seconds).
    leaves_at: Option<f64>,
    /// Playing time of one sitting before a break (a closed tab, a new player later).
    sitting_ms: (i64, i64),
}

impl Habits {
    fn draw(rng: &mut Rng, duration_s: f64) -> Self {
        let rate = match rng.unit() {
            u if u < 0.70 => 1.0,
            u if u < 0.75 => 1.25,
            u if u < 0.88 => 1.5,
            _ => 2.0,
        };
        let joins_after_ms = if rng.chance(0.85) { rng.between(0, 120_000) } else { rng.between(120_000, 900_000) };
        // Pauses: on average one per ten minutes, some students far more often than others.
        let pause = (0.3 + 1.7 * rng.unit()) / 600.0;
        let skip = if rng.chance(0.20) { 1.0 / 400.0 } else { 0.0 };
        let rewatch = if rng.chance(0.25) { 1.0 / 500.0 } else { 0.0 };
        let reload = 1.0 / 3_600.0;
        let rate_change = rng.chance(0.10).then(|| {
            let to = [1.0, 1.25, 1.5, 2.0][(rng.next() % 4) as usize];
            (duration_s * rng.unit(), to)
        });
        let leaves_at = rng.chance(0.15).then(|| duration_s * (0.05 + 0.85 * rng.unit()));
        Self {
            rate,
            joins_after_ms,
            pause,
            skip,
            rewatch,
            reload,
            rate_change,
            leaves_at,
            sitting_ms: (50 * 60_000, 150 * 60_000),
        }
    }
}

enum Mode {
    /// Not playing: a new player (page load) opens at this time.
    Away {
        until_ms: i64,
    },
    Paused {
        until_ms: i64,
    },
    Playing,
    Done,
}

/// One student's player, ticking once a wall second.
struct Player<'a> {
    student: usize,
    duration_s: f64,
    habits: &'a Habits,
    rng: &'a mut Rng,
    out: &'a mut Vec<Sent>,
    mode: Mode,
    position: f64,
    rate: f64,
    /// Page loads so far (each a player session).
    sessions: u32,
    session: Option<PlayerSession>,
    seq: u32,
    /// The interval playing now, and those closed since the last report.
    current: Option<Interval>,
    pending: Vec<Interval>,
    played_ms: i64,
    sitting_left_ms: i64,
}

impl Player<'_> {
    fn close_interval(&mut self) {
        if let Some(i) = self.current.take()
            && i.end > i.start
        {
            self.pending.push(i);
        }
    }

    fn open_interval(&mut self) {
        self.current = Some(Interval { start: self.position, end: self.position, rate: self.rate });
    }

    /// Sends what was played since the last report, if anything; arrives after network latency
    /// (and, now and then, twice: a client's retry).
    fn report(&mut self, now_ms: i64) -> Result<(), Failure> {
        self.close_interval();
        self.played_ms = 0;
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(session) = self.session.clone() else { return Ok(()) };
        let report = WatchReport::new(session, self.seq, std::mem::take(&mut self.pending))?;
        self.seq += 1;
        let arrives_ms = now_ms + self.rng.between(20, 400);
        if self.rng.chance(0.01) {
            let again = arrives_ms + self.rng.between(1_000, 5_000);
            self.out.push(Sent { student: self.student, arrives_ms: again, report: report.clone() });
        }
        self.out.push(Sent { student: self.student, arrives_ms, report });
        Ok(())
    }

    /// Closes the page: the last report, then a new player after `away_ms` (or never).
    fn close(&mut self, now_ms: i64, away_ms: Option<i64>) -> Result<(), Failure> {
        self.report(now_ms)?;
        self.session = None;
        self.mode = match away_ms {
            Some(ms) => Mode::Away { until_ms: now_ms + ms },
            None => Mode::Done,
        };
        Ok(())
    }

    fn seek(&mut self, to: f64) {
        self.close_interval();
        self.position = to.clamp(0.0, self.duration_s);
        self.open_interval();
    }

    fn tick(&mut self, now_ms: i64) -> Result<(), Failure> {
        match self.mode {
            Mode::Done => {}
            Mode::Away { until_ms } => {
                if now_ms >= until_ms {
                    self.sessions += 1;
                    self.session = Some(PlayerSession::parse(&format!("pl{}-{}", self.student, self.sessions))?);
                    self.seq = 0;
                    self.sitting_left_ms = self.rng.between(self.habits.sitting_ms.0, self.habits.sitting_ms.1);
                    self.mode = Mode::Playing;
                    self.open_interval();
                }
            }
            Mode::Paused { until_ms } => {
                if now_ms >= until_ms {
                    self.mode = Mode::Playing;
                    self.open_interval();
                }
            }
            Mode::Playing => self.play(now_ms)?,
        }
        Ok(())
    }

    fn play(&mut self, now_ms: i64) -> Result<(), Failure> {
        let before = self.position;
        self.position = (self.position + self.rate).min(self.duration_s);
        if let Some(i) = self.current.as_mut() {
            i.end = self.position;
        }
        self.played_ms += 1_000;
        self.sitting_left_ms -= 1_000;
        let h = self.habits;
        if self.position >= self.duration_s {
            return self.close(now_ms, None);
        }
        if h.leaves_at.is_some_and(|at| before < at && self.position >= at) {
            return self.close(now_ms, None);
        }
        if let Some((at, to)) = h.rate_change
            && before < at
            && self.position >= at
        {
            self.close_interval();
            self.rate = to;
            self.open_interval();
        }
        if self.played_ms >= REPORT_EVERY_MS {
            self.report(now_ms)?;
            self.open_interval();
        }
        if self.sitting_left_ms <= 0 {
            let away = self.rng.between(10 * 60_000, 60 * 60_000);
            return self.close(now_ms, Some(away));
        }
        // One draw a second decides what, if anything, the student does now.
        let u = self.rng.unit();
        let mut edge = h.pause;
        if u < edge {
            self.report(now_ms)?;
            let ms = match self.rng.unit() {
                v if v < 0.70 => self.rng.between(5_000, 60_000),
                v if v < 0.95 => self.rng.between(60_000, 300_000),
                _ => self.rng.between(300_000, 900_000),
            };
            self.mode = Mode::Paused { until_ms: now_ms + ms };
            return Ok(());
        }
        edge += h.skip;
        if u < edge {
            let ahead = self.rng.between(20, 240) as f64;
            self.seek(self.position + ahead);
            return Ok(());
        }
        edge += h.rewatch;
        if u < edge {
            let back = self.rng.between(15, 120) as f64;
            self.seek(self.position - back);
            return Ok(());
        }
        edge += h.reload;
        if u < edge {
            let away = self.rng.between(3_000, 20_000);
            return self.close(now_ms, Some(away));
        }
        if self.pending.len() >= 60 {
            self.report(now_ms)?;
            self.open_interval();
        }
        Ok(())
    }
}

/// Every report of the class, in the order they arrive.
fn class_reports(rng: &mut Rng, duration_s: f64, start_ms: i64) -> Result<Vec<Sent>, Failure> {
    let mut out = Vec::new();
    for student in 0..STUDENTS {
        let habits = Habits::draw(rng, duration_s);
        let mut player = Player {
            student,
            duration_s,
            habits: &habits,
            rate: habits.rate,
            rng: &mut *rng,
            out: &mut out,
            mode: Mode::Away { until_ms: start_ms + habits.joins_after_ms },
            position: 0.0,
            sessions: 0,
            session: None,
            seq: 0,
            current: None,
            pending: Vec::new(),
            played_ms: 0,
            sitting_left_ms: 0,
        };
        let mut now_ms = start_ms;
        while !matches!(player.mode, Mode::Done) {
            now_ms += 1_000;
            player.tick(now_ms)?;
        }
    }
    out.sort_by_key(|r| (r.arrives_ms, r.student));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The table as the adapter leaves it.

struct Student {
    user: UserId,
    stored: StoredWatch,
    /// `VIDEO#{videoId}`/`PROGRESS#{userId}` once the first report made it.
    progress: Option<Item>,
    /// `SPACE#{spaceId}`/`MEMBER#{userId}`, with the standing.
    membership: Item,
}

fn at(ms: i64) -> Result<String, Failure> {
    Ok(rfc3339(time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)?))
}

fn item_of<T: serde::Serialize>(value: &T, keys: &[(&str, String)]) -> Result<Item, Failure> {
    let mut item: Item = serde_dynamo::to_item(value)?;
    for (name, v) in keys {
        item.insert((*name).to_owned(), s(v.clone()));
    }
    Ok(item)
}

/// A member of the class, joined before the term with a standing from earlier lectures.
fn member(rng: &mut Rng, space: &SpaceId, user: &UserId) -> Result<Item, Failure> {
    let joined_at = "2026-09-28T08:12:44.318Z";
    let m = Membership {
        space_id: space.clone(),
        user_id: user.clone(),
        role: Role::Participant,
        personal: false,
        joined_at: joined_at.to_owned(),
    };
    let mut item = item_of(
        &m,
        &[
            (PK, keys::space(space)),
            (SK, keys::member(user)),
            (GSI1PK, keys::user(user)),
            (GSI1SK, keys::member_of(false, joined_at, space)),
            (attrs::TYPE, "Membership".into()),
        ],
    )?;
    let completed = rng.between(0, 20) as u64;
    add(&mut item, attrs::PROGRESS_SUM, completed * 100 + rng.between(0, 900) as u64);
    add(&mut item, attrs::COMPLETED_VIDEOS, completed);
    item.insert(attrs::LAST_ACCESS_AT.to_owned(), s("2026-12-05T16:40:02.113Z"));
    Ok(item)
}

/// The progress item the first report's `put_progress` makes (`Table::progress_item`).
fn new_progress(video: &VideoId, space: &SpaceId, user: &UserId, now: &str) -> Result<Item, Failure> {
    let p = Progress {
        video_id: video.clone(),
        user_id: user.clone(),
        space_id: space.clone(),
        progress_rate: 0,
        position_seconds: Seconds::ZERO,
        last_access_at: now.to_owned(),
        completed_at: None,
        coverage_percent: None,
    };
    item_of(
        &p,
        &[
            (PK, keys::video(video)),
            (SK, keys::progress(user)),
            (GSI1PK, keys::user(user)),
            (GSI1SK, keys::access(now, video)),
            (GSI2PK, keys::member_data(space, user)),
            (GSI2SK, keys::member_item(video, keys::MemberItem::Progress, None)),
            (attrs::TYPE, "Progress".into()),
        ],
    )
}

/// The progress update of `save_watch`.
fn save_progress(item: &mut Item, w: &WatchWrite) {
    let sets = [
        (attrs::COVERAGE, AttributeValue::B(Blob::new(w.coverage.clone()))),
        (attrs::COVERAGE_LEDGER, AttributeValue::B(Blob::new(w.ledger.clone()))),
        (attrs::COVERAGE_DURATION, n(w.duration_s)),
        (attrs::COVERAGE_VERSION, n(w.version + 1)),
        (attrs::COVERAGE_PERCENT, n(w.percent)),
        (attrs::WATCHED_SECONDS, n(w.watched_seconds)),
        (attrs::LAST_ACCESS_AT, s(&w.now)),
        (GSI1SK, s(keys::access(&w.now, &w.video))),
    ];
    for (name, v) in sets {
        item.insert(name.to_owned(), v);
    }
    if w.completes {
        item.insert(attrs::COMPLETED_AT.to_owned(), s(&w.now));
    }
}

/// The standing update (`Table::standing`): `ADD progressSum 0`, `ADD completedVideos`, `SET
/// lastAccessAt`.
fn stand(item: &mut Item, completes: bool, now: &str) {
    add(item, attrs::PROGRESS_SUM, 0);
    add(item, attrs::COMPLETED_VIDEOS, u64::from(completes));
    item.insert(attrs::LAST_ACCESS_AT.to_owned(), s(now));
}

fn heat_item(video: &VideoId, chunk: u32, shard: u8) -> Item {
    HashMap::from([
        (PK.to_owned(), s(keys::video(video))),
        (SK.to_owned(), s(keys::heat(chunk, shard))),
        (attrs::TYPE.to_owned(), s("Heat")),
    ])
}

// ---------------------------------------------------------------------------------------------
// The run.

#[derive(Default)]
struct Window {
    /// Items written on `VIDEO#{videoId}` (progress and heat) and their write units.
    video_items: u64,
    video_wcu: u64,
    /// Standings written on `SPACE#{spaceId}` and their write units.
    space_items: u64,
    space_wcu: u64,
    /// Write units of the whole table and its index.
    all_wcu: u64,
    /// Writes per heat item.
    heat: HashMap<(u32, u8), u64>,
}

#[derive(Default)]
struct Tally {
    sent: usize,
    taken: usize,
    replays: usize,
    refused: BTreeMap<String, usize>,
    first_reports: usize,
    /// Per taken report: table write units, index write units, items written.
    table_wcu: Vec<u64>,
    index_wcu: Vec<u64>,
    items: Vec<u64>,
    items_per_transaction: BTreeMap<u64, usize>,
    /// Requests and read units, all reports (first reports' extra path included).
    requests: u64,
    read_units: u64,
    /// Reports whose completion rose: the membership is read (and an LTI course's grade worker
    /// may start).
    completion_rose: usize,
    completions: usize,
    first_put_wcu: u64,
    first_put_index_wcu: u64,
    windows: BTreeMap<i64, Window>,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn mean(v: &[u64]) -> f64 {
    if v.is_empty() { 0.0 } else { v.iter().sum::<u64>() as f64 / v.len() as f64 }
}

fn spread(label: &str, v: &[u64]) {
    let mut sorted = v.to_vec();
    sorted.sort_unstable();
    println!(
        "  {label:<34} mean {:>6.2}  p50 {:>4}  p99 {:>4}  max {:>4}",
        mean(&sorted),
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0)
    );
}

fn sizes(label: &str, v: &[usize]) {
    let mut sorted: Vec<u64> = v.iter().map(|&b| b as u64).collect();
    sorted.sort_unstable();
    println!(
        "  {label:<34} p50 {:>5} B  p99 {:>5} B  max {:>5} B",
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0)
    );
}

/// One class watching one lecture: the table's items as the reports leave them, and the tally.
struct Class {
    video: VideoId,
    space: SpaceId,
    duration_s: f64,
    start_ms: i64,
    students: Vec<Student>,
    heat: BTreeMap<(u32, u8), Item>,
    t: Tally,
}

impl Class {
    fn new(rng: &mut Rng, duration_s: f64, start_ms: i64) -> Result<Self, Failure> {
        let (video, space): (VideoId, SpaceId) = (rng.ulid().parse()?, rng.ulid().parse()?);
        let mut students = Vec::with_capacity(STUDENTS);
        for _ in 0..STUDENTS {
            let user: UserId = rng.ulid().parse()?;
            let membership = member(rng, &space, &user)?;
            let stored = StoredWatch {
                space_id: space.clone(),
                coverage: None,
                ledger: None,
                duration_s: None,
                version: 0,
                completed_at: None,
                percent: None,
                lti_posted: None,
            };
            students.push(Student { user, stored, progress: None, membership });
        }
        Ok(Self { video, space, duration_s, start_ms, students, heat: BTreeMap::new(), t: Tally::default() })
    }

    /// One report as the handler takes it: the read, the rules, the transaction, the passback's
    /// read; each item changed as the adapter changes it.
    fn take(&mut self, r: &Sent) -> Result<(), Failure> {
        self.t.sent += 1;
        let st = &mut self.students[r.student];
        let now = at(r.arrives_ms)?;
        let window = self.t.windows.entry((r.arrives_ms - self.start_ms) / WINDOW_MS).or_default();
        // The consistent read of the progress item (a miss before the first report).
        let before = st.progress.as_ref().map_or(0, item_size);
        self.t.requests += 1;
        self.t.read_units += rcu(before);
        let taken = take_report(
            &st.stored,
            &self.video,
            &st.user,
            &r.report,
            self.duration_s,
            CompletionThreshold::default(),
            r.arrives_ms,
            &now,
        );
        let w = match taken {
            Ok(Reported::Write(w, _)) => w,
            Ok(Reported::Replay(state)) => {
                // The passback is asked after a replay too (the answer to the attempt that took
                // it may have been lost): the membership is read unless the gradebook has as much.
                self.t.replays += 1;
                let now = completion_of(state.coverage.percent(), st.stored.completed_at.is_some());
                if st.stored.lti_posted.is_none_or(|p| now > p) {
                    self.t.requests += 1;
                    self.t.read_units += rcu(item_size(&st.membership));
                }
                return Ok(());
            }
            Err(e) => {
                // Counted by the error's variant.
                let kind = format!("{e:?}").split([' ', '{', '(']).next().unwrap_or_default().to_owned();
                *self.t.refused.entry(kind).or_default() += 1;
                return Ok(());
            }
        };
        self.t.taken += 1;
        let (mut table, mut index) = (0u64, 0u64);
        let mut before = before;
        if st.progress.is_none() {
            // No progress item: access (2), the put transaction (the progress item, the standing
            // and three condition checks), the read again, access (2) for the video's duration.
            self.t.first_reports += 1;
            self.t.requests += 6;
            let item = new_progress(&self.video, &self.space, &st.user, &now)?;
            let size = item_size(&item);
            self.t.read_units += rcu(size);
            stand(&mut st.membership, false, &now);
            let put = transact_wcu(size) + transact_wcu(item_size(&st.membership));
            // GSI1 and GSI2 entries of the new item, GSI1 of the membership.
            let put_index = 2 * wcu(size) + wcu(item_size(&st.membership));
            self.t.first_put_wcu += put;
            self.t.first_put_index_wcu += put_index;
            window.all_wcu += put + put_index;
            window.video_items += 1;
            window.video_wcu += transact_wcu(size);
            window.space_items += 1;
            window.space_wcu += transact_wcu(item_size(&st.membership));
            before = size;
            st.progress = Some(item);
        }
        let Some(progress) = st.progress.as_mut() else { return Ok(()) };
        // The transaction.
        self.t.requests += 1;
        save_progress(progress, &w);
        let after = item_size(progress);
        let progress_wcu = transact_wcu(before.max(after));
        table += progress_wcu;
        // Its GSI1 entry moves (`GSI1SK` is the last access): a delete and a put.
        index += wcu(before) + wcu(after);
        stand(&mut st.membership, w.completes, &w.now);
        let standing = item_size(&st.membership);
        table += transact_wcu(standing);
        index += wcu(standing);
        let mut items = 2u64;
        let mut video_wcu = progress_wcu;
        let mut touched: Vec<(u32, u8)> = w.heat.iter().map(|c: &HeatChunk| (c.chunk, w.shard)).collect();
        if w.started && !w.heat.iter().any(|c| c.chunk == 0) {
            touched.push((0, w.shard));
        }
        for (chunk, shard) in touched {
            let item = self.heat.entry((chunk, shard)).or_insert_with(|| heat_item(&self.video, chunk, shard));
            let before = item_size(item);
            for c in w.heat.iter().filter(|c| c.chunk == chunk) {
                for d in &c.deltas {
                    if d.distinct > 0 {
                        add(item, &attrs::heat_distinct(d.bucket), u64::from(d.distinct));
                    }
                    if d.views > 0 {
                        add(item, &attrs::heat_views(d.bucket), u64::from(d.views));
                    }
                }
            }
            if w.started && chunk == 0 {
                add(item, attrs::HEAT_STARTERS, 1);
            }
            let units = transact_wcu(before.max(item_size(item)));
            table += units;
            video_wcu += units;
            items += 1;
            *window.heat.entry((chunk, shard)).or_default() += 1;
        }
        // The membership read of the grade passback, when the completion rose.
        let was = completion_of(st.stored.percent.unwrap_or(0), st.stored.completed_at.is_some());
        let completed = st.stored.completed_at.is_some() || w.completes;
        if completion_of(w.percent, completed) > was {
            self.t.completion_rose += 1;
            self.t.requests += 1;
            self.t.read_units += rcu(standing);
        }
        self.t.completions += usize::from(w.completes);
        window.video_items += items - 1;
        window.video_wcu += video_wcu;
        window.space_items += 1;
        window.space_wcu += transact_wcu(standing);
        window.all_wcu += table + index;
        self.t.table_wcu.push(table);
        self.t.index_wcu.push(index);
        self.t.items.push(items);
        *self.t.items_per_transaction.entry(items).or_default() += 1;
        st.stored = StoredWatch {
            coverage: Some(w.coverage.clone()),
            ledger: Some(w.ledger.clone()),
            duration_s: Some(w.duration_s),
            version: w.version + 1,
            completed_at: st.stored.completed_at.clone().or_else(|| w.completes.then(|| w.now.clone())),
            percent: Some(w.percent),
            ..st.stored.clone()
        };
        Ok(())
    }

    fn print(&self, label: &str, seed: u64, last_ms: i64) {
        let (t, heat, students, duration_s) = (&self.t, &self.heat, &self.students, self.duration_s);
        let hours = duration_s / 3_600.0;
        println!("== {label}: {STUDENTS} students, a {hours}-hour lecture ({duration_s} s), seed {seed:#x}");
        println!(
            "reports: {} sent over {:.1} h of wall clock; {} taken, {} replays (a retry: 2 GetItems, nothing written), refused {:?}",
            t.sent,
            (last_ms - self.start_ms) as f64 / 3_600_000.0,
            t.taken,
            t.replays,
            t.refused
        );
        println!(
            "requests: {:.3} per report sent ({} in all): per taken report 1 GetItem (consistent) + 1 TransactWriteItems, \
             + 1 GetItem of the membership when the completion rose ({} reports, {:.1} %), + 6 on a student's first report ({})",
            t.requests as f64 / t.sent as f64,
            t.requests,
            t.completion_rose,
            100.0 * t.completion_rose as f64 / t.taken as f64,
            t.first_reports
        );
        println!(
            "read units: {:.3} per report sent ({} in all, strongly consistent)",
            t.read_units as f64 / t.sent as f64,
            t.read_units
        );
        println!("per taken report (the transaction; index = GSI1 of the progress item and of the membership):");
        let total: Vec<u64> = t.table_wcu.iter().zip(&t.index_wcu).map(|(a, b)| a + b).collect();
        spread("table write units (transactional)", &t.table_wcu);
        spread("index write units (standard)", &t.index_wcu);
        spread("all write units", &total);
        spread("items written", &t.items);
        let dist: Vec<String> = t
            .items_per_transaction
            .iter()
            .map(|(k, v)| format!("{k} items: {v} ({:.2} %)", 100.0 * *v as f64 / t.taken as f64))
            .collect();
        println!("  items per transaction: {}", dist.join(", "));
        println!(
            "  first reports' put transaction: {} table + {} index write units in all ({} students); completions stamped: {}",
            t.first_put_wcu, t.first_put_index_wcu, t.first_reports, t.completions
        );
        println!(
            "write units of the lecture: {} (table {} + index {} + first puts {})",
            total.iter().sum::<u64>() + t.first_put_wcu + t.first_put_index_wcu,
            t.table_wcu.iter().sum::<u64>(),
            t.index_wcu.iter().sum::<u64>(),
            t.first_put_wcu + t.first_put_index_wcu
        );
        let per_s = |v: u64| v as f64 / (WINDOW_MS as f64 / 1_000.0);
        let peak = |f: &dyn Fn(&Window) -> u64| t.windows.values().map(f).max().unwrap_or(0);
        println!("peaks (per {} s window, spread evenly):", WINDOW_MS / 1_000);
        println!(
            "  VIDEO#{{id}} partition: {:.1} item writes/s, {:.1} write units/s",
            per_s(peak(&|w| w.video_items)),
            per_s(peak(&|w| w.video_wcu))
        );
        println!(
            "  SPACE#{{id}} partition (standings): {:.1} writes/s, {:.1} write units/s",
            per_s(peak(&|w| w.space_items)),
            per_s(peak(&|w| w.space_wcu))
        );
        println!("  one HEAT# item: {:.2} writes/s", per_s(peak(&|w| w.heat.values().copied().max().unwrap_or(0))));
        println!("  whole table with its index: {:.1} write units/s", per_s(peak(&|w| w.all_wcu)));
        let heat_sizes: Vec<usize> = heat.values().map(item_size).collect();
        let heat_total: usize = heat_sizes.iter().sum();
        let (largest_key, largest) = heat
            .iter()
            .max_by_key(|(_, i)| item_size(i))
            .map_or((String::new(), 0), |((c, sh), i)| (keys::heat(*c, *sh), item_size(i)));
        let attributes = heat.values().map(HashMap::len).max().unwrap_or(0);
        println!(
            "heat counters: {} items, {} B in all; the largest {largest_key} {largest} B ({attributes} attributes at most)",
            heat.len(),
            heat_total
        );
        println!(
            "heatmap read: access (2 requests) + 1 Query of {} items, {} B: {} read units strongly consistent (as the \
             adapter queries), {:.1} eventually consistent",
            heat.len(),
            heat_total,
            rcu(heat_total),
            heat_total.div_ceil(READ_UNIT) as f64 * 0.5
        );
        let progress_sizes: Vec<usize> = students.iter().filter_map(|s| s.progress.as_ref().map(item_size)).collect();
        let coverage: Vec<usize> = students.iter().filter_map(|s| s.stored.coverage.as_ref().map(Vec::len)).collect();
        let ledgers: Vec<usize> = students.iter().filter_map(|s| s.stored.ledger.as_ref().map(Vec::len)).collect();
        let membership: Vec<usize> = students.iter().map(|s| item_size(&s.membership)).collect();
        println!("at the end, per student:");
        sizes("progress item", &progress_sizes);
        sizes("coverage", &coverage);
        sizes("session ledger", &ledgers);
        sizes("membership (standing)", &membership);
        let percent: Vec<u64> = students.iter().map(|s| u64::from(s.stored.percent.unwrap_or(0))).collect();
        spread("coverage percent", &percent);
        println!();
    }
}

fn run(label: &str, duration_s: f64, seed: u64) -> Result<(), Failure> {
    let mut rng = Rng(seed);
    let start_ms = time::macros::datetime!(2026-12-07 09:00 UTC).unix_timestamp() * 1_000;
    let mut class = Class::new(&mut rng, duration_s, start_ms)?;
    let sent = class_reports(&mut rng, duration_s, start_ms)?;
    for r in &sent {
        class.take(r)?;
    }
    class.print(label, seed, sent.last().map_or(start_ms, |r| r.arrives_ms));
    Ok(())
}

/// The largest coverage and ledger the rules allow on a ten-hour lecture, and the progress item
/// that would carry them.
fn worst_case() -> Result<(), Failure> {
    let duration = 36_000.0;
    let t = Timeline::new(duration)?;
    let mut alternating = Coverage::empty(&t);
    for i in (0..t.buckets()).step_by(2) {
        alternating.cover(i..i + 1);
    }
    // A student who watched most of it in a few sittings, skipping some and leaving early.
    let mut typical = Coverage::empty(&t);
    for (start, end) in
        [(0.0, 3_600.0), (3_700.0, 9_000.0), (9_600.0, 14_400.0), (15_000.0, 21_000.0), (21_100.5, 30_000.0)]
    {
        typical.cover(t.covered(start, end));
    }
    // The worst ledger: 40 players (8 kept, 32 evicted), each of every other seq.
    let mut state = StudentCoverage::new(&t);
    let tiny = Interval { start: 0.0, end: 0.001, rate: 1.0 };
    for i in 0..40i64 {
        let opened = 1_700_000_000_000 + i * 86_400_000;
        let session = PlayerSession::parse(&format!("s{i}"))?;
        for seq in (0..vivid_domain::coverage::MAX_SEQ).step_by(2) {
            let report = WatchReport::new(session.clone(), seq, vec![tiny])?;
            apply(&mut state, &report, duration, opened + i64::from(seq) * 1_000)?;
        }
    }
    let (alternating, typical, ledger) = (alternating.encode(), typical.encode(), state.ledger.encode());
    println!("== a ten-hour lecture's coverage (18,000 buckets of 2 s)");
    println!("coverage: worst (every other bucket) {} B, typical (5 sittings) {} B", alternating.len(), typical.len());
    println!("session ledger: worst (8 sessions of every other seq, 32 evicted) {} B", ledger.len());
    let (video, space, user): (VideoId, SpaceId, UserId) = (
        "01JFZ8M3W0C5N9TQ2R7KXB4H6D".parse()?,
        "01JFZ8M3W0C5N9TQ2R7KXB4H6E".parse()?,
        "01JFZ8M3W0C5N9TQ2R7KXB4H6F".parse()?,
    );
    let now = "2026-12-07T19:00:00.000Z";
    let mut item = new_progress(&video, &space, &user, now)?;
    let w = WatchWrite {
        video,
        user,
        space_id: space,
        version: 9_999,
        coverage: alternating,
        ledger,
        duration_s: duration,
        percent: 50,
        watched_seconds: 18_000,
        completes: false,
        started: false,
        shard: 0,
        heat: Vec::new(),
        now: now.to_owned(),
    };
    save_progress(&mut item, &w);
    let size = item_size(&item);
    println!(
        "the progress item carrying both: {size} B: {} write units per report (+ {} on GSI1), {} read units per read",
        transact_wcu(size),
        2 * wcu(size),
        rcu(size)
    );
    println!();
    Ok(())
}

fn main() -> Result<(), Failure> {
    run("one hour", 3_600.0, SEED)?;
    worst_case()?;
    run("ten hours", 36_000.0, SEED)?;
    Ok(())
}
