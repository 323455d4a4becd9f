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
//!
//! The modules: `players` (what each student plays and reports), `class` (the reports taken and
//! tallied), `table` (the items as the adapter leaves them), `sizes` (DynamoDB's item size and
//! units), `report` (the printed figures), `rng` (the seeded generator).

mod class;
mod players;
mod report;
mod rng;
mod sizes;
mod table;

use std::{collections::HashMap, error::Error};

use aws_sdk_dynamodb::types::AttributeValue;
use vivid_domain::{
    coverage::{Coverage, Interval, PlayerSession, StudentCoverage, Timeline, WatchReport, apply},
    types::{SpaceId, UserId, VideoId},
    watching::WatchWrite,
};

use crate::{
    class::Class,
    players::class_reports,
    rng::Rng,
    sizes::{item_size, rcu, transact_wcu, wcu},
    table::{new_progress, save_progress},
};

type Item = HashMap<String, AttributeValue>;
type Failure = Box<dyn Error>;

const STUDENTS: usize = 500;
const SEED: u64 = 0x7669_7669_6432_3032;
/// Peaks are per window of this length, its reports taken as spread evenly over it.
const WINDOW_MS: i64 = 30_000;

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
