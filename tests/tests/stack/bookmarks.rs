//! Bookmarks (issue 15): a member's named moments of a video — created, listed oldest first
//! across pages, deleted; private to their author (other members and the host see none of them);
//! bounded per member and video; gone with the member and with the video.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser};

struct Class {
    app: TestApp,
    host: TestUser,
    ana: TestUser,
    bo: TestUser,
    space: String,
    video: String,
}

async fn class_with(app: TestApp) -> Class {
    let host = app.user("Host").await;
    let (ana, bo) = (app.user("Ana").await, app.user("Bo").await);
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &ana).await;
    app.join(&space, &host, &bo).await;
    let video = app.ready_video(&space, &host).await;
    Class { app, host, ana, bo, space, video }
}

impl Class {
    fn path(&self) -> String {
        format!("/videos/{}/bookmarks", self.video)
    }

    async fn add(&self, who: &TestUser, seconds: f64, label: &str) -> vivid_tests::Reply {
        self.app.post(&self.path(), &who.token, json!({ "videoSeconds": seconds, "label": label })).await
    }

    async fn list(&self, who: &TestUser) -> Vec<Value> {
        let r = self.app.get(&self.path(), &who.token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r.body["items"].as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn given_bookmarks_then_their_author_lists_pages_and_deletes_them() {
    let c = class_with(TestApp::spawn().await).await;
    let made = c.add(&c.ana, 754.2004, "  The proof of the lemma ").await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let id = made.body["bookmarkId"].as_str().expect("bookmarkId").to_owned();
    assert_eq!(made.body["videoSeconds"], 754.2, "kept to the millisecond");
    assert_eq!(made.body["label"], "The proof of the lemma", "trimmed");
    assert_eq!(made.headers.get("location").and_then(|v| v.to_str().ok()), Some(format!("{}/{id}", c.path()).as_str()));
    for i in 0..4 {
        assert_eq!(c.add(&c.ana, f64::from(i), &format!("Mark {i}")).await.status, StatusCode::CREATED);
    }
    // Pages of two, oldest first, every bookmark once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let r = c.app.get(&format!("{}?limit=2{query}", c.path()), &c.ana.token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        seen.extend(
            r.body["items"].as_array().into_iter().flatten().filter_map(|b| b["label"].as_str()).map(str::to_owned),
        );
        cursor = r.body["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["The proof of the lemma", "Mark 0", "Mark 1", "Mark 2", "Mark 3"]);
    let delete = |id: String| {
        let app = &c.app;
        let (path, token) = (format!("{}/{id}", c.path()), c.ana.token.clone());
        async move { app.call(Method::DELETE, &path, Some(&token), None).await.status }
    };
    assert_eq!(delete(id.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(delete(id).await, StatusCode::NOT_FOUND, "gone");
    assert_eq!(c.list(&c.ana).await.len(), 4);
}

#[tokio::test]
async fn given_a_members_bookmarks_then_nobody_else_sees_or_deletes_them() {
    let c = class_with(TestApp::spawn().await).await;
    let made = c.add(&c.ana, 10.0, "Mine").await;
    let id = made.body["bookmarkId"].as_str().expect("bookmarkId").to_owned();
    assert!(c.list(&c.bo).await.is_empty(), "another member sees none");
    assert!(c.list(&c.host).await.is_empty(), "the host sees none");
    for who in [&c.bo, &c.host] {
        let r = c.app.call(Method::DELETE, &format!("{}/{id}", c.path()), Some(&who.token), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    }
    let stranger = c.app.user("Stranger").await;
    assert_eq!(c.add(&stranger, 1.0, "Sneaky").await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.app.get(&c.path(), &stranger.token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.app.call(Method::GET, &c.path(), None, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(c.list(&c.ana).await.len(), 1, "still there");
}

#[tokio::test]
async fn given_bad_input_then_4xx_and_nothing_is_written() {
    let c = class_with(TestApp::spawn().await).await;
    let long = "x".repeat(201);
    for body in [
        json!({ "videoSeconds": 1.0, "label": "" }),
        json!({ "videoSeconds": 1.0, "label": "   " }),
        json!({ "videoSeconds": 1.0, "label": long }),
        json!({ "videoSeconds": 1.0, "label": "a\u{202E}b" }),
        json!({ "videoSeconds": -1.0, "label": "Neg" }),
        json!({ "videoSeconds": 86400.5, "label": "Late" }),
        json!({ "videoSeconds": 5e-324, "label": "Tiny" }),
        json!({ "videoSeconds": 1.0 }),
        json!({ "label": "No time" }),
        json!({ "videoSeconds": 1.0, "label": "Extra", "color": "red" }),
        json!([]),
    ] {
        let r = c.app.post(&c.path(), &c.ana.token, body.clone()).await;
        assert!(matches!(r.status.as_u16(), 400 | 422), "{body}: {} {:?}", r.status, r.body);
    }
    let r = c.app.call(Method::DELETE, &format!("{}/not-an-id", c.path()), Some(&c.ana.token), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(c.list(&c.ana).await.is_empty());
}

#[tokio::test]
async fn given_the_quota_then_the_next_bookmark_is_refused_and_a_deletion_frees_a_place() {
    let app = TestApp::spawn_configured(|cfg| {
        cfg.parameters.insert("MaxBookmarksPerVideo".into(), "2".into());
    })
    .await;
    let c = class_with(app).await;
    let first = c.add(&c.ana, 1.0, "One").await;
    assert_eq!(c.add(&c.ana, 2.0, "Two").await.status, StatusCode::CREATED);
    let r = c.add(&c.ana, 3.0, "Three").await;
    assert_eq!(
        (r.status, r.code(), r.body["limit"].as_u64()),
        (StatusCode::CONFLICT, "bookmark_quota_exceeded", Some(2))
    );
    assert_eq!(r.body["detail"], "you have 2 bookmarks in this video, the most allowed: delete one first");
    assert_eq!(c.add(&c.bo, 3.0, "Bo's own count").await.status, StatusCode::CREATED);
    let id = first.body["bookmarkId"].as_str().expect("bookmarkId");
    let gone = c.app.call(Method::DELETE, &format!("{}/{id}", c.path()), Some(&c.ana.token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(c.add(&c.ana, 3.0, "Three").await.status, StatusCode::CREATED);
    assert_eq!(c.app.get("/users/me", &c.ana.token).await.body["usage"]["bookmarksPerVideo"], 2);
}

#[tokio::test]
async fn given_a_removed_member_or_a_deleted_video_then_their_bookmarks_are_gone() {
    let c = class_with(TestApp::spawn().await).await;
    c.add(&c.ana, 1.0, "Ana's").await;
    c.add(&c.bo, 2.0, "Bo's").await;
    let removed = c
        .app
        .call(Method::DELETE, &format!("/spaces/{}/members/{}", c.space, c.ana.id()), Some(&c.host.token), None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    c.app.deletions_settled().await;
    let left = c.app.scan_all().await;
    let bookmarks = |owner: &str| {
        left.iter()
            .filter(|i| {
                i.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with(&format!("BOOKMARK#{owner}")))
            })
            .count()
    };
    assert_eq!((bookmarks(&c.ana.id()), bookmarks(&c.bo.id())), (0, 1), "the removed member's went with them");
    c.app.delete_and_wait(&format!("/videos/{}", c.video), &c.host.token).await;
    let left = c.app.scan_all().await;
    assert!(
        !left.iter().any(|i| i.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with("BOOKMARK#")))
    );
}
