//! `sweep-stale-videos` finishes what was left unfinished (as the hourly schedule invokes it):
//! uploads never finished are deleted entirely (item, place in the space, multipart upload,
//! charge), imports never finished end `FAILED`, and a deletion whose worker never finished — its
//! invocation lost, or every retry failed and nobody replayed it — is started again.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_local::infra::faults::{Fault, FaultRule};
use vivid_tests::{TestApp, pk};

/// A time long past: two days old and more.
const OLD: &str = "2020-01-01T00:00:00.000Z";

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

async fn sweep(app: &TestApp) -> Value {
    // The hourly sweep meets an index long caught up with what happened minutes or hours before.
    app.indexes_settled().await;
    app.invoke("sweep-stale-videos", json!({ "source": "aws.events", "detail-type": "Scheduled Event" }))
        .await
        .expect("swept")
}

/// Makes a deletion's mark two days old: its entry in the marks' index (`GSI2PK = DELETING`,
/// `GSI2SK = {markedAt}#{kind}#{id}`), which the mark wrote with it.
async fn age_mark(app: &TestApp, pk: &str, sk: &str) {
    let key = |k: &str, v: &str| (k.to_owned(), AttributeValue::S(v.to_owned()));
    let item = app.item(pk, sk).await.expect("the marked item");
    assert_eq!(item.get("deleting"), Some(&AttributeValue::Bool(true)), "{pk} is marked");
    assert_eq!(item.get("GSI2PK").and_then(|v| v.as_s().ok()).map(String::as_str), Some("DELETING"), "{pk}");
    let entry = item.get("GSI2SK").and_then(|v| v.as_s().ok()).expect("the mark's time");
    let (_, kind_and_id) = entry.split_once('#').expect("{markedAt}#{kind}#{id}");
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .set_key(Some([key("PK", pk), key("SK", sk)].into()))
        .update_expression("SET GSI2SK = :k")
        .expression_attribute_values(":k", AttributeValue::S(format!("{OLD}#{kind_and_id}")))
        .send()
        .await
        .expect("age the mark");
}

async fn items_of(app: &TestApp, partition: &str) -> usize {
    app.scan_all().await.iter().filter(|i| pk(i) == partition).count()
}

async fn video_count(app: &TestApp, space: &str, token: &str) -> Value {
    app.get(&format!("/spaces/{space}"), token).await.body["videoCount"].clone()
}

