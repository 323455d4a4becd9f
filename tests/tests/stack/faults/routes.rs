//! Routes: a write through a failing call answers 503 with `Retry-After`, and its retry
//! completes it.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_local::infra::faults::{Fault, FaultRule};
use vivid_tests::TestApp;

use super::{harness::*, stored::*};

#[tokio::test]
async fn space_and_member_writes_answer_503_and_a_retry_completes_them() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let host = &course.host;
    let space = &course.space;
    let invitee = app.user("Invitee").await;
    let ana = course.participant(&app, "Ana").await;
    let bob = course.participant(&app, "Bob").await;

    let create = Req::new(Method::POST, "/spaces", host, Some(json!({ "name": "Second" })));
    let patch = Req::new(Method::PATCH, format!("/spaces/{space}"), host, Some(json!({ "name": "Renamed" })));
    let add =
        Req::new(Method::POST, format!("/spaces/{space}/members"), host, Some(json!({ "email": invitee.email() })));
    let cases = [
        (dynamodb("TransactWriteItems", Fault::Throttle), &create, StatusCode::CREATED),
        (dynamodb("UpdateItem", Fault::ServerError), &patch, StatusCode::OK),
        (dynamodb("TransactWriteItems", Fault::Drop), &add, StatusCode::CREATED),
    ];
    for (rule, req, ok) in cases {
        unavailable_then_ok(&app, rule, req, Leaves::Nothing, ok).await;
    }
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["name"], "Renamed");

    // Removing a member: the membership goes first, in one transaction — a failure there leaves
    // everything, and the removal retried succeeds.
    let bob_leaves = Req::new(Method::DELETE, format!("/spaces/{space}/members/{}", bob.id()), &bob, None);
    let rule = dynamodb("TransactWriteItems", Fault::ServerError);
    unavailable_then_ok(&app, rule, &bob_leaves, Leaves::Nothing, StatusCode::NO_CONTENT).await;
    app.deletions_settled().await;
    // ...then the deletion worker purges the data: a failure there fails every run while the
    // member is already out, and the replayed event finishes it.
    let remove_ana = Req::new(Method::DELETE, format!("/spaces/{space}/members/{}", ana.id()), host, None);
    let user_bucket = app.stack.buckets.user.clone();
    let rule = s3("DeleteObject", Fault::ServerError).on(&user_bucket);
    let job = json!({ "kind": "member", "spaceId": space, "userId": ana.id() });
    let left = worker_fails_then_replayed(&app, rule, &remove_ana, job, StatusCode::NO_CONTENT).await;
    assert!(left.find(&format!("SPACE#{space}"), &format!("MEMBER#{}", ana.id())).is_none(), "out at once");
    let stored = Stored::read(&app).await;
    for who in [&ana, &bob] {
        assert!(stored.find(&format!("SPACE#{space}"), &format!("MEMBER#{}", who.id())).is_none());
        let theirs = |k: &str| k.contains(&who.id());
        assert!(!stored.contents.items.keys().any(|(pk, sk)| pk.starts_with("VIDEO#") && theirs(sk)), "their data");
        assert!(!stored.contents.objects.keys().any(|(_, key)| theirs(key)), "their objects");
    }
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["memberCount"], 2);

    // Deleting the space: the route marks it (one write) and answers 202; the worker takes Carl's
    // progress out of his standing (one transaction), then every transaction after that fails —
    // the video item's, the sweep's — in every run. The space is gone for readers and holds
    // together; the failed event waits in the queue, and replaying it finishes the work.
    let carl = course.participant(&app, "Carl").await;
    let delete = Req::new(Method::DELETE, format!("/spaces/{space}"), host, None);
    let rule = dynamodb("TransactWriteItems", Fault::Throttle).after(1);
    let job = json!({ "kind": "space", "spaceId": space });
    let left = deletion_fails_then_replayed(&app, rule, &delete, job).await;
    let tombstone = left.find(&format!("SPACE#{space}"), "META").expect("the space item stays until the last step");
    assert!(flag(tombstone, "deleting"));
    let stored = Stored::read(&app).await;
    assert!(!stored.contents.items.keys().any(|(pk, _)| pk.contains(space.as_str())), "nothing of the space is left");
    assert!(!stored.contents.items.keys().any(|(pk, _)| pk.contains(&course.video)), "nor of its video");
    assert!(!stored.contents.objects.keys().any(|(_, k)| k.contains(&course.video)), "nor of its objects");
    assert_eq!(app.get(&format!("/spaces/{space}"), &carl.token).await.status, StatusCode::NOT_FOUND);
    let me = app.get("/users/me", &host.token).await;
    assert_eq!(me.body["usage"]["hostedSpaces"]["used"], 1, "the second space only: {:?}", me.body);
}

