//! A member's own notes on a video: bookmarks and snapshots, private to them, counted per video
//! and (snapshots) charged to their storage.

use serde_json::{Value, json};
use vivid_domain::video::{Video, VideoStatus};
use vivid_testkit::requests::Req;

use crate::App;

fn bookmark(video: &Video, token: Option<&str>, body: Value) -> Req {
    Req::post("/videos/{videoId}/bookmarks").param("videoId", &video.video_id).bearer(token).json(&body)
}

fn bookmarks(video: &Video, token: Option<&str>) -> Req {
    Req::get("/videos/{videoId}/bookmarks").param("videoId", &video.video_id).bearer(token)
}

#[tokio::test]
async fn members_keep_bookmarks_of_ready_videos_for_themselves_alone() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    let body = json!({ "videoSeconds": 12.25, "label": "The proof" });
    for (who, token) in class.callers() {
        let reply = app.send(&app.create_bookmark(), bookmark(&video, token, body.clone())).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            _ => (201, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let mine = app.send(&app.list_bookmarks(), bookmarks(&video, class.member.bearer())).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.header("cache-control"), "private, no-store");
    let items = mine.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "the host's bookmark is the host's: {mine:?}");
    assert_eq!((items[0]["label"].as_str(), items[0]["videoSeconds"].as_f64()), (Some("The proof"), Some(12.25)));
    let stranger = app.send(&app.list_bookmarks(), bookmarks(&video, class.stranger.bearer())).await;
    assert_eq!((stranger.status, stranger.code()), (404, "not_found"));
    let unready = app.video(&class, VideoStatus::Uploaded);
    let reply = app.send(&app.create_bookmark(), bookmark(&unready, class.member.bearer(), body.clone())).await;
    assert_eq!((reply.status, reply.code()), (409, "not_ready"));
    let member = class.member.bearer();
    for bad in [
        json!({ "videoSeconds": -1, "label": "x" }),
        json!({ "videoSeconds": 1 }),
        json!({ "videoSeconds": 1, "label": "x".repeat(201) }),
        json!({ "videoSeconds": 1, "label": "x", "colour": "red" }),
    ] {
        let reply = app.send(&app.create_bookmark(), bookmark(&video, member, bad.clone())).await;
        assert_eq!(reply.status, 422, "{bad}: {reply:?}");
    }
}

#[tokio::test]
async fn bookmarks_are_listed_oldest_first_counted_and_deleted_once() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    let member = class.member.bearer();
    let mut ids = Vec::new();
    for i in 0..app.quotas.bookmarks_per_video {
        let reply = app
            .send(
                &app.create_bookmark(),
                bookmark(&video, member, json!({ "videoSeconds": i, "label": format!("#{i}") })),
            )
            .await;
        assert_eq!(reply.status, 201);
        assert_eq!(
            reply.header("location"),
            format!("/videos/{}/bookmarks/{}", video.video_id, reply.body["bookmarkId"].as_str().unwrap_or_default())
        );
        ids.push(reply.body["bookmarkId"].as_str().expect("bookmarkId").to_owned());
    }
    let full = app
        .send(&app.create_bookmark(), bookmark(&video, member, json!({ "videoSeconds": 9, "label": "one more" })))
        .await;
    assert_eq!((full.status, full.code(), full.body["limit"].as_u64()), (409, "bookmark_quota_exceeded", Some(3)));
    let page = app.send(&app.list_bookmarks(), bookmarks(&video, member).query("limit", 2)).await;
    let cursor = page.body["nextCursor"].as_str().expect("a next page").to_owned();
    let rest = app.send(&app.list_bookmarks(), bookmarks(&video, member).query("cursor", &cursor)).await;
    // Oldest first: by id (a ULID, ordered by its millisecond; these three share one).
    let mut by_id = ids.clone();
    by_id.sort();
    assert_eq!([page.ids("bookmarkId"), rest.ids("bookmarkId")].concat(), by_id);
    let theirs = app.send(&app.list_bookmarks(), bookmarks(&video, class.host.bearer()).query("cursor", &cursor)).await;
    assert_eq!((theirs.status, theirs.code()), (400, "invalid_cursor"), "the member's cursor is theirs");
    let delete = |token: Option<&str>, id: &str| {
        Req::delete("/videos/{videoId}/bookmarks/{bookmarkId}")
            .param("videoId", &video.video_id)
            .param("bookmarkId", id)
            .bearer(token)
    };
    let host = app.send(&app.delete_bookmark(), delete(class.host.bearer(), &ids[0])).await;
    assert_eq!((host.status, host.code()), (404, "not_found"), "not the host's to delete");
    assert_eq!(app.send(&app.delete_bookmark(), delete(member, &ids[0])).await.status, 204);
    let again = app.send(&app.delete_bookmark(), delete(member, &ids[0])).await;
    assert_eq!((again.status, again.code()), (404, "not_found"));
    let freed = app
        .send(&app.create_bookmark(), bookmark(&video, member, json!({ "videoSeconds": 9, "label": "room again" })))
        .await;
    assert_eq!(freed.status, 201, "the deletion gave its place back");
}

