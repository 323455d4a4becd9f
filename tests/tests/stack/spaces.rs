//! Spaces: what a host and their participants rely on.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_local::{
    infra::faults::{Fault, FaultRule},
    stack::SDK_MAX_ATTEMPTS,
};
use vivid_tests::{TestApp, pk};

#[tokio::test]
async fn given_a_new_user_when_listing_spaces_then_only_the_personal_space_is_there() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let r = app.get("/spaces", &ana.token).await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "Personal");
    assert_eq!(items[0]["personal"], true);
    assert_eq!(items[0]["role"], "host");
    assert_eq!(items[0]["spaceId"], ana.user.personal_space_id.to_string());
    assert!(r.body.get("nextCursor").is_none());
}

#[tokio::test]
async fn given_a_user_when_creating_a_space_then_they_host_it_and_can_read_it_back() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let r =
        app.post("/spaces", &ana.token, json!({ "name": "  Physics 101 ", "description": "Waves\nand optics" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["spaceId"].as_str().expect("spaceId").to_owned();
    assert_eq!(r.header("location"), Some(format!("/spaces/{id}").as_str()));
    assert_eq!(r.body["name"], "Physics 101", "names are trimmed");
    assert_eq!(r.body["role"], "host");
    assert_eq!(r.body["memberCount"], 1);
    assert_eq!(r.body["hostId"], ana.id());

    let got = app.get(&format!("/spaces/{id}"), &ana.token).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["description"], "Waves\nand optics");
    assert_eq!(got.body["personal"], false);
}

#[tokio::test]
async fn given_several_spaces_when_paging_then_personal_comes_first_and_every_space_once() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.space(&ana, &format!("Course {i}")).await);
    }
    // A space Ana joins as participant is listed too.
    let bo = app.user("Bo").await;
    let bos = app.space(&bo, "Bo's course").await;
    app.join(&bos, &bo, &ana).await;
    created.push(bos);

    let (items, pages) = app.all_pages("/spaces", &ana.token, 2).await;
    assert_eq!(pages, 4, "7 spaces at 2 a page");
    assert_eq!(items[0]["personal"], true, "personal space first");
    let ids: Vec<&str> = items.iter().skip(1).map(|i| i["spaceId"].as_str().unwrap_or("")).collect();
    assert_eq!(ids, created.iter().map(String::as_str).collect::<Vec<_>>(), "then in joining order");
    assert_eq!(items.last().map(|i| i["role"].clone()), Some(json!("participant")));
}

#[tokio::test]
async fn given_a_cursor_when_it_is_tampered_or_reused_by_someone_else_then_it_is_refused() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    app.space(&ana, "One").await;
    app.space(&bo, "Bo's").await;
    let r = app.get("/spaces?limit=1", &ana.token).await;
    let cursor = r.body["nextCursor"].as_str().expect("a second page").to_owned();

    // Bo presents Ana's cursor: refused, not Ana's spaces.
    let stolen = app.get(&format!("/spaces?cursor={cursor}"), &bo.token).await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    assert_eq!(stolen.code(), "invalid_cursor");
    assert_eq!(
        stolen.body["detail"],
        "the cursor is malformed or belongs to another query: list again from the start, without cursor"
    );

    // Edited cursors are refused.
    let mut edited = cursor.clone();
    edited.insert(3, 'x');
    for bad in [edited.as_str(), "garbage", "eyJiIjoiIiwiayI6e319"] {
        let r = app.get(&format!("/spaces?cursor={bad}"), &ana.token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.code(), "invalid_cursor");
    }
    for bad in ["0", "101", "x", "-1"] {
        let r = app.get(&format!("/spaces?limit={bad}"), &ana.token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert_eq!(r.code(), "invalid_limit");
    }
}

#[tokio::test]
async fn given_a_host_when_patching_then_name_and_description_change() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let id = app.space(&ana, "Draft").await;
    let path = format!("/spaces/{id}");
    let r = app.call(Method::PATCH, &path, Some(&ana.token), Some(json!({ "name": "Final" }))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["name"], "Final");
    let r = app.call(Method::PATCH, &path, Some(&ana.token), Some(json!({ "description": "About it" }))).await;
    assert_eq!(r.body["name"], "Final");
    assert_eq!(r.body["description"], "About it");
    let r = app.call(Method::PATCH, &path, Some(&ana.token), Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "empty_patch");
}

