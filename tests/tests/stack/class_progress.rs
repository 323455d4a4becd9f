//! Class progress: what the host and co-hosts see of their members' progress, kept by progress
//! writes, watching reports and video deletions, and what it costs to read. A progress write's
//! rate is the client's claim (the percentage and the rate shown); completion is watched coverage
//! of 90 % (issue 29), reported by the player (`POST /videos/{videoId}/watching`).

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser};

async fn progress(app: &TestApp, video: &str, who: &TestUser, rate: u8) {
    let r = app
        .call(
            Method::PUT,
            &format!("/videos/{video}/progress"),
            Some(&who.token),
            Some(json!({ "progressRate": rate, "positionSeconds": f64::from(rate) })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}

/// Every row of a class- or video-progress list, by user id.
async fn rows(app: &TestApp, path: &str, who: &TestUser) -> HashMap<String, Value> {
    let (items, _) = app.all_pages(path, &who.token, 100).await;
    items.into_iter().map(|i| (i["userId"].as_str().unwrap_or_default().to_owned(), i)).collect()
}

async fn video(app: &TestApp, space: &str, host: &TestUser) -> String {
    app.ready_video(space, host).await
}

/// A 200 s lecture: 100 coverage buckets of 2 s, one per percent watched.
async fn lecture(app: &TestApp, space: &str, host: &TestUser) -> String {
    app.lecture(space, host, 200).await
}

#[tokio::test]
async fn given_members_progress_then_the_class_view_matches_what_they_wrote_and_completion_is_sticky() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let (bo, cy, dee) = (app.user("Bo").await, app.user("Cy").await, app.user("Dee").await);
    let space = app.space(&ana, "Course").await;
    for who in [&bo, &cy, &dee] {
        app.join(&space, &ana, who).await;
    }
    let (v1, v2) = (lecture(&app, &space, &ana).await, lecture(&app, &space, &ana).await);
    progress(&app, &v1, &bo, 100).await;
    progress(&app, &v2, &bo, 50).await;
    progress(&app, &v1, &cy, 20).await;
    progress(&app, &v1, &cy, 30).await;

    // Bo's client says 100 without his player reporting any watching: the percentage follows
    // the rate, but the rate is the client's claim and completes nothing.
    let class = rows(&app, &format!("/spaces/{space}/progress"), &ana).await;
    assert_eq!(
        (class[&bo.id()]["videosCompleted"].clone(), class[&bo.id()]["percent"].clone()),
        (json!(0), json!(75.0)),
        "{:?}",
        class[&bo.id()]
    );
    let one = rows(&app, &format!("/videos/{v1}/progress"), &ana).await;
    assert_eq!(
        (
            one[&bo.id()]["progressRate"].clone(),
            one[&bo.id()]["coveragePercent"].clone(),
            one[&bo.id()].get("completedAt")
        ),
        (json!(100), json!(0), None),
        "{:?}",
        one[&bo.id()]
    );

    // Bo's player reports [0, 178), 89 buckets: not yet; then [178, 180): 90 %, completed. Cy's
    // reports [0, 60): 30 %.
    let r = app.watched(&v1, &bo.token, 0.0, 178.0).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(89), json!(false)), "{r}");
    let r = app.watched(&v1, &bo.token, 178.0, 180.0).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(90), json!(true)), "{r}");
    let r = app.watched(&v1, &cy.token, 0.0, 60.0).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(30), json!(false)), "{r}");

    let class = rows(&app, &format!("/spaces/{space}/progress"), &ana).await;
    assert_eq!(class.len(), 4, "every member, the host too: {class:?}");
    let bo_row = &class[&bo.id()];
    // The percentage stays the rates' (100 and 50): watching completes, it writes no rate.
    assert_eq!((bo_row["videosCompleted"].clone(), bo_row["percent"].clone()), (json!(1), json!(75.0)));
    assert_eq!(
        (bo_row["videoCount"].clone(), bo_row["role"].clone(), bo_row["name"].clone()),
        (json!(2), json!("participant"), json!("Bo"))
    );
    assert!(bo_row["lastAccessAt"].is_string());
    assert_eq!(
        (class[&cy.id()]["videosCompleted"].clone(), class[&cy.id()]["percent"].clone()),
        (json!(0), json!(15.0))
    );
    assert_eq!(class[&dee.id()]["percent"], 0.0);
    assert!(class[&dee.id()].get("lastAccessAt").is_none(), "Dee never started");
    assert!(class.values().all(|r| r.get("stateJson").is_none() && r.get("notes").is_none()), "progress only");

    // Bo rewinds the completed video and watches its start again: it stays completed, counted
    // once, the percentage follows the rate.
    progress(&app, &v1, &bo, 10).await;
    let r = app.watched(&v1, &bo.token, 0.0, 20.0).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(90), json!(true)), "{r}");
    let class = rows(&app, &format!("/spaces/{space}/progress"), &ana).await;
    assert_eq!(
        (class[&bo.id()]["videosCompleted"].clone(), class[&bo.id()]["percent"].clone()),
        (json!(1), json!(30.0))
    );

    // One video, member by member: those who have not started show 0.
    let one = rows(&app, &format!("/videos/{v1}/progress"), &ana).await;
    assert_eq!(one.len(), 4);
    assert_eq!(
        (one[&bo.id()]["progressRate"].clone(), one[&bo.id()]["coveragePercent"].clone()),
        (json!(10), json!(90))
    );
    assert!(one[&bo.id()]["completedAt"].is_string(), "completion is sticky: {:?}", one[&bo.id()]);
    assert_eq!(
        (
            one[&cy.id()]["progressRate"].clone(),
            one[&cy.id()]["positionSeconds"].clone(),
            one[&cy.id()]["coveragePercent"].clone()
        ),
        (json!(30), json!(30.0), json!(30))
    );
    assert!(one[&cy.id()].get("completedAt").is_none());
    assert_eq!(
        (one[&dee.id()]["progressRate"].clone(), one[&dee.id()]["coveragePercent"].clone()),
        (json!(0), json!(0))
    );
    assert!(one[&dee.id()].get("lastAccessAt").is_none());

    // A co-host sees it too; a participant does not.
    app.promote(&space, &ana, &dee).await;
    assert_eq!(app.get(&format!("/spaces/{space}/progress"), &dee.token).await.status, StatusCode::OK);
    let r = app.get(&format!("/spaces/{space}/progress"), &bo.token).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "managers_only"));
    let r = app.get(&format!("/videos/{v1}/progress"), &cy.token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn given_a_deleted_video_then_its_progress_leaves_the_class_view() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let space = app.space(&ana, "Course").await;
    app.join(&space, &ana, &bo).await;
    let (v1, v2) = (video(&app, &space, &ana).await, lecture(&app, &space, &ana).await);
    progress(&app, &v1, &bo, 40).await;
    progress(&app, &v2, &bo, 100).await;
    // Bo's player reports v2 watched to its end: completed.
    let r = app.watched(&v2, &bo.token, 0.0, 200.0).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(100), json!(true)), "{r}");
    let before = rows(&app, &format!("/spaces/{space}/progress"), &ana).await;
    assert_eq!(
        (before[&bo.id()]["videosCompleted"].clone(), before[&bo.id()]["percent"].clone()),
        (json!(1), json!(70.0))
    );

    app.delete_and_wait(&format!("/videos/{v2}"), &ana.token).await;
    let after = rows(&app, &format!("/spaces/{space}/progress"), &ana).await;
    assert_eq!(
        (
            after[&bo.id()]["videosCompleted"].clone(),
            after[&bo.id()]["percent"].clone(),
            after[&bo.id()]["videoCount"].clone()
        ),
        (json!(0), json!(40.0), json!(1))
    );
    // Deleting it again (a retried request) changes nothing more.
    let r = app.call(Method::DELETE, &format!("/videos/{v2}"), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(rows(&app, &format!("/spaces/{space}/progress"), &ana).await[&bo.id()]["percent"], 40.0);
}

