//! Study notes (SPEC §5): the text memo's cheap save, optimistic versions and checkpoint history;
//! drawings as pages and overlays, large ones in S3; privacy.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser, pk};

struct Setup {
    app: TestApp,
    host: TestUser,
    ana: TestUser,
    bo: TestUser,
    video: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &ana).await;
    app.join(&space, &host, &bo).await;
    let video = app.ready_video(&space, &host).await;
    Setup { app, host, ana, bo, video }
}

async fn put_memo(
    app: &TestApp,
    who: &TestUser,
    video: &str,
    state: &str,
    if_match: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = app
        .http
        .put(format!("{}/videos/{video}/text-memo", app.base))
        .bearer_auth(&who.token)
        .json(&json!({ "stateJson": state, "videoTime": 12.5 }));
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    let resp = req.send().await.expect("put");
    let status = resp.status();
    let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, resp.json().await.unwrap_or(Value::Null), etag)
}

#[tokio::test]
async fn given_a_memo_when_saving_and_reading_then_the_latest_state_and_version_come_back() {
    let s = setup().await;
    let empty = s.app.get(&format!("/videos/{}/text-memo", s.video), &s.ana.token).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body["stateJson"].is_null());
    assert_eq!(empty.body["version"], 0);

    let (status, body, etag) = put_memo(&s.app, &s.ana, &s.video, "{\"ops\":[\"v1\"]}", None).await;
    assert_eq!(status, StatusCode::CREATED, "the first save creates the memo: {body}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    let (_, body, etag) = put_memo(&s.app, &s.ana, &s.video, "<p>v2</p>", None).await;
    assert_eq!(body["version"], 2);
    assert_eq!(etag.as_deref(), Some("\"2\""));
    let got = s.app.get(&format!("/videos/{}/text-memo", s.video), &s.ana.token).await;
    assert_eq!(got.body["stateJson"], "<p>v2</p>");
    assert_eq!(got.body["videoTime"], 12.5);
    assert_eq!(got.header("etag"), Some("\"2\""));
}