#[tokio::test]
async fn video_writes_answer_503_and_a_retry_completes_them() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let (host, space) = (&course.host, &course.space);
    let new_video =
        |size: u64| json!({ "title": "Lecture", "fileName": "l.mp4", "contentType": "video/mp4", "sizeBytes": size });
    let videos = format!("/spaces/{space}/videos");
    let big: u64 = 17 * 1024 * 1024; // three parts: 8 + 8 + 1 MiB
    let single = Req::new(Method::POST, &videos, host, Some(new_video(1000)));
    let multipart = Req::new(Method::POST, &videos, host, Some(new_video(big)));
    // The video, its count and the day's budget are one transaction; a multipart upload started
    // for it is aborted when the transaction fails.
    let cases = [
        (dynamodb("TransactWriteItems", Fault::ServerError), &single),
        (dynamodb("TransactWriteItems", Fault::Throttle), &multipart),
        (s3("CreateMultipartUpload", Fault::Drop), &multipart),
    ];
    let mut created = Vec::new();
    for (rule, req) in cases {
        let (r, _) = unavailable_then_ok(&app, rule, req, Leaves::Nothing, StatusCode::CREATED).await;
        created.push(r.body);
    }
    let me = app.get("/users/me", &host.token).await.body;
    assert_eq!(me["usage"]["transcodeBytesToday"]["used"], 256 + 1000 + 2 * big, "each charged once: {me}");

    // Completing a multipart upload: S3 refuses for now, then completes it.
    let upload = created[1]["upload"].clone();
    let id = created[1]["videoId"].as_str().expect("id").to_owned();
    let mut parts = Vec::new();
    for (i, part) in upload["parts"].as_array().expect("parts").iter().enumerate() {
        let size = if i < 2 { 8 * 1024 * 1024 } else { 1024 * 1024 };
        let resp = app.http.put(part["url"].as_str().expect("url")).body(bytes(size)).send().await.expect("part");
        assert!(resp.status().is_success());
        let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_owned();
        parts.push(json!({ "partNumber": i + 1, "etag": etag }));
    }
    let complete =
        Req::new(Method::POST, format!("/videos/{id}/upload/complete"), host, Some(json!({ "parts": parts })));
    unavailable_then_ok(
        &app,
        s3("CompleteMultipartUpload", Fault::Throttle),
        &complete,
        Leaves::Nothing,
        StatusCode::OK,
    )
    .await;
    assert!(app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);

    // Aborting: the upload goes first, the status last; aborting again finishes it.
    let aborted = created[2]["videoId"].as_str().expect("id").to_owned();
    let abort = Req::new(Method::DELETE, format!("/videos/{aborted}/upload"), host, None);
    let (_, left) = unavailable_then_ok(
        &app,
        dynamodb("UpdateItem", Fault::ServerError),
        &abort,
        Leaves::Progress,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(left.contents.uploads.is_empty(), "the multipart upload was aborted");
    assert_eq!(app.get(&format!("/videos/{aborted}"), &host.token).await.body["status"], "FAILED");
    assert!(app.no_multipart_uploads().await);

    // Progress: the first write creates the member's grant, the next ones touch it.
    let progress = Req::new(
        Method::PUT,
        format!("/videos/{}/progress", course.video),
        host,
        Some(json!({ "progressRate": 30, "positionSeconds": 4.0 })),
    );
    unavailable_then_ok(
        &app,
        dynamodb("TransactWriteItems", Fault::Drop),
        &progress,
        Leaves::Nothing,
        StatusCode::NO_CONTENT,
    )
    .await;
    unavailable_then_ok(
        &app,
        dynamodb("UpdateItem", Fault::Throttle),
        &progress,
        Leaves::Nothing,
        StatusCode::NO_CONTENT,
    )
    .await;
    let v = app.get(&format!("/videos/{}", course.video), &host.token).await.body;
    assert_eq!(v["progress"]["progressRate"], 30);
    let rename = Req::new(Method::PATCH, format!("/videos/{}", course.video), host, Some(json!({ "title": "Waves" })));
    unavailable_then_ok(&app, dynamodb("UpdateItem", Fault::Drop), &rename, Leaves::Nothing, StatusCode::OK).await;

    // Deleting a video: the route marks it and frees its place in the space (one transaction)
    // and starts the worker. A failure there is a 503 that leaves the mark (the video reads as
    // gone), and deleting it again starts the worker; the worker's failures are retried, then
    // queued, and a replay finishes them. The worker removes its objects first, its items next,
    // the video item last.
    let ana = course.participant(&app, "Ana").await;
    let third = app.uploaded_video(space, host, bytes(1000)).await;
    let delete = Req::new(Method::DELETE, format!("/videos/{third}"), host, None);
    let (_, left) = unavailable_then_ok(
        &app,
        FaultRule::lambda_invoke(Fault::ServerError).on("deletion-worker"),
        &delete,
        Leaves::Progress,
        StatusCode::ACCEPTED,
    )
    .await;
    let marked = left.find(&format!("VIDEO#{third}"), "META").expect("the video stays, marked");
    assert!(flag(marked, "deleting"));
    assert_eq!(app.get(&format!("/videos/{third}"), &host.token).await.status, StatusCode::NOT_FOUND);
    app.deletions_settled().await;
    let delete = Req::new(Method::DELETE, format!("/videos/{}", course.video), host, None);
    let media = app.stack.buckets.media.clone();
    let job = json!({ "kind": "video", "videoId": course.video });
    let left =
        deletion_fails_then_replayed(&app, s3("DeleteObjects", Fault::ServerError).on(&media), &delete, job).await;
    assert!(left.find(&format!("VIDEO#{}", course.video), "META").is_some());
    assert!(left.find(&format!("VIDEO#{}", course.video), &format!("MEMO#{}", ana.id())).is_some());
    let second = app.ready_video(space, host).await;
    study(&app, &second, &ana).await;
    let delete = Req::new(Method::DELETE, format!("/videos/{second}"), host, None);
    // The first transaction is the route's mark; the worker's first gives Ana's notes' bytes back
    // to her storage, its second takes her progress out of her standing; its third, failing here,
    // is the video item's.
    let job = json!({ "kind": "video", "videoId": second });
    let left =
        deletion_fails_then_replayed(&app, dynamodb("TransactWriteItems", Fault::ServerError).after(3), &delete, job)
            .await;
    let kept: Vec<_> = left.partition(&format!("VIDEO#{second}")).map(|i| text(i, "SK")).collect();
    assert_eq!(kept, ["META"], "the per-member items went, the video item stays to the last");
    assert!(!left.contents.objects.keys().any(|(_, k)| k.contains(&second)), "its objects went first");
    let stored = Stored::read(&app).await;
    for gone in [&course.video, &second, &third] {
        assert!(!stored.contents.items.keys().any(|(pk, _)| pk.contains(gone.as_str())));
        assert!(!stored.contents.objects.keys().any(|(_, k)| k.contains(gone.as_str())));
    }
}

