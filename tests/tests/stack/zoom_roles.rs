//! Zoom's automatic import is bound to a role (issue 25): a space imports a Zoom account's new
//! recordings only while the member who linked it still hosts or co-hosts the space. Removing,
//! demoting or the departure of that member takes their link with it at once, and each
//! `recording.completed` delivery checks the linking member's role again (consistently), dropping a
//! link that outlived it. A transfer keeps the links: both sides still manage the space.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use vivid_domain::{
    types::{SpaceId, now_rfc3339},
    zoom::{AutoImport, AutoImportStore},
};
use vivid_local::standins::zoom::NewFile;
use vivid_tests::{TestApp, TestUser};

/// Zoom's `recording.completed` for a new meeting of the stand-in's (connected) Zoom user,
/// delivered minutes later as Zoom does (after the indexes caught up).
async fn new_recording(app: &TestApp, topic: &str) -> (u16, Value) {
    let zoom = &app.stack.zoom;
    let m = zoom.add_meeting(topic, OffsetDateTime::now_utc() - Duration::hours(1), vec![NewFile::mp4(vec![7u8; 64])]);
    app.indexes_settled().await;
    zoom.deliver(
        &format!("{}/zoom/webhook", app.base),
        &zoom.recording_completed_event(&m.meeting_id),
        &zoom.webhook_secret,
    )
    .await
}

async fn titles(app: &TestApp, host: &TestUser, space: &str) -> Vec<String> {
    app.indexes_settled().await;
    let r = app.get(&format!("/spaces/{space}/videos"), &host.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let mut titles: Vec<String> = r.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["title"].as_str().map(str::to_owned))
        .collect();
    titles.sort();
    titles
}

/// The space's link, read from the table (consistently).
async fn link(app: &TestApp, space: &str) -> Option<AutoImport> {
    let space: SpaceId = space.parse().expect("space id");
    app.stack.table.auto_import(&space).await.expect("read the link")
}

async fn enable(app: &TestApp, space: &str, who: &TestUser) {
    let path = format!("/spaces/{space}/zoom-auto-import");
    let r = app.call(Method::PUT, &path, Some(&who.token), Some(json!({ "enabled": true }))).await;
    assert_eq!((r.status, r.body["enabled"].as_bool()), (StatusCode::OK, Some(true)), "{:?}", r.body);
    // Zoom's webhooks find the link on an index; they come minutes after a link, not at once.
    app.indexes_settled().await;
}

/// A host, their space, and a TA made co-host who links the space to their Zoom account; the
/// TA's first lecture is imported (the link works).
async fn ta_linked(app: &TestApp) -> (TestUser, TestUser, String) {
    let host = app.user("Host").await;
    let space = app.space(&host, "Linear algebra").await;
    let ta = app.user("Ta").await;
    app.join(&space, &host, &ta).await;
    app.promote(&space, &host, &ta).await;
    app.connect_zoom(&ta).await;
    enable(app, &space, &ta).await;
    let (status, body) = new_recording(app, "Tutorial 1").await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(1)), "a co-host's link imports: {body}");
    (host, ta, space)
}

/// After the change, the TA's link is gone at once, and their next meeting stays out.
async fn assert_unlinked(app: &TestApp, host: &TestUser, space: &str) {
    assert_eq!(link(app, space).await, None, "the link went with the role");
    let (status, body) = new_recording(app, "Tutorial 2 (private)").await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(0)), "{body}");
    assert_eq!(titles(app, host, space).await, ["Tutorial 1"]);
}

#[tokio::test]
async fn given_a_linking_co_host_removed_then_their_later_meetings_are_not_imported_and_the_link_is_gone() {
    let app = TestApp::spawn().await;
    let (host, ta, space) = ta_linked(&app).await;
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", ta.id()), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_unlinked(&app, &host, &space).await;
}