#[tokio::test]
async fn given_a_stale_if_match_then_412_and_nothing_is_written() {
    let s = setup().await;
    put_memo(&s.app, &s.ana, &s.video, "one", None).await;
    let (status, _, etag) = put_memo(&s.app, &s.ana, &s.video, "two", Some("\"1\"")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(etag.as_deref(), Some("\"2\""));
    let (status, body, _) = put_memo(&s.app, &s.ana, &s.video, "stale", Some("\"1\"")).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(body["code"], "precondition_failed");
    // What to do: read it again, apply the change, save with its ETag.
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        ["GET /videos/{videoId}/text-memo", "apply the change", "ETag in If-Match"].iter().all(|w| detail.contains(w)),
        "{detail}"
    );
    let got = s.app.get(&format!("/videos/{}/text-memo", s.video), &s.ana.token).await;
    assert_eq!(got.body["stateJson"], "two");
    assert_eq!(got.body["version"], 2);
    let (status, _, _) = put_memo(&s.app, &s.ana, &s.video, "x", Some("not-a-version")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // If-Match on a memo that does not exist yet is stale too.
    let (status, _, _) = put_memo(&s.app, &s.bo, &s.video, "x", Some("\"3\"")).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
}

async fn put_with(s: &Setup, header: &str, value: &str, state: &str) -> (StatusCode, Option<String>) {
    let resp = s
        .app
        .http
        .put(format!("{}/videos/{}/text-memo", s.app.base, s.video))
        .bearer_auth(&s.ana.token)
        .header(header, value)
        .json(&json!({ "stateJson": state }))
        .send()
        .await
        .expect("put");
    let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (resp.status(), etag)
}

#[tokio::test]
async fn given_the_empty_memos_etag_then_the_first_conditional_save_creates_it_once() {
    let s = setup().await;
    let empty = s.app.get(&format!("/videos/{}/text-memo", s.video), &s.ana.token).await;
    let etag = empty.header("etag").expect("the empty memo has an ETag").to_owned();
    assert_eq!(etag, "\"0\"");
    // If-Match: * needs an existing memo.
    assert_eq!(put_with(&s, "if-match", "*", "x").await.0, StatusCode::PRECONDITION_FAILED);
    // The obvious client: read, then save conditionally with the ETag it read.
    assert_eq!(put_with(&s, "if-match", &etag, "first").await, (StatusCode::CREATED, Some("\"1\"".to_owned())));
    // A second tab that read the empty memo too loses.
    assert_eq!(put_with(&s, "if-match", &etag, "second").await.0, StatusCode::PRECONDITION_FAILED);
    assert_eq!(put_with(&s, "if-none-match", "*", "again").await.0, StatusCode::PRECONDITION_FAILED);
    assert_eq!(put_with(&s, "if-match", "*", "any").await, (StatusCode::OK, Some("\"2\"".to_owned())));
    // If-Match compares strongly: a weak tag never matches.
    assert_eq!(put_with(&s, "if-match", "W/\"2\"", "weak").await.0, StatusCode::PRECONDITION_FAILED);
    assert_eq!(put_with(&s, "if-match", "\"1\", \"2\"", "list").await.0, StatusCode::BAD_REQUEST);
    let got = s.app.get(&format!("/videos/{}/text-memo", s.video), &s.ana.token).await;
    assert_eq!((got.body["stateJson"].as_str(), got.body["version"].as_u64()), (Some("any"), Some(2)));
    // If-None-Match: * creates only when absent: Bo has no memo yet.
    let resp = s
        .app
        .http
        .put(format!("{}/videos/{}/text-memo", s.app.base, s.video))
        .bearer_auth(&s.bo.token)
        .header("if-none-match", "*")
        .json(&json!({ "stateJson": "bo" }))
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn given_50_concurrent_saves_of_one_version_then_exactly_one_wins() {
    let s = setup().await;
    put_memo(&s.app, &s.ana, &s.video, "base", None).await;
    let saves = (0..50)
        .map(|i| put_memo(&s.app, &s.ana, &s.video, Box::leak(format!("writer {i}").into_boxed_str()), Some("\"1\"")));
    let results = futures::future::join_all(saves).await;
    let winners: Vec<&Value> = results.iter().filter(|(st, _, _)| *st == StatusCode::OK).map(|(_, b, _)| b).collect();
    let stale = results.iter().filter(|(st, _, _)| *st == StatusCode::PRECONDITION_FAILED).count();
    assert_eq!((winners.len(), stale), (1, 49));
    let got = s.app.get(&format!("/videos/{}/text-memo", s.video), &s.ana.token).await;
    assert_eq!(got.body["version"], 2);
    assert_eq!(got.body["stateJson"], winners[0]["stateJson"], "the winner's state is the one kept");
}

#[tokio::test]
async fn given_checkpoints_then_history_is_newest_first_across_pages_and_unchanged_states_are_not_repeated() {
    let s = setup().await;
    let history = format!("/videos/{}/text-memo/history", s.video);
    let r = s.app.post(&history, &s.ana.token, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "nothing to checkpoint yet");
    for i in 1..=5 {
        put_memo(&s.app, &s.ana, &s.video, &format!("state {i}"), None).await;
        let r = s.app.call(Method::POST, &history, Some(&s.ana.token), None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["version"], i);
    }
    let again = s.app.call(Method::POST, &history, Some(&s.ana.token), None).await;
    assert_eq!(again.status, StatusCode::OK, "an unchanged state is not checkpointed twice");
    assert_eq!(again.body["version"], 5);
    let (items, pages) = s.app.all_pages(&history, &s.ana.token, 2).await;
    assert_eq!(pages, 3);
    let versions: Vec<i64> = items.iter().filter_map(|c| c["version"].as_i64()).collect();
    assert_eq!(versions, vec![5, 4, 3, 2, 1]);
    assert_eq!(items[0]["stateJson"], "state 5");
    // Bo's history is his own (empty), and a cursor of Ana's is refused to him.
    let bo = s.app.get(&history, &s.bo.token).await;
    assert_eq!(bo.body["items"].as_array().map(Vec::len), Some(0));
    let first = s.app.get(&format!("{history}?limit=2"), &s.ana.token).await;
    let cursor = first.body["nextCursor"].as_str().expect("cursor");
    let stolen = s.app.get(&format!("{history}?cursor={cursor}"), &s.bo.token).await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn given_notes_then_other_members_and_the_host_cannot_reach_them() {
    let s = setup().await;
    put_memo(&s.app, &s.ana, &s.video, "private", None).await;
    let drawing = format!("/videos/{}/drawings/d1", s.video);
    let r = s
        .app
        .call(
            Method::PUT,
            &drawing,
            Some(&s.ana.token),
            Some(json!({ "kind": "page", "document": { "secret": true } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for other in [&s.host, &s.bo] {
        let memo = s.app.get(&format!("/videos/{}/text-memo", s.video), &other.token).await;
        assert!(memo.body["stateJson"].is_null(), "each member reads only their own memo");
        assert_eq!(s.app.get(&drawing, &other.token).await.status, StatusCode::NOT_FOUND);
        let list = s.app.get(&format!("/videos/{}/drawings", s.video), &other.token).await;
        assert_eq!(list.body["items"].as_array().map(Vec::len), Some(0));
        assert_eq!(s.app.call(Method::DELETE, &drawing, Some(&other.token), None).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(s.app.get(&drawing, &s.ana.token).await.body["document"], json!({ "secret": true }));
}

#[tokio::test]
async fn given_drawings_then_overlays_need_a_window_and_bad_input_is_refused() {
    let s = setup().await;
    let path = |id: &str| format!("/videos/{}/drawings/{id}", s.video);
    let put = |id: String, body: Value| {
        let app = &s.app;
        let token = s.ana.token.clone();
        async move { app.call(Method::PUT, &id, Some(&token), Some(body)).await }
    };
    let ok =
        put(path("o1"), json!({ "kind": "overlay", "startSeconds": 3, "endSeconds": 7.5, "document": { "a": 1 } }))
            .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
    assert_eq!(ok.body["startSeconds"], 3.0);
    let replaced =
        put(path("o1"), json!({ "kind": "overlay", "startSeconds": 4, "endSeconds": 8, "document": { "a": 2 } })).await;
    assert_eq!(replaced.status, StatusCode::OK);
    for bad in [
        json!({ "kind": "overlay", "startSeconds": 5, "endSeconds": 5, "document": {} }),
        json!({ "kind": "overlay", "startSeconds": -1, "endSeconds": 5, "document": {} }),
        json!({ "kind": "overlay", "document": {} }),
        json!({ "kind": "page", "startSeconds": 1, "endSeconds": 2, "document": {} }),
        json!({ "kind": "circle", "document": {} }),
        json!({ "kind": "page" }),
    ] {
        let r = put(path("bad"), bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let r = put(path("bad%2Fid"), json!({ "kind": "page", "document": {} })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let list = s.app.get(&format!("/videos/{}/drawings", s.video), &s.ana.token).await;
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "nothing half-written");
    assert!(items[0].get("document").is_none(), "lists carry no documents");
    let too_big = "x".repeat(300 * 1024);
    let r = s
        .app
        .call(
            Method::PUT,
            &format!("/videos/{}/text-memo", s.video),
            Some(&s.ana.token),
            Some(json!({ "stateJson": too_big })),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn given_a_2mb_drawing_then_it_round_trips_through_s3_and_goes_with_its_video() {
    let s = setup().await;
    let points: Vec<Value> = (0..170_000).map(|i| json!([i, (i * 7) % 1000])).collect();
    let document = json!({ "version": "5.3.0", "objects": [{ "type": "path", "path": points }] });
    let text = serde_json::to_string(&document).expect("json");
    assert!(text.len() > 2_000_000, "{}", text.len());
    let path = format!("/videos/{}/drawings/big", s.video);
    let r = s.app.call(Method::PUT, &path, Some(&s.ana.token), Some(document.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the document goes inside the body");
    let body = format!(r#"{{"kind":"page","document":{text}}}"#);
    let r = s.app.call_raw(Method::PUT, &path, Some(&s.ana.token), "application/json", body.into_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["sizeBytes"], text.len());
    let keys = s.app.list_keys(&s.app.stack.buckets.user, &format!("drawings/{}/", s.video)).await;
    assert_eq!(keys.len(), 1, "kept in S3, not in the table");
    let raw = s.app.http.get(format!("{}{path}", s.app.base)).bearer_auth(&s.ana.token).send().await.expect("get");
    let got: Value = raw.json().await.expect("json");
    assert_eq!(serde_json::to_string(&got["document"]).expect("json"), text, "byte for byte");

    s.app.delete_and_wait(&format!("/videos/{}", s.video), &s.host.token).await;
    assert!(s.app.list_keys(&s.app.stack.buckets.user, &format!("drawings/{}/", s.video)).await.is_empty());
    assert!(s.app.scan_all().await.iter().all(|i| pk(i) != format!("VIDEO#{}", s.video)));
}

#[tokio::test]
async fn given_a_removed_member_then_their_notes_and_drawings_are_gone() {
    let s = setup().await;
    put_memo(&s.app, &s.ana, &s.video, "mine", None).await;
    s.app.call(Method::POST, &format!("/videos/{}/text-memo/history", s.video), Some(&s.ana.token), None).await;
    let big = format!(r#"{{"kind":"page","document":"{}"}}"#, "y".repeat(100 * 1024));
    let r = s
        .app
        .call_raw(
            Method::PUT,
            &format!("/videos/{}/drawings/big", s.video),
            Some(&s.ana.token),
            "application/json",
            big.into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let space = s.app.get(&format!("/videos/{}", s.video), &s.host.token).await.body["spaceId"]
        .as_str()
        .expect("space")
        .to_owned();
    let r =
        s.app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", s.ana.id()), Some(&s.host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    s.app.deletions_settled().await;
    let scan = s.app.scan_all().await;
    let left = scan
        .iter()
        .filter(|i| i.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.contains(&s.ana.id())))
        .filter(|i| pk(i).starts_with("VIDEO#"))
        .count();
    assert_eq!(left, 0, "memo, history and drawings of the removed member are gone");
    assert!(
        s.app.list_keys(&s.app.stack.buckets.user, &format!("drawings/{}/{}/", s.video, s.ana.id())).await.is_empty()
    );
}