#[tokio::test]
async fn given_concurrent_progress_writes_then_the_class_view_equals_each_member_s_last_rate() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Course").await;
    let mut members = Vec::new();
    for i in 0..4 {
        let m = app.user(&format!("Member{i}")).await;
        app.join(&space, &ana, &m).await;
        members.push(m);
    }
    let v = video(&app, &space, &ana).await;
    // Every member writes 12 rates at once (their first write among them): whichever lands last,
    // the class view must agree with the video's progress item.
    let mut tasks = tokio::task::JoinSet::new();
    for m in &members {
        for k in 0..12u32 {
            let (http, url, token) = (app.http.clone(), format!("{}/videos/{v}/progress", app.base), m.token.clone());
            tasks.spawn(async move {
                let rate = (k * 37 + 11) % 100;
                let body = json!({ "progressRate": rate, "positionSeconds": 1.0 });
                http.put(url).bearer_auth(token).json(&body).send().await.map(|r| r.status())
            });
        }
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.expect("task").expect("request"), StatusCode::NO_CONTENT);
    }
    let one = rows(&app, &format!("/videos/{v}/progress"), &ana).await;
    let class = rows(&app, &format!("/spaces/{space}/progress"), &ana).await;
    for m in &members {
        let last = one[&m.id()]["progressRate"].as_f64().expect("rate");
        assert_eq!(class[&m.id()]["percent"].as_f64(), Some(last), "{}: {:?}", m.id(), class[&m.id()]);
    }
}

#[tokio::test]
async fn given_a_200_member_class_then_each_page_of_progress_costs_a_fixed_number_of_round_trips() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Big course").await;
    for i in 0..199 {
        let m = app.user(&format!("Student{i}")).await;
        app.join(&space, &ana, &m).await;
    }
    let v = video(&app, &space, &ana).await;
    progress(&app, &v, &ana, 5).await;
    // DynamoDB requests for a page, and for an empty page: the class reads access, members and
    // their users; the video reads the video and access, members, their progress and users.
    for (path, per_page, empty) in
        [(format!("/spaces/{space}/progress"), 3, 2), (format!("/videos/{v}/progress"), 5, 3)]
    {
        let mut cursor: Option<String> = None;
        let mut pages = Vec::new();
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}?limit=100&cursor={c}"),
                None => format!("{path}?limit=100"),
            };
            let calls = app.stack.dynamodb_calls();
            let r = app.get(&url, &ana.token).await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            pages.push((r.body["items"].as_array().map_or(0, Vec::len), app.stack.dynamodb_calls() - calls));
            cursor = r.body["nextCursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        // Printed for docs/benchmarks.md: members per page and DynamoDB requests per page.
        println!("{path}: {pages:?}");
        assert_eq!(pages.iter().map(|(n, _)| n).sum::<usize>(), 200, "{path}");
        // A page that ends exactly on the last member still carries DynamoDB's `LastEvaluatedKey`:
        // the trailing page is empty and reads no users.
        for (members, calls) in &pages {
            let expected = if *members == 0 { empty } else { per_page };
            assert_eq!(*calls, expected, "{path}: {pages:?}");
        }
    }
}
