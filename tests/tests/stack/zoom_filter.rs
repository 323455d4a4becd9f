//! Filtered automatic import (issue 30): a space linked to its host's Zoom imports only the
//! recordings its filter admits (meeting ids, a topic pattern, a minimum recorded duration), and
//! as drafts when the space's default says so; another space of the same host, linked without a
//! filter, imports every one.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use vivid_local::standins::zoom::NewFile;
use vivid_tests::{TestApp, TestUser};

async fn link(app: &TestApp, host: &TestUser, space: &str, body: Value) -> (StatusCode, Value) {
    let r = app.call(Method::PUT, &format!("/spaces/{space}/zoom-auto-import"), Some(&host.token), Some(body)).await;
    (r.status, r.body)
}

async fn titles(app: &TestApp, user: &TestUser, space: &str) -> Vec<(String, String)> {
    app.indexes_settled().await;
    let r = app.get(&format!("/spaces/{space}/videos"), &user.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let mut out: Vec<(String, String)> = r.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (s("title"), s("visibility"))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn given_a_filtered_link_then_only_the_meetings_it_admits_are_imported_and_as_drafts() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let course = app.space(&host, "CS101").await;
    let everything = app.space(&host, "Everything").await;
    let student = app.user("Stu").await;
    app.join(&course, &host, &student).await;
    app.connect_zoom(&host).await;

    // Bad rules are refused, and nothing is linked by them.
    for bad in [
        json!({ "enabled": true, "filter": { "meetingIds": ["12345"] } }),
        json!({ "enabled": true, "filter": { "meetingIds": ["857463529a0"] } }),
        json!({ "enabled": true, "filter": { "topicPattern": "" } }),
        json!({ "enabled": true, "filter": { "topicPattern": "CS101\u{7}" } }),
        json!({ "enabled": true, "filter": { "topicPattern": "CS\u{202e}101*" } }),
        json!({ "enabled": true, "filter": { "minDurationMinutes": 1441 } }),
        json!({ "enabled": true, "filter": { "minDurationMinutes": -1 } }),
        json!({ "enabled": true, "filter": { "topic": "CS101*" } }),
        json!({ "enabled": true, "filter": null }),
        json!({ "enabled": true, "filter": { "topicPattern": null } }),
        json!({ "enabled": false, "filter": { "minDurationMinutes": 1441 } }),
    ] {
        let (status, body) = link(&app, &host, &course, bad.clone()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")), "{bad}");
    }
    assert!(!format!("{:?}", app.scan_all().await).contains("ZOOMAUTO"), "a refused body links nothing");
    // A student may not link, whatever the filter.
    let r = app
        .call(
            Method::PUT,
            &format!("/spaces/{course}/zoom-auto-import"),
            Some(&student.token),
            Some(json!({ "enabled": true, "filter": { "topicPattern": "*" } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let filter = json!({ "meetingIds": ["857 4635 2910"], "topicPattern": "cs101*", "minDurationMinutes": 20.0 });
    let (status, body) = link(&app, &host, &course, json!({ "enabled": true, "filter": filter })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["filter"],
        json!({ "meetingIds": ["85746352910"], "topicPattern": "cs101*", "minDurationMinutes": 20 }),
        "the filter as it is kept: the meeting id in digits"
    );
    let (status, body) = link(&app, &host, &everything, json!({ "enabled": true })).await;
    assert_eq!((status, body.get("filter")), (StatusCode::OK, None), "{body}");
    let r = app
        .call(
            Method::PATCH,
            &format!("/spaces/{course}"),
            Some(&host.token),
            Some(json!({ "defaultVisibility": "draft" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // Zoom's webhooks come minutes after a link: the link is on the index by then.
    app.indexes_settled().await;

    let zoom = &app.stack.zoom;
    let ended = OffsetDateTime::now_utc() - Duration::hours(2);
    let lecture = 85_746_352_910;
    let meetings = [
        (lecture, "CS101 Lecture 4", 45, 2),
        (lecture, "Office hours", 45, 1),
        (99_911_122_233, "CS101 Lecture 5 (other section)", 45, 1),
        (lecture, "CS101 sound check", 5, 1),
        (lecture, "CS101 Lecture 6", 19, 1),
    ];
    let url = format!("{}/zoom/webhook", app.base);
    for (number, topic, minutes, imports) in meetings {
        let m = zoom.add_numbered_meeting(
            number,
            topic,
            ended,
            minutes,
            vec![NewFile::audio(), NewFile::mp4(vec![7u8; 128])],
        );
        let (status, body) =
            zoom.deliver(&url, &zoom.recording_completed_event(&m.meeting_id), &zoom.webhook_secret).await;
        assert_eq!((status, body["imports"].as_u64()), (200, Some(imports)), "{topic}: {body}");
    }

    let draft = |t: &str| (t.to_owned(), "draft".to_owned());
    assert_eq!(titles(&app, &host, &course).await, vec![draft("CS101 Lecture 4")], "only what the filter admits");
    assert_eq!(titles(&app, &student, &course).await, vec![], "a draft is not the student's to see");
    let published = |t: &str| (t.to_owned(), "published".to_owned());
    assert_eq!(
        titles(&app, &host, &everything).await,
        vec![
            published("CS101 Lecture 4"),
            published("CS101 Lecture 5 (other section)"),
            published("CS101 Lecture 6"),
            published("CS101 sound check"),
            published("Office hours"),
        ],
        "a link without a filter imports every recording"
    );

    // Linking again without a filter replaces the filter: the next office hours come in too.
    let (status, body) = link(&app, &host, &course, json!({ "enabled": true })).await;
    assert_eq!((status, body.get("filter")), (StatusCode::OK, None), "{body}");
    app.indexes_settled().await;
    let m = zoom.add_numbered_meeting(lecture, "Office hours", ended, 45, vec![NewFile::mp4(vec![8u8; 128])]);
    let (status, body) = zoom.deliver(&url, &zoom.recording_completed_event(&m.meeting_id), &zoom.webhook_secret).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(2)), "{body}");
}
