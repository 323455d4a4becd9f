//! Scenarios through [`apply`]: what was watched is what is covered, the clock holds, replays
//! change nothing, the bytes stay small and junk is refused, and the class counters equal what
//! the students did.

#![allow(clippy::single_range_in_vec_init, reason = "bucket ranges are the values compared, not ranges to collect")]

use std::{collections::BTreeMap, ops::Range};

use proptest::prelude::*;

use super::*;

const S: i64 = 1_000;
const T0: i64 = 1_700_000_000_000;

fn session(s: &str) -> PlayerSession {
    PlayerSession::parse(s).expect("session")
}

fn report(s: &str, seq: u32, intervals: &[(f64, f64, f64)]) -> WatchReport {
    let intervals = intervals.iter().map(|&(start, end, rate)| Interval { start, end, rate }).collect();
    WatchReport::new(session(s), seq, intervals).expect("report")
}

fn merged(a: Result<Applied, CoverageError>) -> Merged {
    match a {
        Ok(Applied::Merged(m)) => m,
        other => panic!("not merged: {other:?}"),
    }
}

fn fresh(duration_s: f64) -> StudentCoverage {
    StudentCoverage::new(&Timeline::new(duration_s).expect("timeline"))
}

#[test]
fn watching_at_1x_and_2x_with_skips_rewatches_and_reordering_covers_what_was_watched() {
    let mut st = fresh(600.0);
    let d = 600.0;
    // Arrival times in seconds after the page load.
    let m0 = merged(apply(&mut st, &report("p", 0, &[(0.0, 30.0, 1.0)]), d, T0 + 30 * S));
    assert_eq!((m0.newly_covered, m0.percent_before, m0.started), (vec![0..15], 0, true));
    let m1 = merged(apply(&mut st, &report("p", 1, &[(30.0, 90.0, 2.0)]), d, T0 + 60 * S));
    assert_eq!((m1.newly_covered, m1.started), (vec![15..45], false));
    // Skips 90–200 s.
    merged(apply(&mut st, &report("p", 2, &[(200.0, 230.0, 1.0)]), d, T0 + 90 * S));
    // Rewatches 210–230 s and goes on to 240 s.
    let m3 = merged(apply(&mut st, &report("p", 3, &[(210.0, 240.0, 1.0)]), d, T0 + 120 * S));
    assert_eq!((m3.newly_covered, m3.views), (vec![115..120], vec![105..120]));
    // Seq 5 (a pause, 2 s) arrives before seq 4 (the 30 s before it).
    merged(apply(&mut st, &report("p", 5, &[(270.0, 272.0, 1.0)]), d, T0 + 152_500));
    let m4 = merged(apply(&mut st, &report("p", 4, &[(240.0, 270.0, 1.0)]), d, T0 + 153 * S));
    assert_eq!(m4.newly_covered, vec![120..135]);
    assert_eq!(st.coverage.watched_ranges(), vec![0..45, 100..136]);
    assert_eq!((st.coverage.watched_buckets(), st.coverage.percent(), m4.percent_after), (81, 27, 27));
    assert_eq!(st.coverage.watched_seconds(), 162);
    assert!(!st.coverage.is_complete(CompletionThreshold::DEFAULT));
    assert_eq!(st.ledger.session(&session("p")).map(|s| (s.claimed_wall_ms, s.reports())), Some((152_000, 6)));

    // The rest at 1.5×, in a second tab opened later: completion at 90 %, not before.
    let mut seq = 0;
    let mut at = 1_000;
    for (start, end) in [(90.0, 135.0), (135.0, 180.0), (180.0, 200.0), (272.0, 317.0), (317.0, 362.0)] {
        at += 30;
        merged(apply(&mut st, &report("q", seq, &[(start, end, 1.5)]), d, T0 + at * S));
        seq += 1;
    }
    assert_eq!(st.coverage.watched_ranges(), vec![0..181]);
    let mut last = None;
    while st.coverage.percent() < 100 {
        let start = 362.0 + f64::from(seq - 5) * 30.0;
        at += 30;
        let m = merged(apply(&mut st, &report("q", seq, &[(start, (start + 30.0).min(d), 1.0)]), d, T0 + at * S));
        if !completion(m.percent_before, CompletionThreshold::DEFAULT) && st.coverage.is_complete(Default::default()) {
            last = Some(m.percent_after);
        }
        seq += 1;
    }
    assert_eq!(last, Some(90), "completion is reached at 90 %");
    assert_eq!(st.coverage.watched_ranges(), vec![0..300]);
}

