//! Watched coverage (issue 29), black-box: the player's reports of what it played
//! (`POST /videos/{videoId}/watching`), the member's own coverage (`GET` of it), completion by
//! coverage in the class view, and the class heatmap (`GET /videos/{videoId}/heatmap`).
//!
//! Every expected coverage below is worked out by hand from the documented rule, not by the
//! domain code: a video has `ceil(duration / 2)` buckets of 2 s, and an interval `[start, end)`
//! covers bucket `i` when it contains its midpoint, `start ≤ 2i + 1 < end`; ranges are answered
//! in seconds, `[2·first, 2·(last + 1))`. Heat buckets are 10 s (5 coverage buckets) for videos
//! up to an hour. The clock: a session's first report may claim up to 120 s of wall time
//! (`(end − start) / rate`), a later one only what the wall clock allows since the session opened
//! plus 10 s (plus one report's worth, 120 s, for a report older than the one that opened it),
//! and all of a student's sessions together at most twice the time since the earliest opened,
//! plus 10 s each, plus 120 s. The reports here fit those rules without waiting.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{Reply, TestApp, TestUser};

/// The report body of `(start, end, rate)` intervals.
fn body(session: &str, seq: u32, intervals: &[(f64, f64, f64)]) -> Value {
    let intervals: Vec<Value> =
        intervals.iter().map(|&(start, end, rate)| json!({ "start": start, "end": end, "rate": rate })).collect();
    json!({ "session": session, "seq": seq, "intervals": intervals })
}

async fn report(
    app: &TestApp,
    video: &str,
    who: &TestUser,
    session: &str,
    seq: u32,
    intervals: &[(f64, f64, f64)],
) -> Reply {
    app.post(&format!("/videos/{video}/watching"), &who.token, body(session, seq, intervals)).await
}

/// A report that must be taken (200, not a replay); its answer.
async fn taken(
    app: &TestApp,
    video: &str,
    who: &TestUser,
    session: &str,
    seq: u32,
    intervals: &[(f64, f64, f64)],
) -> Value {
    let r = report(app, video, who, session, seq, intervals).await;
    assert_eq!(r.status, StatusCode::OK, "{session}/{seq}: {:?}", r.body);
    assert!(r.body.get("replay").is_none(), "{session}/{seq} is no replay: {:?}", r.body);
    r.body
}

/// A report refused as faster than the clock.
async fn too_fast(app: &TestApp, video: &str, who: &TestUser, session: &str, seq: u32, intervals: &[(f64, f64, f64)]) {
    let r = report(app, video, who, session, seq, intervals).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "faster_than_the_clock"), "{:?}", r.body);
}

