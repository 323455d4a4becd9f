//! The engagement export (issue 29), black-box: `POST /spaces/{spaceId}/engagement-export` writes
//! the class's participants × videos as CSV to the user-content bucket and answers a presigned
//! download link; the test downloads it over HTTP as a browser would and reads the file. Every
//! expected cell is worked out by hand: the lectures are 200 s (100 coverage buckets, one per
//! percent), so `[0, 200)` is 100 % and completes the video (90 %), `[0, 100)` is 50 %.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{Reply, TestApp};

async fn export(app: &TestApp, space: &str, token: Option<&str>) -> Reply {
    app.call(Method::POST, &format!("/spaces/{space}/engagement-export"), token, None).await
}

/// The exported file, downloaded through its link: its rows, each a list of cells.
async fn download(answer: &Value) -> Vec<Vec<String>> {
    let url = answer["downloadUrl"].as_str().expect("a download link");
    let resp = reqwest::get(url).await.expect("the link answers");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.expect("the file");
    assert_eq!(answer["bytes"], bytes.len(), "the size answered is the file's");
    let text = std::str::from_utf8(&bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark, for spreadsheets");
    // No cell here holds a comma, a quote or a line break: the lines split as written, and every
    // field but a number is quoted.
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(',')
                .map(|c| c.strip_prefix('"').and_then(|c| c.strip_suffix('"')).unwrap_or(c).to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_hosts_export_is_the_class_s_coverage_and_completion_per_student_and_video() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let (co, stranger) = (app.user("Co").await, app.user("Stranger").await);
    let (ana, bo, cy) = (app.user("Ana").await, app.user("Bo").await, app.user("=Cy").await);
    let space = app.space(&host, "Course").await;
    for who in [&co, &ana, &bo, &cy] {
        app.join(&space, &host, who).await;
    }
    app.promote(&space, &host, &co).await;
    let first = app.lecture(&space, &host, 200).await;
    let second = app.lecture(&space, &host, 200).await;
    let r = app
        .call(Method::PATCH, &format!("/videos/{second}"), Some(&host.token), Some(json!({ "title": "@Optics" })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // The host's order: the first lecture, then the second.
    let r = app
        .call(
            Method::PUT,
            &format!("/spaces/{space}/videos/order"),
            Some(&host.token),
            Some(json!({ "videoIds": [first, second] })),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);

    // Ana watches all of the first lecture (completed) and half of the second; Bo plays the
    // second's first two seconds; Cy nothing. The host's own watching is no student's row.
    let done = app.watched(&first, &ana.token, 0.0, 200.0).await;
    let completed_at = done["completedAt"].as_str().expect("completed").to_owned();
    app.watched(&second, &ana.token, 0.0, 100.0).await;
    app.watched(&second, &bo.token, 0.0, 2.0).await;
    app.watched(&first, &host.token, 0.0, 50.0).await;

    // Who may export: the host and co-hosts.
    assert_eq!(export(&app, &space, None).await.status, StatusCode::UNAUTHORIZED);
    let r = export(&app, &space, Some(&stranger.token)).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{:?}", r.body);
    let r = export(&app, &space, Some(&bo.token)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "managers_only"), "{:?}", r.body);
    let r = export(&app, "not-a-space", Some(&host.token)).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "malformed_id"), "{:?}", r.body);
    let r = export(&app, &ulid::Ulid::new().to_string(), Some(&host.token)).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{:?}", r.body);

    let r = export(&app, &space, Some(&co.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!((r.body["students"].clone(), r.body["videos"].clone()), (json!(3), json!(2)), "{:?}", r.body);
    assert!(r.body["expiresAt"].is_string(), "{:?}", r.body);
    let rows = download(&r.body).await;
    assert_eq!(
        rows[0],
        [
            "name".to_owned(),
            "email".into(),
            "user_id".into(),
            "joined_at".into(),
            "videos_completed".into(),
            "last_watched_at".into(),
            format!("Lecture [{first}] coverage %"),
            format!("Lecture [{first}] completed_at"),
            // A title a spreadsheet would run is neutralised.
            format!("'@Optics [{second}] coverage %"),
            format!("'@Optics [{second}] completed_at"),
        ]
    );
    assert_eq!(rows.len(), 4, "a row per participant, none for the host or co-host: {rows:?}");
    // Sorted by name: "'=Cy" is "=Cy" neutralised, and sorts first as "=Cy" does.
    let (c, a, b) = (&rows[1], &rows[2], &rows[3]);
    assert_eq!(
        (c[0].as_str(), c[2].as_str(), c[4].as_str(), &c[6..]),
        ("'=Cy", cy.id().as_str(), "0", &["", "", "", ""].map(str::to_owned)[..]),
        "{c:?}"
    );
    assert_eq!(c[5], "", "Cy never watched: {c:?}");
    assert_eq!(
        (a[0].as_str(), a[1].as_str(), a[2].as_str(), a[4].as_str()),
        ("Ana", ana.email().as_str(), ana.id().as_str(), "1"),
        "{a:?}"
    );
    assert_eq!(a[6..], ["100", completed_at.as_str(), "50", ""], "{a:?}");
    assert!(!a[5].is_empty(), "Ana's last watch: {a:?}");
    assert_eq!((b[0].as_str(), &b[6..]), ("Bo", &["", "", "1", ""].map(str::to_owned)[..]), "{b:?}");

    // One export of a space a minute: the host's, right after, waits.
    let r = export(&app, &space, Some(&host.token)).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{:?}", r.body);
    let wait: u64 = r.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");

    // The file lies under the space's exports; the next export (a minute on) is a file of its own.
    let user_bucket = app.stack.buckets.user.clone();
    let prefix = format!("exports/{space}/");
    assert_eq!(app.list_keys(&user_bucket, &prefix).await.len(), 1);
    a_minute_on(&app, &space).await;
    assert_eq!(export(&app, &space, Some(&host.token)).await.status, StatusCode::OK);
    assert_eq!(app.list_keys(&user_bucket, &prefix).await.len(), 2);

    // A removed member's row goes with their data: the space's exports are removed.
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", bo.id()), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    app.deletions_settled().await;
    assert_eq!(app.list_keys(&user_bucket, &prefix).await, Vec::<String>::new(), "removed with Bo");
    a_minute_on(&app, &space).await;
    let r = export(&app, &space, Some(&host.token)).await;
    assert_eq!(r.body["students"], 2, "Ana and Cy: {:?}", r.body);
    assert_eq!(app.list_keys(&user_bucket, &prefix).await.len(), 1);

    // And with the space.
    let r = app.call(Method::DELETE, &format!("/spaces/{space}"), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    app.deletions_settled().await;
    assert_eq!(app.list_keys(&user_bucket, &prefix).await, Vec::<String>::new());
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the functions' template policies");
}

/// Moves the space's last export a minute back, behind the API's back: what a minute's wait leaves.
async fn a_minute_on(app: &TestApp, space: &str) {
    let started = vivid_domain::types::unix_now() - 61;
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("SPACE#{space}")))
        .key("SK", AttributeValue::S("EXPORT".into()))
        .update_expression("SET startedAt = :t")
        .condition_expression("attribute_exists(startedAt)")
        .expression_attribute_values(":t", AttributeValue::N(started.to_string()))
        .send()
        .await
        .expect("the export's claim moved back");
}