#[test]
fn a_replay_changes_nothing() {
    let mut st = fresh(600.0);
    let r = report("p", 0, &[(0.0, 20.0, 1.0), (100.0, 110.0, 1.0)]);
    merged(apply(&mut st, &r, 600.0, T0 + 30 * S));
    let kept = st.clone();
    assert_eq!(apply(&mut st, &r, 600.0, T0 + 31 * S), Ok(Applied::Replay));
    assert_eq!(apply(&mut st, &r, 600.0, T0 + 9_000 * S), Ok(Applied::Replay));
    // A report reusing the seq with other intervals is a replay too: the seq is the identity.
    assert_eq!(apply(&mut st, &report("p", 0, &[(300.0, 310.0, 1.0)]), 600.0, T0 + 40 * S), Ok(Applied::Replay));
    assert_eq!(st, kept);
    assert_eq!(StudentCoverage { coverage: st.coverage.clone(), ledger: st.ledger.clone() }, kept);
}

#[test]
fn more_than_the_clock_allows_is_refused_and_changes_nothing() {
    let mut st = fresh(36_000.0);
    let d = 36_000.0;
    merged(apply(&mut st, &report("p", 0, &[(0.0, 60.0, 1.0)]), d, T0 + 60 * S));
    let kept = st.clone();
    // 10 more seconds later, 2 minutes at 1× more: 180 s claimed, 70 s + 10 s allowed.
    assert_eq!(
        apply(&mut st, &report("p", 1, &[(60.0, 180.0, 1.0)]), d, T0 + 70 * S),
        Err(CoverageError::FasterThanTheClock { claimed_ms: 180_000, allowed_ms: 80_000 })
    );
    assert_eq!(st, kept, "the refused report left nothing");
    // Ten hours in one minute: 2-minute reports every second, in one session and in fresh ones.
    let mut accepted = 0;
    for i in 0..60 {
        let start = 60.0 + f64::from(i) * 480.0;
        let now = T0 + (61 + i64::from(i)) * S;
        for s in ["p", &format!("fresh{i}")] {
            if apply(&mut st, &report(s, i + 1, &[(start, start + 480.0, 4.0)]), d, now).is_ok() {
                accepted += 1;
            }
        }
    }
    assert!(accepted <= 5, "{accepted} reports of 2 minutes accepted in one minute");
    assert!(st.coverage.watched_seconds() < 3_600, "{} s covered", st.coverage.watched_seconds());
    // Past the video's end, and a video without a usable duration: refused, nothing changes.
    let kept = st.clone();
    assert!(matches!(
        apply(&mut st, &report("p", 100, &[(35_990.0, 36_001.5, 1.0)]), d, T0 + 9_000 * S),
        Err(CoverageError::PastTheEnd { .. })
    ));
    assert!(matches!(
        apply(&mut st, &report("p", 100, &[(0.0, 1.0, 1.0)]), f64::NAN, T0 + 9_000 * S),
        Err(CoverageError::Duration { .. })
    ));
    assert_eq!(st, kept);
}