/// The member's own coverage, as `GET /videos/{videoId}/watching` answers it.
async fn own(app: &TestApp, video: &str, who: &TestUser) -> Value {
    let r = app.get(&format!("/videos/{video}/watching"), &who.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

/// Asserts a coverage answer: its ranges in seconds, its percent and watched seconds.
fn assert_coverage(got: &Value, ranges: &[[u32; 2]], percent: u32, watched_seconds: u32) {
    assert_eq!(got["ranges"], json!(ranges), "{got}");
    assert_eq!(
        (got["percent"].clone(), got["watchedSeconds"].clone()),
        (json!(percent), json!(watched_seconds)),
        "{got}"
    );
}

/// The class view's row of each member (`GET /spaces/{spaceId}/progress`), by user id.
async fn class(app: &TestApp, space: &str, host: &TestUser) -> HashMap<String, Value> {
    let (items, _) = app.all_pages(&format!("/spaces/{space}/progress"), &host.token, 100).await;
    items.into_iter().map(|i| (i["userId"].as_str().unwrap_or_default().to_owned(), i)).collect()
}

#[tokio::test]
async fn given_1x_2x_a_skip_a_rewatch_and_reordered_reports_then_the_coverage_is_what_was_watched() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let ana = app.user("Ana").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &ana).await;
    // 300 s: 150 buckets.
    let v = app.lecture(&space, &host, 300).await;
    let nothing = own(&app, &v, &ana).await;
    assert_coverage(&nothing, &[], 0, 0);
    assert_eq!(nothing["completed"], false);

    // What Ana's player played, in the order she played it:
    // seq 0: 0 → 61.3 at 1× (61.3 s of wall time);
    // seq 1: 61.3 → 100 at 2×, skips 100 → 151.5, then 151.5 → 190.7 at 2× (38.95 s);
    // seq 2: seeks back and rewatches 40 → 70 at 1× (30 s).
    let seq0 = [(0.0, 61.3, 1.0)];
    let seq1 = [(61.3, 100.0, 2.0), (151.5, 190.7, 2.0)];
    let seq2 = [(40.0, 70.0, 1.0)];
    // The network delivers seq 2 first: it opens the session (30 s before it arrived).
    // [40, 70): midpoints 41 (i = 20) to 69 (i = 34).
    let after2 = taken(&app, &v, &ana, "page-1", 2, &seq2).await;
    assert_coverage(&after2, &[[40, 70]], 10, 30);
    // Then seq 1, older than the session's opening report: it fits the one report's worth of
    // credit. [61.3, 100): midpoints 63 (i = 31) to 99 (i = 49); [151.5, 190.7): 153 (i = 76,
    // the midpoint 151 is before the start) to 189 (i = 94, the midpoint 191 is past the end).
    let after1 = taken(&app, &v, &ana, "page-1", 1, &seq1).await;
    // Buckets 20..=49 and 76..=94: 30 + 19 = 49 of 150, 32 %.
    assert_coverage(&after1, &[[40, 100], [152, 190]], 32, 98);
    // Then seq 0: [0, 61.3) covers midpoints 1 (i = 0) to 61 (i = 30).
    let after0 = taken(&app, &v, &ana, "page-1", 0, &seq0).await;
    // Buckets 0..=49 and 76..=94: 69 of 150, 46 %; the skipped part [100, 152) and the end stay
    // unwatched, the rewatched [40, 70) counts once.
    let watched = [[0, 100], [152, 190]];
    assert_coverage(&after0, &watched, 46, 138);
    assert_eq!((after0["completed"].clone(), after0.get("completedAt")), (json!(false), None));

    // A replayed report (the player retried, or the network duplicated it): answered as a replay,
    // nothing changes.
    for (seq, intervals) in [(1, &seq1[..]), (2, &seq2[..]), (0, &seq0[..])] {
        let r = report(&app, &v, &ana, "page-1", seq, intervals).await;
        assert_eq!((r.status, r.body["replay"].clone()), (StatusCode::OK, json!(true)), "seq {seq}: {:?}", r.body);
        assert_coverage(&r.body, &watched, 46, 138);
    }
    // A seq seen before is the report seen before, whatever it now claims.
    let r = report(&app, &v, &ana, "page-1", 1, &[(200.0, 260.0, 2.0)]).await;
    assert_eq!((r.status, r.body["replay"].clone()), (StatusCode::OK, json!(true)), "{:?}", r.body);
    assert_coverage(&r.body, &watched, 46, 138);

    // A page reload: a second session rewatches [10, 30) at 2× (10 s); already watched.
    let again = taken(&app, &v, &ana, "page-2", 0, &[(10.0, 30.0, 2.0)]).await;
    assert_coverage(&again, &watched, 46, 138);

    let mine = own(&app, &v, &ana).await;
    assert_coverage(&mine, &watched, 46, 138);
    assert_eq!((mine["completed"].clone(), mine.get("replay")), (json!(false), None), "{mine}");
}

