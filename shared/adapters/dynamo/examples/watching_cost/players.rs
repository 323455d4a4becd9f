//! The players: what each student plays and reports, on the virtual clock.

use vivid_domain::coverage::{Interval, PlayerSession, WatchReport};

use crate::{Failure, STUDENTS, rng::Rng};

/// The player reports after this much playing (and on pause and close).
const REPORT_EVERY_MS: i64 = 30_000;

/// One report as sent: by whom, when it arrives (server clock, ms), what it says.
pub(crate) struct Sent {
    pub(crate) student: usize,
    pub(crate) arrives_ms: i64,
    pub(crate) report: WatchReport,
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
pub(crate) fn class_reports(rng: &mut Rng, duration_s: f64, start_ms: i64) -> Result<Vec<Sent>, Failure> {
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
