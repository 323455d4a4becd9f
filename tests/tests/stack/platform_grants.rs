//! The grants users give Zoom and Webex end with them (issue 25): Zoom's `app_deauthorized` (the
//! user removed our app at Zoom) forgets every connection with that Zoom user and every automatic
//! import linked to it; an account's deletion revokes its grants at Zoom (`POST /oauth/revoke`)
//! and Webex (`DELETE /v1/authorizations?clientId=`), as the stand-ins reproduce the vendors'
//! documented endpoints — and a platform that fails to revoke does not hold the deletion up.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use vivid_domain::{types::SpaceId, zoom::AutoImportStore};
use vivid_local::{standins::platform::Mode, standins::zoom::NewFile};
use vivid_tests::{TestApp, TestUser, pk, vendor_sample};

async fn deliver(app: &TestApp, event: &Value, secret: &str) -> (u16, Value) {
    // Zoom's notices come well after the indexes caught up with the connect and the link.
    app.indexes_settled().await;
    app.stack.zoom.deliver(&format!("{}/zoom/webhook", app.base), event, secret).await
}

async fn zoom_connected(app: &TestApp, who: &TestUser) -> bool {
    let me = app.get("/users/me", &who.token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    me.body["zoomConnected"].as_bool().expect("zoomConnected")
}

async fn linked(app: &TestApp, space: &str) -> bool {
    let space: SpaceId = space.parse().expect("space id");
    app.stack.table.auto_import(&space).await.expect("read the link").is_some()
}

#[tokio::test]
async fn given_zoom_s_app_deauthorized_then_the_zoom_user_s_connections_and_links_are_forgotten_once() {
    let app = TestApp::spawn().await;
    let (host, space) = app.zoom_linked_host().await;
    // Another of our users connected the same Zoom account (the stand-in has one Zoom user).
    let colleague = app.user("Colleague").await;
    app.connect_zoom(&colleague).await;
    let zoom = &app.stack.zoom;
    // Zoom's published notice, naming the stand-in's Zoom user instead of its placeholder.
    let mut notice = vendor_sample("zoom/webhook-app-deauthorized.json");
    assert_eq!(notice["event"], "app_deauthorized");
    notice["payload"]["user_id"] = zoom.user_id().into();

    // Verified like every event: a forged one changes nothing.
    let (status, _) = deliver(&app, &notice, "not-the-secret").await;
    assert_eq!(status, 401);
    assert!(zoom_connected(&app, &host).await && linked(&app, &space).await);

    let (status, body) = deliver(&app, &notice, &zoom.webhook_secret).await;
    assert_eq!((status, body["connections"].as_u64(), body["links"].as_u64()), (200, Some(2), Some(1)), "{body}");
    assert!(!zoom_connected(&app, &host).await && !zoom_connected(&app, &colleague).await);
    assert!(!linked(&app, &space).await, "the automatic import went with the connection");
    // Zoom delivers it again: nothing more to forget.
    let (status, body) = deliver(&app, &notice, &zoom.webhook_secret).await;
    assert_eq!((status, body["connections"].as_u64(), body["links"].as_u64()), (200, Some(0), Some(0)), "{body}");
    // The user's next meeting is not imported.
    let m = zoom.add_meeting(
        "After the uninstall",
        OffsetDateTime::now_utc() - Duration::hours(1),
        vec![NewFile::mp4(vec![5u8; 64])],
    );
    let (status, body) = deliver(&app, &zoom.recording_completed_event(&m.meeting_id), &zoom.webhook_secret).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(0)), "{body}");
    // A notice without the user it is about is refused.
    let mut blank = notice.clone();
    blank["payload"]["user_id"] = "".into();
    assert_eq!(deliver(&app, &blank, &zoom.webhook_secret).await.0, 400);
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

/// Ages the stored Zoom connection's access token: the revocation must refresh it first.
async fn expire_zoom_access(app: &TestApp, who: &TestUser) {
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("USER#{}", who.id())))
        .key("SK", AttributeValue::S("CONN#zoom".into()))
        .update_expression("SET accessExpiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N("1".into()))
        .send()
        .await
        .expect("the connection aged");
}

#[tokio::test]
async fn given_an_account_deleted_then_its_zoom_and_webex_grants_are_revoked_at_the_platforms() {
    let app = TestApp::spawn().await;
    let (host, space) = app.zoom_linked_host().await;
    app.connect_webex(&host).await;
    let (zoom, webex) = (&app.stack.zoom, &app.stack.webex);
    assert!(zoom.grant_alive() && webex.grant_alive());
    expire_zoom_access(&app, &host).await;
    let refreshes = zoom.refreshes();

    app.delete_and_wait("/users/me", &host.token).await;
    assert_eq!((zoom.revocations(), webex.revocations()), (1, 1), "each platform revoked the grant once");
    assert!(!zoom.grant_alive() && !webex.grant_alive(), "no token of theirs works at either platform");
    assert_eq!(zoom.refreshes(), refreshes + 1, "the expired access token was refreshed to revoke with");
    assert!(!linked(&app, &space).await);
    let owned = format!("USER#{}", host.id());
    assert!(app.scan_all().await.iter().all(|item| pk(item) != owned), "nothing of the account is left");
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

#[tokio::test]
async fn given_the_platforms_failing_to_revoke_then_the_account_is_deleted_all_the_same() {
    let app = TestApp::spawn().await;
    let (host, _) = app.zoom_linked_host().await;
    app.connect_webex(&host).await;
    let (zoom, webex) = (&app.stack.zoom, &app.stack.webex);
    zoom.set_mode(Mode::ServerError);
    webex.set_mode(Mode::ServerError);

    app.delete_and_wait("/users/me", &host.token).await;
    assert_eq!((zoom.revocations(), webex.revocations()), (0, 0));
    let owned = format!("USER#{}", host.id());
    assert!(app.scan_all().await.iter().all(|item| pk(item) != owned), "the deletion went on and finished");
    assert!(app.failed_events().await.is_empty(), "no run of the worker failed");
}