#[tokio::test]
async fn given_a_client_claiming_more_than_the_clock_then_it_is_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let bo = app.user("Bo").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &bo).await;
    let v = app.lecture(&space, &host, 600).await;

    // Two minutes at 1×, the most one report may claim: the session opens two minutes ago.
    let first = taken(&app, &v, &bo, "tab-1", 0, &[(0.0, 120.0, 1.0)]).await;
    assert_coverage(&first, &[[0, 120]], 20, 120);
    // Right away, two more minutes of the same session: the clock allows 10 s more, not 120 s,
    // at 1× or at 2× (60 s).
    too_fast(&app, &v, &bo, "tab-1", 1, &[(120.0, 240.0, 1.0)]).await;
    too_fast(&app, &v, &bo, "tab-1", 1, &[(120.0, 240.0, 2.0)]).await;
    assert_coverage(&own(&app, &v, &bo).await, &[[0, 120]], 20, 120);
    // The refused seq was not recorded: within the slack, the same seq is taken.
    let slack = taken(&app, &v, &bo, "tab-1", 1, &[(120.0, 128.0, 1.0)]).await;
    assert_coverage(&slack, &[[0, 128]], 21, 128);

    // Fresh sessions, two minutes each, right away: a second player beside the first is allowed
    // (one budget for Bo's video, whatever the sessions: two full reports and the 10 s slack, 250 s,
    // refilled at twice the clock); a third right away is refused, and so is any other fresh one.
    let second = taken(&app, &v, &bo, "tab-2", 0, &[(128.0, 248.0, 1.0)]).await;
    assert_coverage(&second, &[[0, 248]], 41, 248);
    too_fast(&app, &v, &bo, "tab-3", 0, &[(248.0, 368.0, 1.0)]).await;
    too_fast(&app, &v, &bo, "tab-4", 0, &[(368.0, 488.0, 1.0)]).await;
    too_fast(&app, &v, &bo, "tab-5", 0, &[(368.0, 600.0, 2.0)]).await;
    assert_coverage(&own(&app, &v, &bo).await, &[[0, 248]], 41, 248);
    // The heatmap counts only what was taken: every heat bucket of [0, 250) has a view, none after.
    let heat = app.get(&format!("/videos/{v}/heatmap"), &host.token).await;
    assert_eq!(heat.status, StatusCode::OK, "{:?}", heat.body);
    let views: Vec<u64> =
        heat.body["buckets"].as_array().expect("buckets").iter().map(|b| b["views"].as_u64().unwrap_or(99)).collect();
    // Views per 10 s heat bucket: tab-1's seq 0 covers [0, 120) (heat buckets 0..=11), its seq 1
    // [120, 128) (12), tab-2 [128, 248) (12..=24): [120, 130) has two views, [250, 600) none.
    let mut expected = vec![0u64; 60];
    for (start, end) in [(0usize, 12usize), (12, 13), (12, 25)] {
        for e in &mut expected[start..end] {
            *e += 1;
        }
    }
    assert_eq!(views, expected, "{:?}", heat.body);
}

