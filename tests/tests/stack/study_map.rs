//! The class study map (issue 29), black-box: `GET /videos/{videoId}/study-map` counts, per heat
//! bucket, the distinct members who wrote a note (the latest memo and its checkpoints, at their
//! video time), drew over the video (an overlay, at its start), took a snapshot or bookmarked
//! there, and shows a count only from k = 5 members on — the `any` total too, and a kind below 5
//! stays hidden whatever `any` says; each caller sees their own marks (`mine`) beside it, read
//! afresh. The class's counts are kept on the video and served for ten minutes: a mark made
//! meanwhile shows up at the next count, which the test brings forward by moving the kept
//! `computedAt` back eleven minutes behind the API's back.
//!
//! Every expected map below is worked out by hand: the videos are 60 s, so six heat buckets of
//! 10 s, `[10i, 10i + 10)`.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser, pk};

async fn bookmark(app: &TestApp, video: &str, who: &TestUser, seconds: f64) {
    let r = app
        .post(&format!("/videos/{video}/bookmarks"), &who.token, json!({ "videoSeconds": seconds, "label": "here" }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

async fn snapshot(app: &TestApp, video: &str, who: &TestUser, seconds: f64) {
    let body = json!({ "videoSeconds": seconds, "contentType": "image/png", "sizeBytes": 100 });
    let r = app.post(&format!("/videos/{video}/snapshots"), &who.token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

async fn memo(app: &TestApp, video: &str, who: &TestUser, seconds: f64) {
    let body = json!({ "stateJson": format!("at {seconds}"), "videoTime": seconds });
    let r = app.call(Method::PUT, &format!("/videos/{video}/text-memo"), Some(&who.token), Some(body)).await;
    assert!(matches!(r.status, StatusCode::OK | StatusCode::CREATED), "{:?}", r.body);
}

async fn checkpoint(app: &TestApp, video: &str, who: &TestUser) {
    let r = app.call(Method::POST, &format!("/videos/{video}/text-memo/history"), Some(&who.token), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

async fn draw(app: &TestApp, video: &str, who: &TestUser, id: &str, body: Value) {
    let r = app.call(Method::PUT, &format!("/videos/{video}/drawings/{id}"), Some(&who.token), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

/// The study map as `who` reads it (200).
async fn study_map(app: &TestApp, video: &str, who: &TestUser) -> Value {
    let r = app.get(&format!("/videos/{video}/study-map"), &who.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

/// A mark of `mine`.
fn mark(kind: &str, seconds: f64) -> Value {
    json!({ "kind": kind, "seconds": seconds })
}

/// The six buckets of a 60 s video, with the counts shown in each (`(bucket, field, count)`).
fn buckets(shown: &[(usize, &str, u32)]) -> Value {
    let mut out: Vec<Value> = (0..6).map(|i| json!({ "startS": i * 10 })).collect();
    for (i, field, count) in shown {
        out[*i][*field] = json!(count);
    }
    Value::from(out)
}

#[tokio::test]
async fn given_marks_of_five_and_of_four_members_then_only_counts_of_five_are_shown() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let mut s = Vec::new();
    for i in 1..=7 {
        s.push(app.user(&format!("Student{i}")).await);
    }
    let stranger = app.user("Stranger").await;
    let space = app.space(&host, "Course").await;
    for who in &s {
        app.join(&space, &host, who).await;
    }
    let v = app.lecture(&space, &host, 60).await;
    let path = format!("/videos/{v}/study-map");

    // Nothing marked yet: six empty buckets.
    let empty = study_map(&app, &v, &s[0]).await;
    assert_eq!(
        (empty["bucketSeconds"].clone(), empty["k"].clone(), empty["buckets"].clone(), empty["mine"].clone()),
        (json!(10), json!(5), buckets(&[]), json!([]))
    );
    // The empty map is kept too: clear it (as ten minutes would), so the marks below are counted.
    app.dynamo()
        .delete_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("VIDEO#{v}")))
        .key("SK", AttributeValue::S("STUDYMAP".into()))
        .send()
        .await
        .expect("delete the kept map");

    // [10, 20): students 1–5 bookmark (5), students 1–3 take a snapshot (3).
    for (i, who) in s[..5].iter().enumerate() {
        bookmark(&app, &v, who, 11.0 + i as f64).await;
    }
    for who in &s[..3] {
        snapshot(&app, &v, who, 16.0).await;
    }
    // [20, 30): students 1–4 bookmark: 4, hidden, and so is `any`.
    for who in &s[..4] {
        bookmark(&app, &v, who, 25.0).await;
    }
    // [30, 40): students 1–4 take snapshots, student 6 bookmarks: 5 of any kind, shown as `any`
    // only; neither kind (4, 1) shows.
    for (i, who) in s[..4].iter().enumerate() {
        snapshot(&app, &v, who, 31.0 + i as f64).await;
    }
    bookmark(&app, &v, &s[5], 38.0).await;
    // [40, 50): students 1–4's memos are at 44; student 5's memo was at 42 when checkpointed, and
    // is at 55 now: the checkpoint is the fifth note there, the memo a lone one in [50, 60).
    for who in &s[..4] {
        memo(&app, &v, who, 44.0).await;
    }
    memo(&app, &v, &s[4], 42.0).await;
    checkpoint(&app, &v, &s[4]).await;
    memo(&app, &v, &s[4], 55.0).await;
    // [50, 60): students 1–5 draw over the video from 52 s; student 6 draws a page (no time: no
    // mark).
    for who in &s[..5] {
        draw(&app, &v, who, "o1", json!({ "kind": "overlay", "startSeconds": 52, "endSeconds": 58, "document": {} }))
            .await;
    }
    draw(&app, &v, &s[5], "p1", json!({ "kind": "page", "document": {} })).await;

    let expected = buckets(&[
        (1, "bookmarks", 5),
        (1, "any", 5),
        (3, "any", 5),
        (4, "notes", 5),
        (4, "any", 5),
        (5, "drawings", 5),
        (5, "any", 5),
    ]);
    let calls = app.stack.dynamodb_calls();
    let first = study_map(&app, &v, &s[4]).await;
    let counted = app.stack.dynamodb_calls() - calls;
    assert_eq!(first["buckets"], expected, "{first}");
    // Student 5 sees their own marks, the lone memo at 55 among them.
    assert_eq!(
        first["mine"],
        json!([mark("bookmark", 15.0), mark("note", 42.0), mark("drawing", 52.0), mark("note", 55.0)])
    );
    // Student 6's bookmark at 38 is theirs to see, though the class's bookmarks there are hidden;
    // their page is no mark. Student 1 sees all six of theirs.
    let sixth = study_map(&app, &v, &s[5]).await;
    assert_eq!((sixth["buckets"].clone(), sixth["mine"].clone()), (expected.clone(), json!([mark("bookmark", 38.0)])));
    let calls = app.stack.dynamodb_calls();
    let first_student = study_map(&app, &v, &s[0]).await;
    let cached = app.stack.dynamodb_calls() - calls;
    assert_eq!(
        first_student["mine"],
        json!([
            mark("bookmark", 11.0),
            mark("snapshot", 16.0),
            mark("bookmark", 25.0),
            mark("snapshot", 31.0),
            mark("note", 44.0),
            mark("drawing", 52.0),
        ])
    );
    // The host and a member with no marks read the same map, with nothing of their own.
    for who in [&host, &s[6]] {
        let r = study_map(&app, &v, who).await;
        assert_eq!((r["buckets"].clone(), r["mine"].clone()), (expected.clone(), json!([])));
    }
    // Counted once, then served: the access check (2), the kept map (1), the caller's marks (4
    // queries and their memo); counting adds a query per kind of item (5) and keeping the map
    // (the rate limiter's write is not the route's: not counted here).
    println!("GET /videos/{{id}}/study-map: {counted} DynamoDB requests counting, {cached} served from the kept map");
    assert_eq!((cached, counted), (8, 14));

    // Strangers learn nothing, nor do callers without a token.
    let r = app.get(&path, &stranger.token).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{:?}", r.body);
    let r = app.call(Method::GET, &path, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    // A video still uploading has no map yet.
    let pending = app.uploaded_video(&space, &host, vec![5u8; 64]).await;
    let r = app.get(&format!("/videos/{pending}/study-map"), &s[0].token).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_ready"), "{:?}", r.body);
}

#[tokio::test]
async fn given_a_fifth_mark_then_the_kept_map_shows_it_once_ten_minutes_old_and_goes_with_the_video() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let mut s = Vec::new();
    for i in 1..=5 {
        s.push(app.user(&format!("Student{i}")).await);
    }
    let space = app.space(&host, "Course").await;
    for who in &s {
        app.join(&space, &host, who).await;
    }
    let v = app.lecture(&space, &host, 60).await;
    for who in &s[..4] {
        bookmark(&app, &v, who, 25.0).await;
    }
    let first = study_map(&app, &v, &host).await;
    assert_eq!(first["buckets"], buckets(&[]), "4 of 5: hidden");

    // The fifth student bookmarks there: the map as kept is served (the same counts, counted at
    // the same time) for ten minutes, but the student sees their own bookmark at once.
    bookmark(&app, &v, &s[4], 27.5).await;
    let stale = study_map(&app, &v, &s[4]).await;
    assert_eq!(
        (stale["buckets"].clone(), stale["computedAt"].clone()),
        (first["buckets"].clone(), first["computedAt"].clone())
    );
    assert_eq!(stale["mine"], json!([mark("bookmark", 27.5)]));

    // Eleven minutes later (the kept map's time moved back): counted again, the five shown.
    let kept = app.item(&format!("VIDEO#{v}"), "STUDYMAP").await.expect("the map is kept on the video");
    let at: i64 = kept.get("computedAt").and_then(|a| a.as_n().ok()).and_then(|n| n.parse().ok()).expect("computedAt");
    assert!(kept.contains_key("expiresAt"), "{kept:?}");
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("VIDEO#{v}")))
        .key("SK", AttributeValue::S("STUDYMAP".into()))
        .update_expression("SET computedAt = :at")
        .expression_attribute_values(":at", AttributeValue::N((at - 660).to_string()))
        .send()
        .await
        .expect("backdate");
    let fresh = study_map(&app, &v, &host).await;
    assert_eq!(fresh["buckets"], buckets(&[(2, "bookmarks", 5), (2, "any", 5)]), "{fresh}");
    let kept = app.item(&format!("VIDEO#{v}"), "STUDYMAP").await.expect("kept again");
    let again: i64 =
        kept.get("computedAt").and_then(|a| a.as_n().ok()).and_then(|n| n.parse().ok()).expect("computedAt");
    assert!(again >= at, "counted now: {again} >= {at}");

    // The kept map is an item of the video's partition: it goes with the video.
    app.delete_and_wait(&format!("/videos/{v}"), &host.token).await;
    assert!(app.scan_all().await.iter().all(|i| pk(i) != format!("VIDEO#{v}")));
}

#[tokio::test]
async fn given_the_host_sets_k_to_three_then_counts_of_three_show_and_of_two_do_not() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let mut s = Vec::new();
    for i in 1..=3 {
        s.push(app.user(&format!("Student{i}")).await);
    }
    let space = app.space(&host, "Course").await;
    for who in &s {
        app.join(&space, &host, who).await;
    }
    let v = app.lecture(&space, &host, 60).await;
    // [10, 20): three students bookmark; [20, 30): two.
    for who in &s {
        bookmark(&app, &v, who, 12.0).await;
    }
    for who in &s[..2] {
        bookmark(&app, &v, who, 22.0).await;
    }
    let map = study_map(&app, &v, &s[0]).await;
    assert_eq!((map["k"].clone(), map["buckets"].clone()), (json!(5), buckets(&[])), "{map}");

    // k = 3: the kept map (counted for k = 5) is counted again for it at once.
    let r =
        app.call(Method::PATCH, &format!("/spaces/{space}"), Some(&host.token), Some(json!({ "studyMapK": 3 }))).await;
    assert_eq!((r.status, r.body["studyMapK"].clone()), (StatusCode::OK, json!(3)), "{:?}", r.body);
    let map = study_map(&app, &v, &s[2]).await;
    assert_eq!(
        (map["k"].clone(), map["buckets"].clone()),
        (json!(3), buckets(&[(1, "bookmarks", 3), (1, "any", 3)])),
        "{map}"
    );
    assert_eq!(map["mine"], json!([mark("bookmark", 12.0)]), "{map}");
}