fn snapshot(video: &Video, token: Option<&str>, size: u64) -> Req {
    Req::post("/videos/{videoId}/snapshots")
        .param("videoId", &video.video_id)
        .bearer(token)
        .json(&json!({ "videoSeconds": 3.5, "contentType": "image/png", "sizeBytes": size }))
}

#[tokio::test]
async fn snapshots_are_signed_for_upload_charged_to_storage_and_given_back_when_deleted() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    for (who, token) in class.callers() {
        let reply = app.send(&app.create_snapshot(), snapshot(&video, token, 100)).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            _ => (201, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let member = class.member.bearer();
    let reply = app.send(&app.create_snapshot(), snapshot(&video, member, 4000)).await;
    assert_eq!(reply.status, 201);
    let upload = &reply.body["upload"];
    assert_eq!(
        (upload["method"].as_str(), upload["headers"]["content-type"].as_str()),
        (Some("PUT"), Some("image/png"))
    );
    let id = reply.body["snapshotId"].as_str().expect("snapshotId").to_owned();
    assert_eq!(app.memory.storage_bytes(class.member.id()), 4100);
    let over = app.send(&app.create_snapshot(), snapshot(&video, member, 6000)).await;
    assert_eq!((over.status, over.code(), over.body["limit"].as_u64()), (409, "storage_quota_exceeded", Some(10_000)));
    let empty = app.send(&app.create_snapshot(), snapshot(&video, member, 0)).await;
    assert_eq!((empty.status, empty.code()), (422, "invalid_size"));
    let huge = app.send(&app.create_snapshot(), snapshot(&video, member, 6 * 1024 * 1024)).await;
    assert_eq!((huge.status, huge.code()), (413, "upload_too_large"));
    let list = Req::get("/videos/{videoId}/snapshots").param("videoId", &video.video_id).bearer(member);
    let reply = app.send(&app.list_snapshots(), list).await;
    assert_eq!(reply.ids("snapshotId").len(), 2, "the member's own two");
    assert!(reply.body["items"][0]["url"].as_str().is_some_and(|u| u.contains("X-Method=GET")));
    let delete = |token: Option<&str>| {
        Req::delete("/videos/{videoId}/snapshots/{snapshotId}")
            .param("videoId", &video.video_id)
            .param("snapshotId", &id)
            .bearer(token)
    };
    assert_eq!(app.send(&app.delete_snapshot(), delete(class.host.bearer())).await.status, 404, "the member's");
    assert_eq!(app.send(&app.delete_snapshot(), delete(member)).await.status, 204);
    assert_eq!(app.memory.storage_bytes(class.member.id()), 100, "its bytes given back");
    assert_eq!(app.send(&app.delete_snapshot(), delete(member)).await.status, 404);
    assert_eq!(app.send(&app.create_snapshot(), snapshot(&video, member, 6000)).await.status, 201, "room again");
    let full = app.send(&app.create_snapshot(), snapshot(&video, member, 1)).await;
    assert_eq!(full.status, 201, "three of the member's on the video");
    let more = app.send(&app.create_snapshot(), snapshot(&video, member, 1)).await;
    assert_eq!((more.status, more.code()), (409, "snapshot_quota_exceeded"));
}