#[tokio::test]
async fn given_ninety_percent_watched_then_the_video_is_completed_once_and_stays_completed() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let (bo, cy) = (app.user("Bo").await, app.user("Cy").await);
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &bo).await;
    app.join(&space, &host, &cy).await;
    // 200 s: 100 buckets, one per percent.
    let v = app.lecture(&space, &host, 200).await;

    // [0, 178) at 2× (89 s): buckets 0..=88, 89 %: not yet.
    let r = taken(&app, &v, &bo, "p", 0, &[(0.0, 178.0, 2.0)]).await;
    assert_coverage(&r, &[[0, 178]], 89, 178);
    assert_eq!((r["completed"].clone(), r.get("completedAt")), (json!(false), None), "{r}");
    assert_eq!(class(&app, &space, &host).await[&bo.id()]["videosCompleted"], 0);

    // One more bucket (1 s of wall time, within the slack): 90 %, completed.
    let r = taken(&app, &v, &bo, "p", 1, &[(178.0, 180.0, 2.0)]).await;
    assert_coverage(&r, &[[0, 180]], 90, 180);
    assert_eq!(r["completed"], true, "{r}");
    let completed_at = r["completedAt"].as_str().expect("completedAt").to_owned();
    assert!(time::OffsetDateTime::parse(&completed_at, &time::format_description::well_known::Rfc3339).is_ok());
    assert_eq!(class(&app, &space, &host).await[&bo.id()]["videosCompleted"], 1);

    // More reports, a replay, a rewind and a progress write of 100 by an old client: still
    // completed at the same time, counted once.
    let r = taken(&app, &v, &bo, "p", 2, &[(180.0, 190.0, 2.0)]).await;
    assert_coverage(&r, &[[0, 190]], 95, 190);
    assert_eq!((r["completed"].clone(), r["completedAt"].clone()), (json!(true), json!(completed_at)), "{r}");
    let r = report(&app, &v, &bo, "p", 1, &[(178.0, 180.0, 2.0)]).await;
    assert_eq!((r.body["replay"].clone(), r.body["completedAt"].clone()), (json!(true), json!(completed_at)));
    for rate in [10, 100] {
        let r = app
            .call(
                Method::PUT,
                &format!("/videos/{v}/progress"),
                Some(&bo.token),
                Some(json!({ "progressRate": rate, "positionSeconds": 20.0 })),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    }
    let r = taken(&app, &v, &bo, "p", 3, &[(190.0, 196.0, 2.0)]).await;
    assert_coverage(&r, &[[0, 196]], 98, 196);
    assert_eq!((r["completed"].clone(), r["completedAt"].clone()), (json!(true), json!(completed_at)), "{r}");
    let mine = own(&app, &v, &bo).await;
    assert_coverage(&mine, &[[0, 196]], 98, 196);
    assert_eq!((mine["completed"].clone(), mine["completedAt"].clone()), (json!(true), json!(completed_at)));
    let rows = class(&app, &space, &host).await;
    assert_eq!(rows[&bo.id()]["videosCompleted"], 1, "{:?}", rows[&bo.id()]);

    // Cy's old client says 100 without watching: the rate is its claim and completes nothing;
    // watching all of it then completes the video, counted once.
    let r = app
        .call(
            Method::PUT,
            &format!("/videos/{v}/progress"),
            Some(&cy.token),
            Some(json!({ "progressRate": 100, "positionSeconds": 200.0 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let before = own(&app, &v, &cy).await;
    assert_coverage(&before, &[], 0, 0);
    assert_eq!((before["completed"].clone(), before.get("completedAt")), (json!(false), None), "{before}");
    let rows = class(&app, &space, &host).await;
    assert_eq!(rows[&cy.id()]["videosCompleted"], 0, "a claimed 100 completes nothing: {:?}", rows[&cy.id()]);
    let r = taken(&app, &v, &cy, "q", 0, &[(0.0, 200.0, 2.0)]).await;
    assert_coverage(&r, &[[0, 200]], 100, 200);
    assert!(r["completed"] == json!(true) && r["completedAt"].is_string(), "{r}");
    let rows = class(&app, &space, &host).await;
    assert_eq!(
        (rows[&bo.id()]["videosCompleted"].clone(), rows[&cy.id()]["videosCompleted"].clone()),
        (json!(1), json!(1)),
        "{rows:?}"
    );
}

#[tokio::test]
async fn given_three_students_watching_then_the_heatmap_counts_who_watched_each_part_and_how_often() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let co = app.user("Co").await;
    let (ana, bo, cy, dee) = (app.user("Ana").await, app.user("Bo").await, app.user("Cy").await, app.user("Dee").await);
    let space = app.space(&host, "Course").await;
    for who in [&co, &ana, &bo, &cy, &dee] {
        app.join(&space, &host, who).await;
    }
    app.promote(&space, &host, &co).await;
    // 60 s: 30 buckets, six heat buckets of 10 s (5 buckets each).
    let v = app.lecture(&space, &host, 60).await;
    let path = format!("/videos/{v}/heatmap");

    let empty = app.get(&path, &host.token).await;
    assert_eq!(empty.status, StatusCode::OK, "{:?}", empty.body);
    assert_eq!(
        empty.body,
        json!({
            "bucketSeconds": 10,
            "buckets": (0..6).map(|i| json!({ "startS": i * 10, "distinct": 0, "views": 0 })).collect::<Vec<_>>(),
            "dropoff": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            "starters": 0,
        })
    );
    let calls = app.stack.dynamodb_calls();
    app.get(&path, &host.token).await;
    let empty_cost = app.stack.dynamodb_calls() - calls;

    // Ana watches it all at 1×, then rewatches [50, 60) at 2×: buckets 0..=29, then 25..=29.
    taken(&app, &v, &ana, "a", 0, &[(0.0, 60.0, 1.0)]).await;
    taken(&app, &v, &ana, "a", 1, &[(50.0, 60.0, 2.0)]).await;
    // Bo watches [0, 13) and rewinds to rewatch [4, 9), in one report: buckets 0..=5 (the
    // midpoint 11 of [10, 12) is before 13; heat buckets 0 and 1), then 2..=3 (midpoints 5 and
    // 7; heat bucket 0). The player retries the report: a replay.
    let bo_seen = [(0.0, 13.0, 1.0), (4.0, 9.0, 1.0)];
    taken(&app, &v, &bo, "b", 0, &bo_seen).await;
    let r = report(&app, &v, &bo, "b", 0, &bo_seen).await;
    assert_eq!(r.body["replay"], true, "{:?}", r.body);
    // Cy skips to 30 and watches [30, 41) at 2×: buckets 15..=19 (midpoints 31 to 39), heat
    // bucket 3 only; then claims the rest of the video right away: refused, not counted.
    let cy_seen = taken(&app, &v, &cy, "c", 0, &[(30.0, 41.0, 2.0)]).await;
    assert_coverage(&cy_seen, &[[30, 40]], 16, 10);
    too_fast(&app, &v, &cy, "c", 1, &[(0.0, 60.0, 1.0), (0.0, 60.0, 1.0)]).await;
    // Dee plays half a second: no midpoint, nothing watched, not a starter.
    let dee_seen = taken(&app, &v, &dee, "d", 0, &[(0.0, 0.5, 1.0)]).await;
    assert_coverage(&dee_seen, &[], 0, 0);

    // Per heat bucket: distinct students, and views (each interval's pass over a part of it).
    //            [0,10)      [10,20)   [20,30)  [30,40)    [40,50)  [50,60)
    // distinct:  Ana Bo = 2  Ana Bo=2  Ana = 1  Ana Cy = 2 Ana = 1  Ana = 1
    // views:     1 + 2 = 3   1 + 1 = 2 1        1 + 1 = 2  1        1 + 1 = 2
    let distinct = [2, 2, 1, 2, 1, 1];
    let views = [3, 2, 1, 2, 1, 2];
    let buckets: Vec<Value> =
        (0..6).map(|i| json!({ "startS": i * 10, "distinct": distinct[i], "views": views[i] })).collect();
    for who in [&host, &co] {
        let r = app.get(&path, &who.token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(
            (r.body["bucketSeconds"].clone(), r.body["buckets"].clone(), r.body["starters"].clone()),
            (json!(10), json!(buckets), json!(3)),
            "{:?}",
            r.body
        );
        // Drop-off: the most distinct students in this heat bucket or a later one, of the three
        // who started: 2/3 up to [30, 40) (Cy there), then 1/3 (Ana alone).
        let dropoff: Vec<f64> =
            r.body["dropoff"].as_array().expect("dropoff").iter().map(|d| d.as_f64().unwrap_or(-1.0)).collect();
        let expected = [2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0];
        assert_eq!(dropoff.len(), 6, "{dropoff:?}");
        for (got, want) in dropoff.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{dropoff:?}");
        }
        assert!(dropoff.windows(2).all(|w| w[0] >= w[1]), "non-increasing: {dropoff:?}");
    }
    // Bounded: the same requests as for a video nobody watched.
    let calls = app.stack.dynamodb_calls();
    app.get(&path, &host.token).await;
    let cost = app.stack.dynamodb_calls() - calls;
    println!("GET /videos/{{id}}/heatmap: {empty_cost} DynamoDB requests unwatched, {cost} watched by 3");
    assert_eq!(cost, empty_cost);

    // Each student sees their own coverage only.
    assert_coverage(&own(&app, &v, &ana).await, &[[0, 60]], 100, 60);
    assert_coverage(&own(&app, &v, &bo).await, &[[0, 12]], 20, 12);
    assert_coverage(&own(&app, &v, &cy).await, &[[30, 40]], 16, 10);
}

#[tokio::test]
async fn given_each_caller_and_bad_reports_then_the_answers_match_their_standing() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let (co, ana, stranger) = (app.user("Co").await, app.user("Ana").await, app.user("Stranger").await);
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &co).await;
    app.join(&space, &host, &ana).await;
    app.promote(&space, &host, &co).await;
    let v = app.lecture(&space, &host, 100).await;
    let (watching, heatmap) = (format!("/videos/{v}/watching"), format!("/videos/{v}/heatmap"));
    let good = body("ok-1", 0, &[(0.0, 10.0, 1.0)]);

    // Anonymous: 401 everywhere.
    for (method, path, b) in
        [(Method::POST, &watching, Some(good.clone())), (Method::GET, &watching, None), (Method::GET, &heatmap, None)]
    {
        let r = app.call(method.clone(), path, None, b).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}: {:?}", r.body);
    }
    // Not a member: as if the video did not exist.
    for (method, path, b) in
        [(Method::POST, &watching, Some(good.clone())), (Method::GET, &watching, None), (Method::GET, &heatmap, None)]
    {
        let r = app.call(method.clone(), path, Some(&stranger.token), b).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {:?}", r.body);
    }
    // A participant reports and reads their own coverage, not the class's.
    let r = app.post(&watching, &ana.token, good.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_coverage(&r.body, &[[0, 10]], 10, 10);
    assert_coverage(&own(&app, &v, &ana).await, &[[0, 10]], 10, 10);
    let r = app.get(&heatmap, &ana.token).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "managers_only"), "{:?}", r.body);
    // The host and the co-host read the heatmap; they may watch too.
    for who in [&host, &co] {
        let r = app.get(&heatmap, &who.token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!((r.body["starters"].clone(), r.body["buckets"][0]["distinct"].clone()), (json!(1), json!(1)));
    }
    for who in [&host, &co] {
        let r = app.post(&watching, &who.token, body("mgr", 0, &[(0.0, 4.0, 1.0)])).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_coverage(&own(&app, &v, who).await, &[[0, 4]], 4, 4);
    }

    // Bad reports: 422 invalid_watch_report, nothing taken.
    let many: Vec<(f64, f64, f64)> = (0..65).map(|i| (f64::from(i), f64::from(i) + 0.5, 1.0)).collect();
    let bad = [
        ("rate 10", body("bad", 1, &[(10.0, 20.0, 10.0)])),
        ("rate 0.1", body("bad", 1, &[(10.0, 20.0, 0.1)])),
        ("end before start", body("bad", 1, &[(20.0, 10.0, 1.0)])),
        ("empty interval", body("bad", 1, &[(20.0, 20.0, 1.0)])),
        ("before 0", body("bad", 1, &[(-1.0, 10.0, 1.0)])),
        ("no interval", body("bad", 1, &[])),
        ("65 intervals", body("bad", 1, &many)),
        ("a space in the session", body("page 1", 1, &[(10.0, 20.0, 1.0)])),
        ("an empty session", body("", 1, &[(10.0, 20.0, 1.0)])),
        ("a 65-character session", body(&"s".repeat(65), 1, &[(10.0, 20.0, 1.0)])),
        ("seq 4096", body("bad", 4096, &[(10.0, 20.0, 1.0)])),
        ("past the end", body("bad", 1, &[(90.0, 101.5, 1.0)])),
        ("more than two minutes in one report", body("bad", 1, &[(0.0, 60.0, 1.0), (60.0, 100.0, 0.25)])),
    ];
    for (why, b) in bad {
        let r = app.post(&watching, &ana.token, b).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_watch_report"),
            "{why}: {:?}",
            r.body
        );
    }
    // At the limits: 64 intervals, seq 4095, rate 0.25 and 4, the end 1 s past the video.
    // [i + 0.2, i + 0.3) holds no midpoint.
    let limits: Vec<(f64, f64, f64)> = (0..64).map(|i| (f64::from(i) + 0.2, f64::from(i) + 0.3, 4.0)).collect();
    let r = app.post(&watching, &ana.token, body(&"s".repeat(64), 4095, &limits)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_coverage(&r.body, &[[0, 10]], 10, 10);
    let r = app.post(&watching, &ana.token, body("edge", 0, &[(98.0, 101.0, 1.0), (10.0, 11.0, 0.25)])).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // [98, 101): the last bucket (midpoint 99); [10, 11): no midpoint. 6 buckets of 50.
    assert_coverage(&r.body, &[[0, 10], [98, 100]], 12, 12);

    // Not JSON, not a report's shape.
    let r =
        app.call_raw(Method::POST, &watching, Some(&ana.token), "application/json", b"{\"session\":".to_vec()).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "malformed_json"), "{:?}", r.body);
    let mut unknown = body("x", 2, &[(10.0, 20.0, 1.0)]);
    unknown["progress"] = json!(100);
    let mut unknown_in_interval = body("x", 2, &[(10.0, 20.0, 1.0)]);
    unknown_in_interval["intervals"][0]["watched"] = json!(true);
    let mut negative_seq = body("x", 2, &[(10.0, 20.0, 1.0)]);
    negative_seq["seq"] = json!(-1);
    let mut no_rate = body("x", 2, &[(10.0, 20.0, 1.0)]);
    no_rate["intervals"][0].as_object_mut().expect("interval").remove("rate");
    for (why, b) in [
        ("an unknown field", unknown),
        ("an unknown interval field", unknown_in_interval),
        ("a negative seq", negative_seq),
        ("no rate", no_rate),
    ] {
        let r = app.post(&watching, &ana.token, b).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{why}: {:?}", r.body);
    }
    assert_coverage(&own(&app, &v, &ana).await, &[[0, 10], [98, 100]], 12, 12);
}