#[tokio::test]
async fn given_a_linking_co_host_demoted_then_their_later_meetings_are_not_imported_and_the_link_is_gone() {
    let app = TestApp::spawn().await;
    let (host, ta, space) = ta_linked(&app).await;
    app.demote(&space, &host, &ta).await;
    assert_unlinked(&app, &host, &space).await;
}

#[tokio::test]
async fn given_a_linking_co_host_who_leaves_then_their_later_meetings_are_not_imported_and_the_link_is_gone() {
    let app = TestApp::spawn().await;
    let (host, ta, space) = ta_linked(&app).await;
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", ta.id()), Some(&ta.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_unlinked(&app, &host, &space).await;
}

#[tokio::test]
async fn given_a_co_host_promoted_again_then_only_a_new_link_imports() {
    let app = TestApp::spawn().await;
    let (host, ta, space) = ta_linked(&app).await;
    let demote = json!({ "role": "participant" });
    let path = format!("/spaces/{space}/members/{}", ta.id());
    assert_eq!(app.call(Method::PATCH, &path, Some(&host.token), Some(demote)).await.status, StatusCode::OK);
    app.promote(&space, &host, &ta).await;
    // The role came back; the link did not: nothing is imported until they link again.
    let (_, body) = new_recording(&app, "Tutorial 2").await;
    assert_eq!(body["imports"].as_u64(), Some(0), "{body}");
    enable(&app, &space, &ta).await;
    let (_, body) = new_recording(&app, "Tutorial 3").await;
    assert_eq!(body["imports"].as_u64(), Some(1), "{body}");
    assert_eq!(titles(&app, &host, &space).await, ["Tutorial 1", "Tutorial 3"]);
}

#[tokio::test]
async fn given_a_link_that_outlived_its_user_s_role_then_the_delivery_skips_the_space_and_deletes_the_link() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let pat = app.user("Pat").await;
    app.join(&space, &host, &pat).await;
    app.connect_zoom(&pat).await;
    // A participant's link, as one left behind by a demotion that raced the link (or written
    // before links were bound to roles): the participant never could have made it by the API.
    let path = format!("/spaces/{space}/zoom-auto-import");
    let r = app.call(Method::PUT, &path, Some(&pat.token), Some(json!({ "enabled": true }))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let stale = AutoImport {
        space_id: space.parse().expect("space id"),
        user_id: pat.user.user_id.clone(),
        zoom_user_id: app.stack.zoom.user_id(),
        enabled_at: now_rfc3339(),
        filter: Default::default(),
    };
    app.stack.table.put_auto_import(&stale).await.expect("link planted");

    let (status, body) = new_recording(&app, "Pat's private meeting").await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(0)), "{body}");
    assert!(titles(&app, &host, &space).await.is_empty());
    assert_eq!(link(&app, &space).await, None, "the stale link is deleted by the delivery");
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

#[tokio::test]
async fn given_a_space_handed_over_then_the_old_host_s_link_keeps_importing_as_they_stay_co_host() {
    let app = TestApp::spawn().await;
    let (old_host, space) = app.zoom_linked_host().await;
    let next = app.user("Next").await;
    app.join(&space, &old_host, &next).await;
    let r = app.post(&format!("/spaces/{space}/transfer"), &old_host.token, json!({ "userId": next.id() })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // The old host manages the space still (co-host): their link stays and imports.
    assert_eq!(link(&app, &space).await.map(|l| l.user_id), Some(old_host.user.user_id.clone()));
    let (_, body) = new_recording(&app, "Lecture after the handover").await;
    assert_eq!(body["imports"].as_u64(), Some(1), "{body}");
    // The new host demotes them: the link goes.
    let path = format!("/spaces/{space}/members/{}", old_host.id());
    let r = app.call(Method::PATCH, &path, Some(&next.token), Some(json!({ "role": "participant" }))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(link(&app, &space).await, None);
    let (_, body) = new_recording(&app, "Their next meeting").await;
    assert_eq!(body["imports"].as_u64(), Some(0), "{body}");
    assert_eq!(titles(&app, &next, &space).await, ["Lecture after the handover"]);
}