#[tokio::test]
async fn the_sweep_deletes_uploads_that_never_finished_with_their_place_and_their_charge() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let fresh = app.new_video(&space, &host, 1000).await["videoId"].as_str().expect("id").to_owned();
    let stale = app.new_video(&space, &host, 40 * 1024 * 1024).await;
    assert_eq!(stale["upload"]["kind"], "multipart");
    let stale = stale["videoId"].as_str().expect("id").to_owned();
    // Created (and charged) two days ago, never uploaded.
    app.backdate_video(&stale, OLD, Some("UPLOADING")).await;
    let budget = [
        ("PK".to_owned(), AttributeValue::S(format!("USER#{}", host.id()))),
        ("SK".to_owned(), AttributeValue::S("BUDGET#2020-01-01".into())),
    ];
    app.dynamo()
        .put_item()
        .table_name(&app.table)
        .set_item(Some(
            budget.into_iter().chain([("transcodeBytes".to_owned(), AttributeValue::N("41943040".into()))]).collect(),
        ))
        .send()
        .await
        .expect("that day's charge");
    assert!(!app.no_multipart_uploads().await);
    assert_eq!(video_count(&app, &space, &host.token).await, 2);

    assert_eq!(sweep(&app).await, json!({ "ended": 0, "removed": 1, "restarted": 0 }));
    // Gone for readers at once, its place in the space free again.
    assert_eq!(app.get(&format!("/videos/{stale}"), &host.token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(video_count(&app, &space, &host.token).await, 1);
    // The deletion worker removes the rest: its multipart upload, its item.
    assert_eq!(app.deletions_settled().await.exhausted, 0);
    assert!(app.no_multipart_uploads().await, "its multipart upload is aborted");
    assert_eq!(items_of(&app, &format!("VIDEO#{stale}")).await, 0, "no item of it is left");
    let day = app.item(&format!("USER#{}", host.id()), "BUDGET#2020-01-01").await.expect("the day's budget");
    assert_eq!(day.get("transcodeBytes"), Some(&AttributeValue::N("0".into())), "its charge refunded");
    let listed = app.get(&format!("/spaces/{space}/videos"), &host.token).await.body;
    let ids: Vec<&str> =
        listed["items"].as_array().expect("items").iter().filter_map(|v| v["videoId"].as_str()).collect();
    assert_eq!(ids, [fresh.as_str()], "an upload in progress stays");
    assert_eq!(app.get(&format!("/videos/{fresh}"), &host.token).await.body["status"], "UPLOADING");
    // Idempotent: the next run finds nothing.
    assert_eq!(sweep(&app).await, json!({ "ended": 0, "removed": 0, "restarted": 0 }));
    assert_eq!(video_count(&app, &space, &host.token).await, 1, "counted out once");
    assert_eq!(app.stack.denied_grants(), [], "the sweep and the worker stay within their grants");
}

#[tokio::test]
async fn a_sweep_the_table_fails_changes_nothing_and_its_retry_removes_the_upload() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let stale = app.new_video(&space, &host, 17 * 1024 * 1024).await["videoId"].as_str().expect("id").to_owned();
    app.backdate_video(&stale, OLD, Some("UPLOADING")).await;
    app.indexes_settled().await;
    let faults = app.stack.faults();
    let rule = faults.add(FaultRule::dynamodb("TransactWriteItems", Fault::ServerError));
    let failed = app.invoke("sweep-stale-videos", json!({})).await.expect_err("fails, so that Lambda retries it");
    assert!(failed.contains("unavailable"), "{failed}");
    faults.clear();
    assert!(faults.fired(rule) > 0);
    // Nothing changed: still uploading, counted, its upload in place, no worker started.
    assert_eq!(app.get(&format!("/videos/{stale}"), &host.token).await.body["status"], "UPLOADING");
    assert_eq!(video_count(&app, &space, &host.token).await, 1);
    assert!(!app.no_multipart_uploads().await);
    assert_eq!(app.deletions_settled().await, Default::default());
    // Lambda's retry.
    assert_eq!(sweep(&app).await["removed"], 1);
    assert_eq!(app.deletions_settled().await.exhausted, 0);
    assert_eq!(items_of(&app, &format!("VIDEO#{stale}")).await, 0);
    assert!(app.no_multipart_uploads().await);
    assert_eq!(video_count(&app, &space, &host.token).await, 0);
}

#[tokio::test]
async fn the_sweep_fails_an_import_that_never_finished_and_keeps_its_video() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = app.new_video(&space, &host, 1000).await["videoId"].as_str().expect("id").to_owned();
    app.backdate_video(&id, OLD, Some("IMPORTING")).await;
    app.indexes_settled().await;
    let before = app.stack.dynamodb_calls();
    assert_eq!(sweep(&app).await, json!({ "ended": 1, "removed": 0, "restarted": 0 }));
    // The pending videos' page, the video, its transition, the marks' page: 2 + 2 a video.
    assert_eq!(app.stack.dynamodb_calls() - before, 4);
    let v = app.get(&format!("/videos/{id}"), &host.token).await;
    assert_eq!((v.status, v.body["status"].as_str()), (StatusCode::OK, Some("FAILED")), "{:?}", v.body);
    assert_eq!(video_count(&app, &space, &host.token).await, 1, "the host deletes it when they like");
    assert_eq!(sweep(&app).await["ended"], 0);
}