/// `PATCH /spaces/{space}` by `who` with `body`.
async fn patch_space(app: &TestApp, space: &str, who: Option<&TestUser>, body: Value) -> Reply {
    app.call(Method::PATCH, &format!("/spaces/{space}"), who.map(|w| w.token.as_str()), Some(body)).await
}

#[tokio::test]
async fn given_the_host_sets_the_completion_threshold_then_reports_complete_at_it_and_only_the_host_sets_it() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let (co, bo, cy, stranger) =
        (app.user("Co").await, app.user("Bo").await, app.user("Cy").await, app.user("Stranger").await);
    let space = app.space(&host, "Course").await;
    for who in [&co, &bo, &cy] {
        app.join(&space, &host, who).await;
    }
    app.promote(&space, &host, &co).await;
    // 200 s: 100 buckets, one per percent.
    let v = app.lecture(&space, &host, 200).await;
    let r = app.get(&format!("/spaces/{space}"), &bo.token).await;
    assert_eq!((r.body["completionThreshold"].clone(), r.body["studyMapK"].clone()), (json!(90), json!(5)), "{r:?}");

    // Only the host sets it; others as everywhere on the space.
    let setting = json!({ "completionThreshold": 60 });
    let r = patch_space(&app, &space, None, setting.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    let r = patch_space(&app, &space, Some(&stranger), setting.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{:?}", r.body);
    for who in [&co, &bo] {
        let r = patch_space(&app, &space, Some(who), setting.clone()).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "host_only"), "{:?}", r.body);
    }
    for bad in [
        json!({ "completionThreshold": 0 }),
        json!({ "completionThreshold": 101 }),
        json!({ "completionThreshold": 60.5 }),
        json!({ "completionThreshold": "60" }),
        json!({ "completionThreshold": null }),
        json!({ "completionThreshold": -1 }),
        json!({ "studyMapK": 1 }),
        json!({ "studyMapK": 101 }),
        json!({ "completionThreshold": 60, "studyMapK": 0 }),
    ] {
        let r = patch_space(&app, &space, Some(&host), bad.clone()).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{bad}: {:?}", r.body);
    }
    let r = app.get(&format!("/spaces/{space}"), &host.token).await;
    assert_eq!(r.body["completionThreshold"], 90, "nothing refused was written: {:?}", r.body);

    // 60 %, as 60.0 too (JSON Schema's integer): Bo's report reaching 60 % completes the video.
    let r = patch_space(&app, &space, Some(&host), json!({ "completionThreshold": 60.0 })).await;
    assert_eq!((r.status, r.body["completionThreshold"].clone()), (StatusCode::OK, json!(60)), "{:?}", r.body);
    let r = taken(&app, &v, &bo, "p", 0, &[(0.0, 118.0, 2.0)]).await;
    assert_coverage(&r, &[[0, 118]], 59, 118);
    assert_eq!(r["completed"], false, "{r}");
    let r = taken(&app, &v, &bo, "p", 1, &[(118.0, 120.0, 2.0)]).await;
    assert_coverage(&r, &[[0, 120]], 60, 120);
    assert_eq!(r["completed"], true, "{r}");
    let rows = class(&app, &space, &host).await;
    assert_eq!(
        (rows[&bo.id()]["videosCompleted"].clone(), rows[&cy.id()]["videosCompleted"].clone()),
        (json!(1), json!(0)),
        "{rows:?}"
    );
    // Cy, at 59 %, has not completed it.
    let r = taken(&app, &v, &cy, "q", 0, &[(0.0, 118.0, 2.0)]).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(59), json!(false)), "{r}");
}
