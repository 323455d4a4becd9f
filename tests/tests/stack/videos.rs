//! Videos as members use them: lists with their progress, the cheap progress write, snapshots,
//! the dashboard, and deletions that leave nothing behind.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_local::infra::faults::{Fault, FaultRule};
use vivid_tests::{TestApp, TestUser, job_event, pk};

/// A course: its host, a participant (Ana) and the space.
struct Course {
    app: TestApp,
    host: TestUser,
    ana: TestUser,
    space: String,
}

async fn course() -> Course {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let ana = app.user("Ana").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &ana).await;
    Course { app, host, ana, space }
}

async fn ready_video(app: &TestApp, space: &str, host: &vivid_tests::TestUser) -> String {
    let id = app.uploaded_video(space, host, vec![3u8; 300]).await;
    let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
    app.invoke("on-transcode-event", job_event("on-transcode-event", &id, &job, &app.stack.buckets.media))
        .await
        .expect("ready");
    id
}

fn items_of(
    app_scan: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>],
    sk_prefix: &str,
) -> usize {
    app_scan
        .iter()
        .filter(|i| i.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|s| s.starts_with(sk_prefix)))
        .count()
}

#[tokio::test]
async fn given_progress_writes_then_each_member_sees_their_own_in_lists_and_details() {
    let Course { app, host, ana, space } = course().await;
    let first = ready_video(&app, &space, &host).await;
    let second = ready_video(&app, &space, &host).await;

    let put = |token: String, id: String, rate: u8, pos: f64| {
        let app = &app;
        async move {
            app.call(
                Method::PUT,
                &format!("/videos/{id}/progress"),
                Some(&token),
                Some(json!({ "progressRate": rate, "positionSeconds": pos })),
            )
            .await
        }
    };
    assert_eq!(put(ana.token.clone(), first.clone(), 30, 120.5).await.status, StatusCode::NO_CONTENT);
    assert_eq!(put(ana.token.clone(), first.clone(), 35, 140.0).await.status, StatusCode::NO_CONTENT, "the cheap path");
    let detail = app.get(&format!("/videos/{first}"), &ana.token).await;
    assert_eq!(detail.body["progress"]["progressRate"], 35);
    assert_eq!(detail.body["progress"]["positionSeconds"], 140.0);
    assert!(
        app.get(&format!("/videos/{first}"), &host.token).await.body["progress"].is_null(),
        "progress is per member"
    );

    let list = app.get(&format!("/spaces/{space}/videos"), &ana.token).await;
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["videoId"], second.as_str(), "newest first");
    assert!(items[0]["progress"].is_null());
    assert_eq!(items[1]["progress"]["progressRate"], 35);

    for bad in [
        json!({ "progressRate": 101, "positionSeconds": 1 }),
        json!({ "progressRate": 5, "positionSeconds": -1 }),
        json!({ "progressRate": 5 }),
        json!({ "progressRate": "5", "positionSeconds": 1 }),
        json!({ "progressRate": 5, "positionSeconds": 1e9 }),
    ] {
        let r = app.call(Method::PUT, &format!("/videos/{first}/progress"), Some(&ana.token), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(
        app.get(&format!("/videos/{first}"), &ana.token).await.body["progress"]["progressRate"],
        35,
        "nothing half-written"
    );
}

#[tokio::test]
async fn given_a_removed_member_then_their_progress_write_is_refused_and_their_data_is_gone() {
    let Course { app, host, ana, space } = course().await;
    let id = ready_video(&app, &space, &host).await;
    let progress = json!({ "progressRate": 50, "positionSeconds": 10 });
    let r = app.call(Method::PUT, &format!("/videos/{id}/progress"), Some(&ana.token), Some(progress.clone())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let snap = app
        .post(
            &format!("/videos/{id}/snapshots"),
            &ana.token,
            json!({ "videoSeconds": 2, "contentType": "image/png", "sizeBytes": 64 }),
        )
        .await;
    let put = app
        .http
        .put(snap.body["upload"]["url"].as_str().expect("url"))
        .header("content-type", "image/png")
        .header("if-none-match", "*")
        .body(vec![1u8; 64])
        .send()
        .await
        .expect("put");
    assert!(put.status().is_success());

    // Removed right after her last writes: the membership goes at once, her data once the
    // index that finds it caught up (the deletion worker waits for that).
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", ana.id()), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.call(Method::PUT, &format!("/videos/{id}/progress"), Some(&ana.token), Some(progress)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a removed member's cheap write is refused at once");
    app.deletions_settled().await;
    let scan = app.scan_all().await;
    assert_eq!(items_of(&scan, &format!("PROGRESS#{}", ana.id())), 0);
    assert_eq!(items_of(&scan, &format!("SNAP#{}", ana.id())), 0);
    assert!(
        app.list_keys(&app.stack.buckets.user, &format!("snapshots/{id}/{}/", ana.id())).await.is_empty(),
        "their images are gone"
    );
}

#[tokio::test]
async fn given_snapshots_then_their_author_alone_lists_downloads_and_deletes_them() {
    let Course { app, host, ana, space } = course().await;
    let id = ready_video(&app, &space, &host).await;
    let r = app
        .post(
            &format!("/videos/{id}/snapshots"),
            &ana.token,
            json!({ "videoSeconds": 42.5, "contentType": "image/jpeg", "sizeBytes": 15 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let snapshot = r.body["snapshotId"].as_str().expect("id").to_owned();
    let image = b"\\xff\\xd8 a jpeg".to_vec();
    let put = app
        .http
        .put(r.body["upload"]["url"].as_str().expect("url"))
        .header("content-type", "image/jpeg")
        .header("if-none-match", "*")
        .body(image.clone())
        .send()
        .await
        .expect("put");
    assert!(put.status().is_success());

    let list = app.get(&format!("/videos/{id}/snapshots"), &ana.token).await;
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["videoSeconds"], 42.5);
    let got = app.http.get(items[0]["url"].as_str().expect("url")).send().await.expect("get");
    assert_eq!(got.bytes().await.expect("bytes").to_vec(), image);
    assert_eq!(
        app.get(&format!("/videos/{id}/snapshots"), &host.token).await.body["items"].as_array().map(Vec::len),
        Some(0),
        "the host sees none of them"
    );
    let r = app.call(Method::DELETE, &format!("/videos/{id}/snapshots/{snapshot}"), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "nor deletes them");
    for bad in [
        json!({ "videoSeconds": 1, "contentType": "image/svg+xml", "sizeBytes": 1000 }),
        json!({ "videoSeconds": -3, "contentType": "image/png", "sizeBytes": 1000 }),
    ] {
        let r = app.post(&format!("/videos/{id}/snapshots"), &ana.token, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let r = app.call(Method::DELETE, &format!("/videos/{id}/snapshots/{snapshot}"), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(app.list_keys(&app.stack.buckets.user, &format!("snapshots/{id}/")).await.is_empty());
    let r = app.call(Method::DELETE, &format!("/videos/{id}/snapshots/{snapshot}"), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_a_deleted_video_then_its_objects_and_everyones_data_are_gone() {
    let Course { app, host, ana, space } = course().await;
    let id = ready_video(&app, &space, &host).await;
    app.put_object(
        &app.stack.buckets.media,
        &format!("media/{id}/hls/index.m3u8"),
        b"#EXTM3U".to_vec(),
        "application/vnd.apple.mpegurl",
    )
    .await;
    app.call(
        Method::PUT,
        &format!("/videos/{id}/progress"),
        Some(&ana.token),
        Some(json!({ "progressRate": 5, "positionSeconds": 1 })),
    )
    .await;
    let snap = app
        .post(
            &format!("/videos/{id}/snapshots"),
            &ana.token,
            json!({ "videoSeconds": 2, "contentType": "image/png", "sizeBytes": 1000 }),
        )
        .await;
    let put = app
        .http
        .put(snap.body["upload"]["url"].as_str().expect("url"))
        .header("content-type", "image/png")
        .header("if-none-match", "*")
        .body(vec![1u8; 1000])
        .send()
        .await
        .expect("put");
    assert!(put.status().is_success());
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 1);

    let r = app.delete_and_wait(&format!("/videos/{id}"), &host.token).await;
    assert_eq!(r.body["videoId"], id.as_str());
    assert_eq!(app.get(&format!("/videos/{id}"), &host.token).await.status, StatusCode::NOT_FOUND);
    assert!(app.scan_all().await.iter().all(|i| pk(i) != format!("VIDEO#{id}")), "no item of the video is left");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);
    assert!(app.list_keys(&app.stack.buckets.media, &format!("media/{id}/")).await.is_empty());
    assert!(app.list_keys(&app.stack.buckets.user, &format!("snapshots/{id}/")).await.is_empty());
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 0);
}

#[tokio::test]
async fn given_a_video_being_deleted_then_it_reads_as_gone_frees_its_place_and_a_replay_finishes_a_failed_worker() {
    let Course { app, host, ana, space } = course().await;
    let (cy, dee) = (app.user("Cy").await, app.user("Dee").await);
    app.join(&space, &host, &dee).await;
    app.promote(&space, &host, &dee).await;
    let id = ready_video(&app, &space, &host).await;
    let kept = ready_video(&app, &space, &host).await;
    let progress = json!({ "progressRate": 20, "positionSeconds": 2.0 });
    let progress_path = format!("/videos/{id}/progress");
    let put_progress = || app.call(Method::PUT, &progress_path, Some(&ana.token), Some(progress.clone()));
    assert_eq!(put_progress().await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 2);
    let path = format!("/videos/{id}");
    // The worker's first step (removing the upload) fails on every attempt of every run.
    let faults = app.stack.faults();
    faults.add(FaultRule::s3("DeleteObject", Fault::ServerError).on(&app.stack.buckets.raw));

    assert_eq!(app.call(Method::DELETE, &path, None, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(Method::DELETE, &path, Some(&cy.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::DELETE, &path, Some(&ana.token), None).await.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::DELETE, &path, Some(&dee.token), None).await;
    assert_eq!((r.status, &r.body), (StatusCode::ACCEPTED, &json!({ "videoId": id, "status": "deleting" })));

    // Gone for every reader at once; its place in the space freed at once; out of the list once
    // the list's index caught up with the mark (a moment).
    for who in [&host, &ana, &dee] {
        assert_eq!(app.get(&path, &who.token).await.status, StatusCode::NOT_FOUND);
    }
    app.indexes_settled().await;
    for who in [&host, &ana, &dee] {
        let listed = app.get(&format!("/spaces/{space}/videos"), &who.token).await.body;
        let ids: Vec<&str> =
            listed["items"].as_array().expect("items").iter().filter_map(|v| v["videoId"].as_str()).collect();
        assert_eq!(ids, [kept.as_str()], "left out of the list");
    }
    assert_eq!(app.get(&format!("{path}/playback"), &ana.token).await.status, StatusCode::NOT_FOUND, "no new grant");
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 1);
    let dashboard = app.get("/users/me/dashboard", &ana.token).await.body;
    assert!(dashboard["recentVideos"].as_array().expect("recent").iter().all(|v| v["videoId"] != id.as_str()));
    // Writes into it are refused (the progress beacon excepted while its item exists: one write,
    // not checked against the mark; what it writes goes with the video).
    let refused = [
        app.call(Method::PATCH, &path, Some(&host.token), Some(json!({ "title": "Back" }))).await,
        app.call(Method::PUT, &format!("{path}/text-memo"), Some(&ana.token), Some(json!({ "stateJson": "x" }))).await,
        app.post(&format!("{path}/bookmarks"), &ana.token, json!({ "videoSeconds": 1.0, "label": "b" })).await,
        app.post(
            &format!("{path}/snapshots"),
            &ana.token,
            json!({ "videoSeconds": 1.0, "contentType": "image/png", "sizeBytes": 4 }),
        )
        .await,
    ];
    for r in refused {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    }
    let order = app
        .call(
            Method::PUT,
            &format!("/spaces/{space}/videos/order"),
            Some(&host.token),
            Some(json!({ "videoIds": [id.clone(), kept.clone()] })),
        )
        .await;
    assert_eq!(order.status, StatusCode::CONFLICT, "no longer a video of the space's order");
    // Asked again while it runs (by the host this time): the same 202.
    let again = app.call(Method::DELETE, &path, Some(&host.token), None).await;
    assert_eq!((again.status, &again.body), (StatusCode::ACCEPTED, &json!({ "videoId": id, "status": "deleting" })));
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 1, "counted out once");

    // Both runs fail every retry and wait in the queue; the video stays marked, not half-gone
    // silently.
    let counts = app.deletions_settled().await;
    assert_eq!((counts.exhausted, counts.failed_runs), (2, 6), "{counts:?}");
    let records = app.failed_events().await;
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r["requestPayload"] == json!({ "kind": "video", "videoId": id })));
    assert_eq!(app.get(&path, &host.token).await.status, StatusCode::NOT_FOUND);

    faults.clear();
    assert_eq!(app.replay_failed_events().await, 2);
    assert_eq!(app.deletions_settled().await.exhausted, 2, "the replays did not fail");
    assert!(app.scan_all().await.iter().all(|i| pk(i) != format!("VIDEO#{id}")), "no item of the video is left");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);
    assert!(app.list_keys(&app.stack.buckets.media, &format!("media/{id}/")).await.is_empty());
    assert_eq!(put_progress().await.status, StatusCode::NOT_FOUND, "gone: the beacon too");
    assert_eq!(app.get(&format!("/videos/{kept}"), &ana.token).await.status, StatusCode::OK, "the other video stays");
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 1, "never counted twice");
    assert_eq!(app.call(Method::DELETE, &path, Some(&host.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.stack.denied_grants(), [], "the worker and the route stay within their grants");
}

#[tokio::test]
async fn given_a_deleted_space_then_its_videos_go_with_it() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let ids = [ready_video(&app, &space, &host).await, ready_video(&app, &space, &host).await];
    app.delete_and_wait(&format!("/spaces/{space}"), &host.token).await;
    let scan = app.scan_all().await;
    for id in &ids {
        assert!(scan.iter().all(|i| pk(i) != format!("VIDEO#{id}")));
        assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);
    }
    assert!(scan.iter().all(|i| !pk(i).starts_with(&format!("SPACE#{space}"))));
}

#[tokio::test]
async fn given_study_then_the_dashboard_counts_and_orders_by_last_access() {
    let Course { app, host, ana, space } = course().await;
    // 200 s lectures: 100 coverage buckets of 2 s each, one per percent watched.
    let a = app.lecture(&space, &host, 200).await;
    let b = app.lecture(&space, &host, 200).await;
    let c = app.lecture(&space, &host, 200).await;
    let empty = app.get("/users/me/dashboard", &ana.token).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body["lastStudied"].is_null());
    for (id, rate) in [(&a, 100), (&b, 40), (&c, 100)] {
        let r = app
            .call(
                Method::PUT,
                &format!("/videos/{id}/progress"),
                Some(&ana.token),
                Some(json!({ "progressRate": rate, "positionSeconds": 3 })),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // A rate of 100 is the client's claim: it completes nothing, nor counts on the dashboard.
    let claimed = app.get(&format!("/videos/{a}"), &ana.token).await;
    assert_eq!(claimed.body["progress"]["progressRate"], 100, "{:?}", claimed.body);
    assert!(claimed.body["progress"].get("completedAt").is_none(), "{:?}", claimed.body);
    app.indexes_settled().await;
    let d = app.get("/users/me/dashboard", &ana.token).await;
    assert_eq!(d.body["counts"]["completed"], 0, "{:?}", d.body);
    // Ana's player reports what she watched, in this order: all of a, half of b, 90 % of c
    // ([0, 180): buckets 0 to 89). Completion is watched coverage of 90 %: a and c.
    for (id, end, percent, completed) in [(&a, 200.0, 100, true), (&b, 100.0, 50, false), (&c, 180.0, 90, true)] {
        let r = app.watched(id, &ana.token, 0.0, end).await;
        assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(percent), json!(completed)), "{r}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Rewinding a completed video keeps it completed (completion is sticky).
    app.call(
        Method::PUT,
        &format!("/videos/{a}/progress"),
        Some(&ana.token),
        Some(json!({ "progressRate": 5, "positionSeconds": 1 })),
    )
    .await;
    let rewound = app.get(&format!("/videos/{a}"), &ana.token).await;
    assert_eq!(
        (rewound.body["progress"]["progressRate"].clone(), rewound.body["progress"]["coveragePercent"].clone()),
        (json!(5), json!(100))
    );
    assert!(rewound.body["progress"]["completedAt"].is_string(), "{:?}", rewound.body);
    let unfinished = app.get(&format!("/videos/{b}"), &ana.token).await;
    assert!(unfinished.body["progress"].get("completedAt").is_none(), "{:?}", unfinished.body);
    // Back to b: it becomes the last studied.
    app.call(
        Method::PUT,
        &format!("/videos/{b}/progress"),
        Some(&ana.token),
        Some(json!({ "progressRate": 60, "positionSeconds": 9 })),
    )
    .await;
    // The dashboard reads the last accesses on an index: Ana looks at it a moment later.
    app.indexes_settled().await;
    let d = app.get("/users/me/dashboard", &ana.token).await;
    assert_eq!(d.body["counts"]["spaces"], 2, "personal space and the course");
    assert_eq!(d.body["counts"]["videos"], 3);
    assert_eq!(d.body["counts"]["completed"], 2);
    assert_eq!(d.body["lastStudied"]["videoId"], b.as_str());
    assert_eq!(d.body["lastStudied"]["progressRate"], 60);
    let order: Vec<&str> =
        d.body["recentVideos"].as_array().expect("recent").iter().filter_map(|v| v["videoId"].as_str()).collect();
    assert_eq!(order, vec![b.as_str(), a.as_str(), c.as_str()], "a was rewound after c was studied");
}

#[tokio::test]
async fn given_a_host_when_editing_a_video_then_title_and_description_change_and_bad_input_is_refused() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = ready_video(&app, &space, &host).await;
    let r = app
        .call(
            Method::PATCH,
            &format!("/videos/{id}"),
            Some(&host.token),
            Some(json!({ "title": "Waves II", "description": "Second part" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["title"], "Waves II");
    for bad in [json!({}), json!({ "title": "" }), json!({ "title": "x".repeat(201) }), json!({ "status": "READY" })] {
        let r = app.call(Method::PATCH, &format!("/videos/{id}"), Some(&host.token), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    for bad in [
        json!({ "title": "T", "fileName": "f", "contentType": "image/png", "sizeBytes": 10 }),
        json!({ "title": "T", "fileName": "f", "contentType": "video/mp4", "sizeBytes": 0 }),
        json!({ "title": "T", "fileName": "", "contentType": "video/mp4", "sizeBytes": 10 }),
        json!({ "title": "T", "fileName": "f", "contentType": "video/mp4", "sizeBytes": -1 }),
    ] {
        let r = app.post(&format!("/spaces/{space}/videos"), &host.token, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 1, "nothing half-written");
    let r = app.get("/videos/not-an-id", &host.token).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn given_chapters_from_the_host_then_members_read_them_sorted_and_as_webvtt() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let ana = app.user("Ana").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &ana).await;
    let id = app.new_video(&space, &host, 1024).await["videoId"].as_str().expect("videoId").to_owned();
    let patch = |who: &TestUser, body: serde_json::Value| {
        let (app, path, token) = (&app, format!("/videos/{id}"), who.token.clone());
        async move { app.call(Method::PATCH, &path, Some(&token), Some(body)).await }
    };
    let chapters = json!([
        { "startSeconds": 90, "title": "The proof" },
        { "startSeconds": 0, "title": "Introduction" },
    ]);
    let r = patch(&host, json!({ "chapters": chapters })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let read = app.get(&format!("/videos/{id}"), &ana.token).await;
    let titles: Vec<&str> =
        read.body["chapters"].as_array().into_iter().flatten().filter_map(|c| c["title"].as_str()).collect();
    assert_eq!(titles, ["Introduction", "The proof"], "sorted by start");
    let vtt = read.body["chaptersVtt"].as_str().expect("chaptersVtt");
    assert!(vtt.starts_with("WEBVTT\n\n1\n00:00:00.000 --> 00:01:30.000\nIntroduction\n"), "{vtt}");
    // Bad lists are refused whole; a participant cannot set them; an empty list clears them.
    for bad in [
        json!([{ "startSeconds": 5, "title": "A" }, { "startSeconds": 5, "title": "B" }]),
        json!([{ "startSeconds": -1, "title": "Before" }]),
        json!([{ "startSeconds": 1, "title": "" }]),
        json!([{ "startSeconds": 1, "title": "X", "color": "red" }]),
        json!((0..=200).map(|i| json!({ "startSeconds": i, "title": "C" })).collect::<Vec<_>>()),
    ] {
        let r = patch(&host, json!({ "chapters": bad })).await;
        assert!(matches!(r.status.as_u16(), 400 | 422), "{bad}: {} {:?}", r.status, r.body);
    }
    assert_eq!(patch(&ana, json!({ "chapters": [] })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/videos/{id}"), &ana.token).await.body["chapters"].as_array().map(Vec::len), Some(2));
    assert_eq!(patch(&host, json!({ "chapters": [] })).await.status, StatusCode::OK);
    let cleared = app.get(&format!("/videos/{id}"), &ana.token).await;
    assert!(cleared.body.get("chapters").is_none() && cleared.body.get("chaptersVtt").is_none(), "{:?}", cleared.body);
}