#[tokio::test]
async fn notes_drawings_and_snapshots_answer_503_and_a_retry_completes_them() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let ana = app.user("Ana").await;
    app.join(&course.space, &course.host, &ana).await;
    let video = &course.video;
    let memo = format!("/videos/{video}/text-memo");
    let first_save = Req::new(Method::PUT, &memo, &ana, Some(json!({ "stateJson": "<p>one</p>" })));
    let next_save = Req::new(Method::PUT, &memo, &ana, Some(json!({ "stateJson": "<p>two</p>" })));
    let checkpoint = Req::new(Method::POST, format!("{memo}/history"), &ana, Some(json!({})));
    let drawing = format!("/videos/{video}/drawings/large");
    let draw = Req::new(Method::PUT, &drawing, &ana, Some(large_drawing("first")));
    let redraw = Req::new(Method::PUT, &drawing, &ana, Some(large_drawing("second")));
    let snapshot = Req::new(
        Method::POST,
        format!("/videos/{video}/snapshots"),
        &ana,
        Some(json!({ "videoSeconds": 3.0, "contentType": "image/png", "sizeBytes": 4 })),
    );
    let cases = [
        // Every write of a member's own data is a transaction with the live grant's checks.
        (dynamodb("TransactWriteItems", Fault::ServerError), &first_save, StatusCode::CREATED),
        (dynamodb("TransactWriteItems", Fault::Drop), &next_save, StatusCode::OK),
        // A cancelled transaction is read by its reasons: throttled is 503, never a failed
        // condition (the SDK does not retry a cancelled transaction).
        (
            dynamodb("TransactWriteItems", Fault::CancelTransaction("ThrottlingError".into())),
            &checkpoint,
            StatusCode::CREATED,
        ),
        // A large document goes to S3 before its item: when the item cannot be written, the
        // document is removed.
        (dynamodb("TransactWriteItems", Fault::ServerError), &draw, StatusCode::CREATED),
        // A replacement writes a new document: the one the item points at is never touched.
        (dynamodb("TransactWriteItems", Fault::Throttle), &redraw, StatusCode::OK),
        // Conflicting transactions are retried a few times, then 503.
        (
            dynamodb("TransactWriteItems", Fault::CancelTransaction("TransactionConflict".into())),
            &snapshot,
            StatusCode::CREATED,
        ),
    ];
    let mut replies = Vec::new();
    for (rule, req, ok) in cases {
        replies.push(unavailable_then_ok(&app, rule, req, Leaves::Nothing, ok).await.0);
    }
    let got = app.get(&drawing, &ana.token).await;
    assert_eq!(got.body["document"]["marker"], "second");
    let user_bucket = app.stack.buckets.user.clone();
    let documents = app.list_keys(&user_bucket, &format!("drawings/{video}/")).await;
    assert_eq!(documents.len(), 1, "only the current document is kept: {documents:?}");
    let history = app.get(&format!("{memo}/history"), &ana.token).await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(1));

    // Deleting a drawing or a snapshot: the object first, the item (with its count) last. A
    // failure in between leaves the item, without its document: the drawing reads as gone, and
    // deleting it again finishes it.
    let delete_drawing = Req::new(Method::DELETE, &drawing, &ana, None);
    let rule = dynamodb("TransactWriteItems", Fault::ServerError);
    let (failed, _) = through_fault(&app, rule, Leaves::Progress, "DELETE drawing", || delete_drawing.send(&app)).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", failed.body);
    assert_eq!(app.get(&drawing, &ana.token).await.status, StatusCode::NOT_FOUND, "half-deleted reads as gone");
    assert_eq!(delete_drawing.send(&app).await.status, StatusCode::NO_CONTENT);
    Stored::read(&app).await.assert_consistent("drawing deleted");
    assert!(app.list_keys(&user_bucket, &format!("drawings/{video}/")).await.is_empty());

    let snap = &replies[5].body;
    let upload = &snap["upload"];
    let mut put = app.http.put(upload["url"].as_str().expect("url")).body(vec![1u8, 2, 3, 4]);
    for (name, value) in upload["headers"].as_object().expect("headers") {
        put = put.header(name.as_str(), value.as_str().expect("value"));
    }
    assert!(put.send().await.expect("PUT").status().is_success());
    let id = snap["snapshotId"].as_str().expect("id");
    let delete_snapshot = Req::new(Method::DELETE, format!("/videos/{video}/snapshots/{id}"), &ana, None);
    let rule = dynamodb("TransactWriteItems", Fault::Drop);
    unavailable_then_ok(&app, rule, &delete_snapshot, Leaves::Progress, StatusCode::NO_CONTENT).await;
    assert!(app.list_keys(&user_bucket, &format!("snapshots/{video}/")).await.is_empty());
    let usage = Stored::read(&app).await;
    let counter = usage.find(&format!("VIDEO#{video}"), &format!("USAGE#{}", ana.id())).expect("usage");
    assert_eq!((number(counter, "snapshots"), number(counter, "drawings"), number(counter, "checkpoints")), (0, 0, 1));
}