#[test]
fn a_coverage_of_another_length_is_resized() {
    let mut st = fresh(100.0);
    merged(apply(&mut st, &report("p", 0, &[(0.0, 100.0, 1.0)]), 100.0, T0 + 100 * S));
    let m = merged(apply(&mut st, &report("p", 1, &[(100.0, 110.0, 1.0)]), 110.0, T0 + 110 * S));
    assert_eq!((st.coverage.buckets(), m.percent_after, st.coverage.watched_ranges()), (55, 100, vec![0..55]));
}

#[test]
fn a_ten_hour_coverage_is_at_most_4_kib() {
    let t = Timeline::new(36_000.0).expect("10 h");
    let mut alternating = Coverage::empty(&t);
    for i in (0..t.buckets()).step_by(2) {
        alternating.cover(i..i + 1);
    }
    let mut typical = Coverage::empty(&t);
    // A student who watched most of it in a few sittings, skipping some and leaving early.
    for (start, end) in
        [(0.0, 3_600.0), (3_700.0, 9_000.0), (9_600.0, 14_400.0), (15_000.0, 21_000.0), (21_100.5, 30_000.0)]
    {
        typical.cover(t.covered(start, end));
    }
    let mut ragged = Coverage::empty(&t);
    for i in 0..t.buckets() {
        if (i * 7919) % 13 < 5 {
            ragged.cover(i..i + 1);
        }
    }
    for (name, c) in [("alternating", &alternating), ("typical", &typical), ("ragged", &ragged)] {
        let bytes = c.encode();
        println!("10-hour coverage, {name}: {} watched buckets, {} bytes", c.watched_buckets(), bytes.len());
        assert!(bytes.len() <= 4096 && bytes.len() <= 2_251, "{name}: {} bytes", bytes.len());
        assert_eq!(Coverage::decode(&bytes, t.buckets()).as_ref(), Ok(c));
    }
    assert_eq!(alternating.encode().len(), 2_251);
    assert!(typical.encode().len() <= 32, "{} bytes", typical.encode().len());
    assert_eq!(Coverage::empty(&t).encode().len(), 4, "the format byte and 18,000 as a varint");
}

#[test]
fn junk_coverage_bytes_are_errors() {
    let b = 100;
    let junk: [&[u8]; 10] = [
        &[],
        &[0],
        &[9, 1, 2],
        &[1; 5],
        &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0],
        &[2],
        &[2, 50, 0, 50],
        &[2, 50, 60],
        &[2, 0x80, 0x00, 100],
        &[2, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    ];
    for bytes in junk {
        assert!(matches!(Coverage::decode(bytes, b), Err(CoverageError::Corrupt { .. })), "{bytes:?}");
    }
    assert_eq!(Coverage::decode(&[2, 100], 0), Err(CoverageError::Buckets { buckets: 0 }));
    assert!(Coverage::decode(&[2, 50, 50], b).is_ok());
}