#[tokio::test]
async fn given_a_space_with_members_when_the_host_deletes_it_then_nothing_of_it_remains() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let id = app.space(&ana, "Doomed").await;
    let mut participants = Vec::new();
    for n in 0..30 {
        let p = app.user(&format!("P{n}")).await;
        app.join(&id, &ana, &p).await;
        participants.push(p);
    }
    let r = app.delete_and_wait(&format!("/spaces/{id}"), &ana.token).await;
    assert_eq!(r.body, json!({ "spaceId": id, "status": "deleting" }));

    for who in [&ana, &participants[0]] {
        assert_eq!(app.get(&format!("/spaces/{id}"), &who.token).await.status, StatusCode::NOT_FOUND);
        let (items, _) = app.all_pages("/spaces", &who.token, 100).await;
        assert!(items.iter().all(|i| i["spaceId"] != id.as_str()), "the space is gone from every list");
    }
    let left = app.scan_all().await.into_iter().filter(|i| pk(i) == format!("SPACE#{id}")).count();
    assert_eq!(left, 0, "no membership or space item is left behind");
    // Deleting again is 404 (it is gone), not 500.
    let again = app.call(Method::DELETE, &format!("/spaces/{id}"), Some(&ana.token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_a_space_being_deleted_then_it_reads_as_gone_a_second_delete_is_202_and_a_replay_finishes_a_failed_worker()
 {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let (bo, cy, dee) = (app.user("Bo").await, app.user("Cy").await, app.user("Dee").await);
    let id = app.space(&ana, "Doomed").await;
    app.join(&id, &ana, &bo).await;
    app.join(&id, &ana, &dee).await;
    app.promote(&id, &ana, &dee).await;
    let video = app.uploaded_video(&id, &ana, vec![1u8; 256]).await;
    let path = format!("/spaces/{id}");
    // The worker's first step (removing the video's upload) fails on every attempt of every run.
    let faults = app.stack.faults();
    let rule = faults.add(FaultRule::s3("DeleteObject", Fault::ServerError).on(&app.stack.buckets.raw));

    // Who may start it: the host only, as before.
    assert_eq!(app.call(Method::DELETE, &path, None, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(Method::DELETE, &path, Some(&cy.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::DELETE, &path, Some(&bo.token), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.call(Method::DELETE, &path, Some(&dee.token), None).await.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::DELETE, &path, Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body, json!({ "spaceId": id, "status": "deleting" }));

    // From the 202 on it reads as gone, for every member, and takes no writes.
    for who in [&ana, &bo, &dee] {
        assert_eq!(app.get(&path, &who.token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("{path}/videos"), &who.token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/videos/{video}"), &who.token).await.status, StatusCode::NOT_FOUND);
        let (items, _) = app.all_pages("/spaces", &who.token, 100).await;
        assert!(items.iter().all(|i| i["spaceId"] != id.as_str()), "left out of the list");
    }
    let refused = [
        app.call(Method::PATCH, &path, Some(&ana.token), Some(json!({ "name": "Back" }))).await,
        app.post(&format!("{path}/members"), &ana.token, json!({ "email": cy.email() })).await,
        app.post(
            &format!("{path}/videos"),
            &ana.token,
            json!({ "title": "L", "fileName": "l.mp4", "contentType": "video/mp4", "sizeBytes": 10 }),
        )
        .await,
        app.call(
            Method::PUT,
            &format!("/videos/{video}/text-memo"),
            Some(&bo.token),
            Some(json!({ "stateJson": "x" })),
        )
        .await,
    ];
    for r in refused {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    }
    // Asked again while it runs: the same 202 (the worker started again); still not for others.
    let again = app.call(Method::DELETE, &path, Some(&ana.token), None).await;
    assert_eq!((again.status, &again.body), (StatusCode::ACCEPTED, &json!({ "spaceId": id, "status": "deleting" })));
    assert_eq!(app.call(Method::DELETE, &path, Some(&bo.token), None).await.status, StatusCode::FORBIDDEN);

    // Both runs fail every retry: not silently — each event waits in the failed-events queue.
    let counts = app.deletions_settled().await;
    assert_eq!((counts.exhausted, counts.failed_runs), (2, 6), "two events, three runs each: {counts:?}");
    assert!(faults.fired(rule) >= 6 * u64::from(SDK_MAX_ATTEMPTS));
    let records = app.failed_events().await;
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_eq!(record["requestPayload"], json!({ "kind": "space", "spaceId": id }));
        assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    }
    let scan = app.scan_all().await;
    let meta =
        scan.iter().find(|i| pk(i) == format!("SPACE#{id}") && i["SK"].as_s().ok().map(String::as_str) == Some("META"));
    assert!(meta.is_some_and(|m| m.contains_key("deleting")), "half-deleted, marked, still found");
    assert!(scan.iter().any(|i| pk(i) == format!("VIDEO#{video}")));

    // Healed, the replay finishes the job: nothing of the space is left (the second replay of the
    // same job finds nothing more to do).
    faults.clear();
    assert_eq!(app.replay_failed_events().await, 2);
    let settled = app.deletions_settled().await;
    assert_eq!(settled.exhausted, 2, "the replays did not fail");
    let scan = app.scan_all().await;
    assert!(scan.iter().all(|i| !pk(i).contains(id.as_str()) && !pk(i).contains(video.as_str())), "nothing left");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{video}")).await);
    assert_eq!(app.call(Method::DELETE, &path, Some(&ana.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/users/me", &ana.token).await.body["usage"]["hostedSpaces"]["used"], 0);
    assert_eq!(app.stack.denied_grants(), [], "the worker and the route stay within their grants");
}

/// Figures, not a timed assertion: the 202 of a space with `VIDEOS` videos (each with its upload
/// and outputs and a member's data) against the time its worker takes (what the synchronous
/// route used to take, and what outlived API Gateway's 30 s on a large space). Shown with
/// `--no-capture`.
#[tokio::test]
async fn a_space_of_many_videos_answers_202_at_once_and_its_worker_deletes_it_in_the_background() {
    const VIDEOS: usize = 20;
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let id = app.space(&ana, "Large").await;
    app.join(&id, &ana, &bo).await;
    let mut videos = Vec::new();
    for _ in 0..VIDEOS {
        let video = app.ready_video(&id, &ana).await;
        for key in ["hls/index.m3u8", "mp4/video.mp4", "thumbnails/thumb.0000000.jpg"] {
            app.put_object(&app.stack.buckets.media, &format!("media/{video}/{key}"), b"x".to_vec(), "text/plain")
                .await;
        }
        let r = app
            .call(
                Method::PUT,
                &format!("/videos/{video}/progress"),
                Some(&bo.token),
                Some(json!({ "progressRate": 50, "positionSeconds": 3.0 })),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        videos.push(video);
    }
    let started = std::time::Instant::now();
    let r = app.call(Method::DELETE, &format!("/spaces/{id}"), Some(&ana.token), None).await;
    let accepted = started.elapsed();
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let counts = app.deletions_settled().await;
    let done = started.elapsed();
    assert_eq!(counts.exhausted, 0);
    let scan = app.scan_all().await;
    assert!(videos.iter().all(|v| scan.iter().all(|i| !pk(i).contains(v.as_str()))), "every video is gone");
    assert!(app.list_keys(&app.stack.buckets.media, "media/").await.is_empty());
    eprintln!(
        "figures: DELETE /spaces/{{id}} with {VIDEOS} videos: 202 after {} ms; the deletion done after {} ms",
        accepted.as_millis(),
        done.as_millis()
    );
}

#[tokio::test]
async fn given_the_personal_space_when_deleting_it_then_it_is_refused_and_kept() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let id = ana.user.personal_space_id.to_string();
    let r = app.call(Method::DELETE, &format!("/spaces/{id}"), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "personal_space");
    assert_eq!(app.get(&format!("/spaces/{id}"), &ana.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn given_bad_input_when_creating_a_space_then_4xx_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let before = app.scan_all().await.len();
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("application/json", b"{\"name\": ".to_vec(), StatusCode::BAD_REQUEST, "malformed_json"),
        ("application/json", b"[1,2]".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        ("text/plain", br#"{"name":"x"}"#.to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("application/json", br#"{"name":""}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        ("application/json", br#"{"name":"   "}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (
            "application/json",
            format!(r#"{{"name":"{}"}}"#, "x".repeat(101)).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "application/json",
            format!(r#"{{"name":"x","description":"{}"}}"#, "d".repeat(2001)).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "application/json",
            br#"{"name":"x","hostId":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        ("application/json", br#"{"name":42}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        ("application/json", br#"{"name":"a\u0000b"}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (
            "application/json",
            format!(r#"{{"name":"x","description":"{}"}}"#, "d".repeat(70_000)).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (ct, body, status, code) in cases {
        let r = app.call_raw(Method::POST, "/spaces", Some(&ana.token), ct, body.clone()).await;
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&body[..body.len().min(60)]));
        assert_eq!(r.code(), code);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.body["status"], status.as_u16());
        assert!(r.body["type"].is_string() && r.body["title"].is_string() && r.body["detail"].is_string());
    }
    assert_eq!(app.scan_all().await.len(), before, "nothing half-written");
}

#[tokio::test]
async fn given_malformed_ids_when_addressing_a_space_then_400() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    for bad in ["nope", "01arz3ndektsv4rrffq69g5fav", "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "%F0%9F%98%80"] {
        let r = app.get(&format!("/spaces/{bad}"), &ana.token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.code(), "malformed_id");
    }
    // A well-formed id of nothing is simply not found.
    let r = app.get("/spaces/01ARZ3NDEKTSV4RRFFQ69G5FAV", &ana.token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_many_concurrent_creates_then_each_space_is_listed_exactly_once() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (http, base, token) = (app.http.clone(), app.base.clone(), ana.token.clone());
        tasks.spawn(async move {
            http.post(format!("{base}/spaces"))
                .bearer_auth(token)
                .json(&json!({ "name": format!("S{i}") }))
                .send()
                .await
        });
    }
    while let Some(res) = tasks.join_next().await {
        let resp = res.expect("task").expect("request");
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    app.indexes_settled().await;
    let (items, _) = app.all_pages("/spaces", &ana.token, 100).await;
    assert_eq!(items.len(), 21);
}