#[tokio::test]
async fn account_deletion_answers_503_when_it_cannot_start_and_a_replay_finishes_a_failed_one() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let leaving = course.participant(&app, "Leaving").await;
    // They also host a space with a video that has media and another member's notes.
    let own = app.space(&leaving, "Own").await;
    let theirs = app.ready_video(&own, &leaving).await;
    app.put_object(&app.stack.buckets.media, &format!("media/{theirs}/hls/index.m3u8"), b"x".to_vec(), "text/plain")
        .await;
    let guest = app.user("Guest").await;
    app.join(&own, &leaving, &guest).await;
    study(&app, &theirs, &guest).await;

    let delete = Req::new(Method::DELETE, "/users/me", &leaving, None);
    // The worker cannot be started: 503, and the account is left exactly as it was (its owner
    // could not sign in to ask again otherwise).
    let rule = FaultRule::lambda_invoke(Fault::Throttle).on("deletion-worker");
    let (failed, _) =
        through_fault(&app, rule, Leaves::Nothing, "DELETE /users/me, Invoke throttled", || delete.send(&app)).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", failed.body);
    assert_eq!(app.get("/users/me", &leaving.token).await.status, StatusCode::OK, "still an account");
    // The worker fails every retry: the account stays marked (it reads as gone), and a replay of
    // the queued event finishes it.
    let media = app.stack.buckets.media.clone();
    let rule = s3("ListObjectsV2", Fault::ServerError).on(&media);
    let job = json!({ "kind": "account", "userId": leaving.id() });
    let left = deletion_fails_then_replayed(&app, rule, &delete, job).await;
    let profile = left.find(&format!("USER#{}", leaving.id()), "PROFILE").expect("the account goes last");
    assert!(flag(profile, "deleting"));
    let stored = Stored::read(&app).await;
    let id = leaving.id();
    assert!(
        !stored
            .contents
            .items
            .keys()
            .any(|(pk, sk)| (pk.contains(&id) && !sk.starts_with("BUDGET#")) || sk.contains(&id)),
        "nothing of the account is left but its budget counter (which expires)"
    );
    assert!(!stored.contents.items.keys().any(|(pk, _)| pk.contains(own.as_str()) || pk.contains(theirs.as_str())));
    assert!(!stored.contents.objects.keys().any(|(_, k)| k.contains(&id) || k.contains(&theirs)));
    assert_eq!(app.get(&format!("/spaces/{}", course.space), &course.host.token).await.body["memberCount"], 1);
}