/// A student's report in a script: who, seq, arrival (s), intervals.
type Step = (&'static str, u32, i64, Vec<(f64, f64, f64)>);

/// Bucket `i`'s midpoint, written out again: the test's own reading of the rule.
fn midpoint(i: u32, duration: f64) -> f64 {
    let start = f64::from(2 * i);
    (start + (start + 2.0).min(duration)) / 2.0
}

#[test]
fn heat_counters_equal_what_a_class_of_five_did() {
    let d = 700.0;
    let t = Timeline::new(d).expect("timeline");
    let (hb, heat) = (t.heat_bucket_seconds(), t.heat_buckets());
    assert_eq!((hb, heat, heat_chunks(d)), (10, 70, 0..3));
    // (student, seq, arrival s, intervals)
    let mut script: Vec<Step> = Vec::new();
    for k in 0..24u32 {
        let start = f64::from(k) * 30.0;
        script.push(("ana", k, 30 * (i64::from(k) + 1), vec![(start, (start + 30.0).min(d), 1.0)]));
    }
    for k in 0..4u32 {
        let start = f64::from(k) * 50.0;
        script.push(("bo", k, 25 * (i64::from(k) + 1), vec![(start, start + 50.0, 2.0)]));
    }
    script.push(("cy", 0, 100, vec![(0.0, 100.0, 1.0)]));
    script.push(("cy", 1, 200, vec![(400.0, 500.0, 1.0)]));
    script.push(("cy", 2, 270, vec![(450.0, 480.0, 1.0), (450.0, 480.0, 1.0)]));
    script.push(("cy", 1, 280, vec![(400.0, 500.0, 1.0)])); // a replay
    script.push(("dee", 1, 41, vec![(56.5, 60.0, 1.0)]));
    script.push(("dee", 0, 42, vec![(50.0, 56.5, 0.5)])); // late
    script.push(("eve", 0, 10, vec![(695.0, 700.0, 1.0), (0.0, 0.9, 1.0)]));

    let mut states: BTreeMap<&str, StudentCoverage> = BTreeMap::new();
    let mut distinct = vec![0u64; heat as usize];
    let mut views = vec![0u64; heat as usize];
    let mut starters = 0u64;
    let mut taken: Vec<(f64, f64)> = Vec::new();
    for (who, seq, at, intervals) in &script {
        let st = states.entry(who).or_insert_with(|| StudentCoverage::new(&t));
        let applied = apply(st, &report(who, *seq, intervals), d, T0 + at * S).expect("accepted");
        let Applied::Merged(m) = applied else { continue };
        taken.extend(intervals.iter().map(|&(s, e, _)| (s, e)));
        starters += u64::from(m.started);
        for chunk in m.heat_deltas() {
            for delta in chunk.deltas {
                assert_eq!(heat_chunk(delta.bucket), chunk.chunk);
                distinct[delta.bucket as usize] += u64::from(delta.distinct);
                views[delta.bucket as usize] += u64::from(delta.views);
            }
        }
    }
    assert_eq!(starters, 5);

    // From first principles: who has a watched midpoint in each heat bucket, and how many
    // intervals contain a midpoint of it.
    let in_heat = |h: u32| h * hb / 2..((h + 1) * hb / 2).min(t.buckets());
    let mut expect_distinct = vec![0u64; heat as usize];
    let mut expect_views = vec![0u64; heat as usize];
    for h in 0..heat {
        for st in states.values() {
            expect_distinct[h as usize] += u64::from(in_heat(h).any(|i| st.coverage.is_watched(i)));
        }
        for &(s, e) in &taken {
            expect_views[h as usize] += u64::from(in_heat(h).any(|i| (s..e).contains(&midpoint(i, d))));
        }
    }
    assert_eq!(distinct, expect_distinct);
    assert_eq!(views, expect_views);
    // And the coverage itself is the union of the taken intervals' midpoints.
    for (who, st) in &states {
        let mine: Vec<(f64, f64)> =
            script.iter().filter(|s| s.0 == *who).flat_map(|s| s.3.iter().map(|&(a, b, _)| (a, b))).collect();
        for i in 0..t.buckets() {
            assert_eq!(st.coverage.is_watched(i), mine.iter().any(|&(a, b)| (a..b).contains(&midpoint(i, d))));
        }
    }
    // A few by hand: 0–10 s was watched by ana, bo, cy (eve's 0.9 s covers no midpoint).
    assert_eq!((distinct[0], views[0]), (3, 3));
    // 450–460 s: ana once, cy three times (400–500 and twice 450–480).
    assert_eq!((distinct[45], views[45]), (2, 4));
    assert_eq!((distinct[5], views[5]), (4, 5), "50–60 s: ana, bo, cy, dee (two intervals)");
    assert_eq!((distinct[69], views[69]), (2, 2), "690–700 s: ana and eve");

    let counters =
        (0..heat).map(|h| HeatCounter { bucket: h, distinct: distinct[h as usize], views: views[h as usize] });
    let map = Heatmap::build(d, counters, starters).expect("heatmap");
    // Students whose last watched heat bucket is at or after `h`, and the curve's bound of it.
    for h in 0..heat {
        let still = states.values().filter(|st| (h..heat).any(|j| in_heat(j).any(|i| st.coverage.is_watched(i))));
        let truth = still.count() as f64 / starters as f64;
        assert!(map.dropoff[h as usize] <= truth + 1e-12, "{h}: {} > {truth}", map.dropoff[h as usize]);
    }
    // The most students in one bucket at or after it: 4 at 50–60 s (all but eve, who watched only
    // the end: the bound's limit, the truth at 0 s is 5), then ana and cy at 400–500 s, then ana
    // and eve at the end.
    assert_eq!((map.dropoff[0], map.dropoff[20], map.dropoff[50], map.dropoff[69]), (0.8, 0.4, 0.4, 0.4));
    assert!(map.dropoff.windows(2).all(|w| w[0] >= w[1]));
}

fn interval() -> impl Strategy<Value = (f64, f64, f64)> {
    (0.0f64..290.0, 0.01f64..14.0, prop::sample::select(vec![0.5, 1.0, 1.25, 2.0, 4.0]))
        .prop_map(|(start, len, rate)| (start, (start + len).min(300.0), rate))
}

proptest! {
    /// The same reports in any order give the same coverage, and the first-time heat deltas sum
    /// to one per watched heat bucket whatever the order.
    #[test]
    fn coverage_is_the_same_in_any_order(
        (reports, order) in prop::collection::vec(prop::collection::vec(interval(), 1..5), 1..7)
            .prop_flat_map(|r| { let n = r.len(); (Just(r), Just((0..n).collect::<Vec<_>>()).prop_shuffle()) })
    ) {
        let run = |order: &[usize]| {
            let mut st = fresh(300.0);
            let mut entered = BTreeMap::<u32, u32>::new();
            for (k, &i) in order.iter().enumerate() {
                let r = report("p", i as u32, &reports[i]);
                if let Ok(Applied::Merged(m)) = apply(&mut st, &r, 300.0, T0 + 3_600 * S * (k as i64 + 1)) {
                    for h in m.entered_heat { *entered.entry(h).or_default() += 1; }
                }
            }
            (st.coverage, entered)
        };
        let (a, entered_a) = run(&(0..reports.len()).collect::<Vec<_>>());
        let (b, entered_b) = run(&order);
        prop_assert_eq!(&a, &b);
        prop_assert!(entered_a.values().chain(entered_b.values()).all(|n| *n == 1));
        let watched_heat: Vec<u32> = (0..30).filter(|h| a.any_watched(h * 5..h * 5 + 5)).collect();
        prop_assert_eq!(entered_a.keys().copied().collect::<Vec<_>>(), watched_heat.clone());
        prop_assert_eq!(entered_b.keys().copied().collect::<Vec<_>>(), watched_heat);
    }

    #[test]
    fn any_coverage_round_trips(buckets in 1u32..3_000, ranges in prop::collection::vec((0u32..3_000, 0u32..40), 0..60)) {
        let mut c = Coverage::new(buckets).expect("coverage");
        for (s, len) in ranges { c.cover(s..s + len); }
        let bytes = c.encode();
        prop_assert!(bytes.len() <= 1 + buckets.div_ceil(8) as usize);
        prop_assert_eq!(Coverage::decode(&bytes, buckets), Ok(c));
    }

    /// Arbitrary bytes never panic; what is accepted is exactly what `encode` writes.
    #[test]
    fn junk_never_panics(
        head in prop::sample::select(vec![1u8, 2, 0, 3]),
        body in prop::collection::vec(any::<u8>(), 0..120),
        buckets in prop::sample::select(vec![1u32, 7, 8, 9, 100, 800, MAX_BUCKETS, 0, MAX_BUCKETS + 1]),
    ) {
        let mut bytes = vec![head];
        bytes.extend(body);
        if let Ok(c) = Coverage::decode(&bytes, buckets) {
            prop_assert_eq!(c.encode(), bytes.clone());
        }
        if let Ok(l) = SessionLedger::decode(&bytes) {
            prop_assert_eq!(l.encode(), bytes);
        }
    }
}

#[test]
fn ranges_of_a_merge_are_ordered_and_disjoint() {
    let mut st = fresh(600.0);
    let m = merged(apply(
        &mut st,
        &report("p", 0, &[(100.0, 120.0, 1.0), (0.0, 10.0, 1.0), (8.0, 30.0, 1.0)]),
        600.0,
        T0 + 60 * S,
    ));
    let expected: Vec<Range<u32>> = vec![0..15, 50..60];
    assert_eq!(m.newly_covered, expected);
    assert_eq!(m.views, vec![50..60, 0..5, 4..15]);
    let views = m.heat_views();
    assert_eq!(views, vec![(0, 2), (1, 1), (2, 1), (10, 1), (11, 1)]);
    assert_eq!(m.heat_distinct(), vec![(0, 1), (1, 1), (2, 1), (10, 1), (11, 1)]);
}

/// A review's attack: slivers across each bucket's midpoint (1 ms at 4×, charged 0.25 ms) covered
/// a whole hour in 29 reports. A sliver plays less than half its bucket: it covers nothing, and
/// adds no view.
#[test]
fn slivers_across_midpoints_cover_nothing() {
    let d = 3_600.0;
    let mut st = fresh(d);
    for seq in 0..29u32 {
        let intervals: Vec<(f64, f64, f64)> = (0..64u32)
            .map(|k| {
                let mid = f64::from((seq * 64 + k) * 2 + 1);
                (mid - 0.0005, mid + 0.0005, 4.0)
            })
            .filter(|(_, end, _)| *end <= d)
            .collect();
        if intervals.is_empty() {
            break;
        }
        let m = merged(apply(&mut st, &report("sliver", seq, &intervals), d, T0 + i64::from(seq) * 100));
        assert!(m.newly_covered.is_empty() && m.heat_views().is_empty(), "report {seq}: {m:?}");
    }
    assert_eq!(st.coverage.watched_buckets(), 0);
}

/// A review's attack: once 8 sessions are kept, each fresh session evicted one holding claims,
/// so the claims summed over the kept sessions stayed flat forever. The budget is the student's
/// whatever the sessions: a burst of fresh sessions at one instant gets at most the budget's cap
/// (two full reports and the slack), then 2 ms per ms of the clock.
#[test]
fn fresh_sessions_share_one_budget() {
    let d = 3_600.0;
    let mut st = fresh(d);
    let mut claimed_ms = 0i64;
    for i in 0..180u32 {
        let start = f64::from(i * 20);
        let r = report(&format!("fresh{i}"), 0, &[(start, start + 10.0, 1.0)]);
        match apply(&mut st, &r, d, T0) {
            Ok(Applied::Merged(_)) => claimed_ms += 10 * S,
            Err(CoverageError::FasterThanTheClock { .. }) => {}
            other => panic!("session {i}: {other:?}"),
        }
    }
    assert!(claimed_ms <= BUDGET_CAP_MS, "{claimed_ms} ms claimed at one instant");
    // A minute later, two players' worth more: 120 s, no more.
    let mut later_ms = 0i64;
    for i in 180..400u32 {
        let start = f64::from((i - 180) * 15);
        let r = report(&format!("fresh{i}"), 0, &[(start, start + 10.0, 1.0)]);
        if let Ok(Applied::Merged(_)) = apply(&mut st, &r, d, T0 + 60 * S) {
            later_ms += 10 * S;
        }
    }
    assert!(later_ms <= 2 * 60 * S + 10 * S, "{later_ms} ms claimed in the next minute");
}