#[tokio::test]
async fn a_space_or_video_whose_worker_was_never_started_is_deleted_by_a_later_sweep() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let gone = app.space(&host, "Old course").await;
    let in_gone = app.uploaded_video(&gone, &host, bytes(512)).await;
    let kept = app.space(&host, "Course").await;
    let video = app.uploaded_video(&kept, &host, bytes(512)).await;
    let other = app.uploaded_video(&kept, &host, bytes(512)).await;
    // The worker's invocation fails: 503, the mark stays, and the host never asks again.
    let faults = app.stack.faults();
    faults.add(FaultRule::lambda_invoke(Fault::ServerError));
    for path in [format!("/spaces/{gone}"), format!("/videos/{video}")] {
        let r = app.call(Method::DELETE, &path, Some(&host.token), None).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {:?}", r.body);
        assert_eq!(app.get(&path, &host.token).await.status, StatusCode::NOT_FOUND, "{path} reads as gone");
    }
    faults.clear();
    let counts = app.deletions_settled().await;
    assert_eq!(counts.succeeded + counts.failed_runs, 0, "no worker ran: {counts:?}");

    // A sweep soon after leaves them be (a worker may still be at work).
    assert_eq!(sweep(&app).await["restarted"], 0);
    assert_eq!(items_of(&app, &format!("SPACE#{gone}")).await, 2, "the space and its host's membership");
    // Later (the marks older than the sweep waits): their worker started again, and done.
    age_mark(&app, &format!("SPACE#{gone}"), "META").await;
    age_mark(&app, &format!("VIDEO#{video}"), "META").await;
    assert_eq!(sweep(&app).await["restarted"], 2);
    assert_eq!(app.deletions_settled().await.exhausted, 0);
    for partition in [format!("SPACE#{gone}"), format!("VIDEO#{in_gone}"), format!("VIDEO#{video}")] {
        assert_eq!(items_of(&app, &partition).await, 0, "{partition} is gone");
    }
    for id in [&in_gone, &video] {
        assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await, "{id}'s upload");
    }
    assert_eq!(app.get(&format!("/videos/{other}"), &host.token).await.status, StatusCode::OK, "the rest stays");
    assert_eq!(video_count(&app, &kept, &host.token).await, 1);
    let me = app.get("/users/me", &host.token).await.body;
    assert_eq!(me["usage"]["hostedSpaces"]["used"], 1, "{me}");
    // Finished: the marks left the index with their items.
    assert_eq!(sweep(&app).await["restarted"], 0);
    assert_eq!(app.stack.denied_grants(), []);
}

#[tokio::test]
async fn an_account_whose_worker_failed_every_retry_is_deleted_by_a_later_sweep_without_a_replay() {
    let app = TestApp::spawn().await;
    let leaver = app.user("Leaver").await;
    let space = app.space(&leaver, "Course").await;
    let video = app.uploaded_video(&space, &leaver, bytes(512)).await;
    // Every run of the worker fails (its first step, removing an upload); nobody replays it.
    let faults = app.stack.faults();
    faults.add(FaultRule::s3("DeleteObject", Fault::ServerError).on(&app.stack.buckets.raw));
    let r = app.call(Method::DELETE, "/users/me", Some(&leaver.token), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(app.deletions_settled().await.exhausted, 1);
    faults.clear();
    let profile = format!("USER#{}", leaver.id());
    let left = || async {
        let of_it =
            [(profile.as_str(), Some("PROFILE")), (&format!("SPACE#{space}"), None), (&format!("VIDEO#{video}"), None)];
        app.scan_all()
            .await
            .iter()
            .filter(|i| {
                let sk = i.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str);
                of_it.iter().any(|(p, s)| pk(i) == *p && (s.is_none() || *s == sk))
            })
            .count()
    };
    assert!(left().await > 0, "the account is marked, not deleted");

    age_mark(&app, &profile, "PROFILE").await;
    assert_eq!(sweep(&app).await["restarted"], 1, "the account's deletion (it finishes its space too)");
    assert_eq!(app.deletions_settled().await.exhausted, 1, "no new failure");
    assert_eq!(left().await, 0, "nothing of the account is left");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{video}")).await);
    assert_eq!(sweep(&app).await["restarted"], 0);
}