#[tokio::test]
async fn imports_answer_503_when_the_worker_cannot_be_started_and_leave_nothing() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let host = &course.host;
    app.connect_webex(host).await;
    app.connect_zoom(host).await;
    let webex = app.stack.webex.add_synthetic_recording("Webex lecture", 1024 * 1024);
    let meeting = app.stack.zoom.add_meeting(
        "Zoom lecture",
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
        vec![vivid_local::standins::zoom::NewFile::synthetic_mp4(1024 * 1024)],
    );
    let webex_import = Req::new(
        Method::POST,
        format!("/spaces/{}/videos/webex", course.space),
        host,
        Some(json!({ "recordingId": webex, "title": "From Webex" })),
    );
    let zoom_import = Req::new(
        Method::POST,
        format!("/spaces/{}/videos/zoom", course.space),
        host,
        Some(json!({ "meetingId": meeting.meeting_id, "recordingFileId": meeting.file_ids[0], "title": "From Zoom" })),
    );
    // The video is created (counted, charged, the recording locked), then the worker's `Invoke`
    // fails: the video is withdrawn — uncounted, unlocked, its charge refunded — so that the same
    // import can be asked again and is charged once.
    for (fault, req) in [(Fault::Throttle, &webex_import), (Fault::ServerError, &zoom_import)] {
        let (r, _) =
            unavailable_then_ok(&app, FaultRule::lambda_invoke(fault), req, Leaves::Nothing, StatusCode::ACCEPTED)
                .await;
        let id = r.body["videoId"].as_str().expect("id").to_owned();
        // The worker runs on (as Lambda's `Event` invocation does): wait until its recording landed.
        wait_until("the import landed", || async {
            app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await && app.no_multipart_uploads().await
        })
        .await;
    }
    let me = app.get("/users/me", &host.token).await.body;
    assert_eq!(me["usage"]["transcodeBytesToday"]["used"], 256 + 2 * 1024 * 1024, "charged once each: {me}");
    assert_eq!(app.get(&format!("/spaces/{}", course.space), &host.token).await.body["videoCount"], 3);

    // Zoom's webhook: an automatic import that cannot start answers 503 and gives its claim on
    // the delivery back, so that Zoom's next delivery imports the recording (once).
    let link = format!("/spaces/{}/zoom-auto-import", course.space);
    let r = app.call(Method::PUT, &link, Some(&host.token), Some(json!({ "enabled": true }))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let zoom = &app.stack.zoom;
    let next = zoom.add_meeting(
        "Automatic",
        time::OffsetDateTime::now_utc(),
        vec![vivid_local::standins::zoom::NewFile::synthetic_mp4(512 * 1024)],
    );
    let event = zoom.recording_completed_event(&next.meeting_id);
    let url = format!("{}/zoom/webhook", app.base);
    let what = "the Zoom webhook with the worker's Invoke throttled";
    let rule = FaultRule::lambda_invoke(Fault::Throttle);
    let ((status, _), _) =
        through_fault(&app, rule, Leaves::Nothing, what, || zoom.deliver(&url, &event, &zoom.webhook_secret)).await;
    assert_eq!(status, 503, "{what}");
    for _ in 0..2 {
        let (status, _) = zoom.deliver(&url, &event, &zoom.webhook_secret).await;
        assert_eq!(status, 200, "delivered again");
    }
    let videos = app.get(&format!("/spaces/{}/videos", course.space), &host.token).await.body["items"].clone();
    let automatic = videos.as_array().into_iter().flatten().filter(|v| v["title"] == "Automatic").count();
    assert_eq!(automatic, 1, "imported once: {videos}");
}
