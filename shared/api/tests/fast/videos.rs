//! A space's videos: read with their grant, listed in the host's order, edited, deleted.

use serde_json::json;
use vivid_domain::{
    deletion::Deletion,
    search::SearchIndex,
    video::{Video, VideoStatus},
};
use vivid_testkit::{
    memory::{PLAYBACK_BASE, ready},
    requests::Req,
};

use crate::{App, Class};

fn get(video: &Video, token: Option<&str>) -> Req {
    Req::get("/videos/{videoId}").param("videoId", &video.video_id).bearer(token)
}

#[tokio::test]
async fn a_video_is_read_by_its_space_s_members_with_a_grant_once_ready() {
    let app = App::new();
    let class = app.class();
    let ready_video = app.video(&class, VideoStatus::Ready);
    for (who, token) in class.callers() {
        let reply = app.send(&app.get_video(), get(&ready_video, token)).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            _ => (200, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let reply = app.send(&app.get_video(), get(&ready_video, class.member.bearer())).await;
    assert_eq!((reply.body["status"].as_str(), reply.body["percentComplete"].as_u64()), (Some("READY"), Some(100)));
    assert_eq!(reply.header("cache-control"), "private, no-store");
    let playback = &reply.body["playback"];
    let hls = playback["hlsUrl"].as_str().expect("an HLS URL");
    assert!(hls.starts_with(&format!("{PLAYBACK_BASE}/media/{}/hls/index.m3u8?", ready_video.video_id)), "{hls}");
    assert_eq!(playback["thumbnails"]["count"].as_u64(), Some(12));
    assert!(reply.body["progress"].is_null(), "not started");
    let transcoding = app.video(&class, VideoStatus::Transcoding);
    let reply = app.send(&app.get_video(), get(&transcoding, class.member.bearer())).await;
    assert_eq!((reply.status, reply.body["status"].as_str()), (200, Some("TRANSCODING")));
    assert!(reply.body.get("playback").is_none(), "no grant before it is ready: {reply:?}");
    let renewal =
        Req::get("/videos/{videoId}/playback").param("videoId", &transcoding.video_id).bearer(class.member.bearer());
    let reply = app.send(&app.get_playback(), renewal).await;
    assert_eq!((reply.status, reply.code()), (409, "not_ready"));
    let renewal =
        Req::get("/videos/{videoId}/playback").param("videoId", &ready_video.video_id).bearer(class.member.bearer());
    let reply = app.send(&app.get_playback(), renewal).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.get("thumbnails").is_none(), "thumbnails stay with the video's details");
    assert!(reply.header("set-cookie").contains("Domain=vivid.test"), "{reply:?}");
    let malformed = Req::get("/videos/{videoId}").param("videoId", "x").bearer(class.host.bearer());
    assert_eq!(app.send(&app.get_video(), malformed).await.code(), "malformed_id");
}

#[tokio::test]
async fn a_failed_video_tells_why_with_its_stable_code() {
    let app = App::new();
    let class = app.class();
    let failed = app.video(&class, VideoStatus::Failed);
    let reply = app.send(&app.get_video(), get(&failed, class.host.bearer())).await;
    assert_eq!(
        (reply.body["status"].as_str(), reply.body["failureCode"].as_str()),
        (Some("FAILED"), Some("transcode_failed"))
    );
    assert!(reply.body["failureReason"].as_str().is_some_and(|r| !r.is_empty()));
}

fn list(class: &Class, token: Option<&str>) -> Req {
    Req::get("/spaces/{spaceId}/videos").param("spaceId", &class.space.space_id).bearer(token)
}

#[tokio::test]
async fn videos_are_listed_newest_first_then_in_the_host_s_order_and_only_for_members() {
    let app = App::new();
    let class = app.class();
    let first = app.video(&class, VideoStatus::Ready);
    let second = app.video(&class, VideoStatus::Uploading);
    let third = app.video(&class, VideoStatus::Ready);
    let stranger = app.send(&app.list_videos(), list(&class, class.stranger.bearer())).await;
    assert_eq!((stranger.status, stranger.code()), (404, "not_found"));
    let reply = app.send(&app.list_videos(), list(&class, class.member.bearer())).await;
    // Newest first: by creation time, then id (these may share a millisecond).
    let mut newest_first = [&first, &second, &third].map(|v| (v.created_at.clone(), v.video_id.to_string()));
    newest_first.sort();
    newest_first.reverse();
    let newest_first = newest_first.map(|(_, id)| id);
    assert_eq!(reply.ids("videoId"), newest_first);
    let order = |token: Option<&str>, ids: serde_json::Value| {
        Req::put("/spaces/{spaceId}/videos/order")
            .param("spaceId", &class.space.space_id)
            .bearer(token)
            .json(&json!({ "videoIds": ids }))
    };
    let participant = app.send(&app.order_videos(), order(class.member.bearer(), json!([first.video_id]))).await;
    assert_eq!((participant.status, participant.code()), (403, "managers_only"));
    let reply =
        app.send(&app.order_videos(), order(class.cohost.bearer(), json!([first.video_id, third.video_id]))).await;
    let placed = [first.video_id.to_string(), third.video_id.to_string(), second.video_id.to_string()];
    assert_eq!((reply.status, reply.body["videoIds"].clone()), (200, json!(placed)));
    let reply = app.send(&app.list_videos(), list(&class, class.member.bearer())).await;
    assert_eq!(reply.ids("videoId"), placed, "members see the host's order");
    let positions: Vec<_> =
        reply.body["items"].as_array().into_iter().flatten().map(|v| v["position"].as_u64()).collect();
    assert_eq!(positions, [Some(0), Some(1), None]);
    let twice =
        app.send(&app.order_videos(), order(class.host.bearer(), json!([first.video_id, first.video_id]))).await;
    assert_eq!((twice.status, twice.code()), (422, "invalid_order"));
    let elsewhere = app.memory.shared_space(class.host.id(), "Elsewhere");
    let foreign = app.memory.add_video(
        &vivid_testkit::memory::uploading(
            vivid_domain::types::VideoId::generate(),
            &elsewhere.space_id,
            class.host.id(),
            5,
        ),
        VideoStatus::Ready,
    );
    let unknown = app.send(&app.order_videos(), order(class.host.bearer(), json!([foreign.video_id]))).await;
    assert_eq!((unknown.status, unknown.code()), (409, "unknown_video"));
    let page = app.send(&app.list_videos(), list(&class, class.member.bearer()).query("limit", 2)).await;
    let cursor = page.body["nextCursor"].as_str().expect("a next page").to_owned();
    let rest = app.send(&app.list_videos(), list(&class, class.member.bearer()).query("cursor", &cursor)).await;
    assert_eq!([page.ids("videoId"), rest.ids("videoId")].concat(), placed);
}

#[tokio::test]
async fn managers_edit_a_video_s_words_and_chapters_and_the_search_follows() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    let patch = |token: Option<&str>, body: serde_json::Value| {
        Req::patch("/videos/{videoId}").param("videoId", &video.video_id).bearer(token).json(&body)
    };
    let body = json!({ "title": "Eigenvalues", "chapters": [{ "startSeconds": 0, "title": "Intro" }, { "startSeconds": 30, "title": "Matrices" }] });
    for (who, token) in class.callers() {
        let reply = app.send(&app.update_video(), patch(token, body.clone())).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            "participant" => (403, "managers_only"),
            _ => (200, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let reply = app.send(&app.get_video(), get(&video, class.member.bearer())).await;
    assert_eq!(reply.body["title"].as_str(), Some("Eigenvalues"));
    assert_eq!(reply.body["chapters"].as_array().map(Vec::len), Some(2));
    assert!(reply.body["chaptersVtt"].as_str().is_some_and(|v| v.contains("00:00:30.000 --> 00:01:00.000\nMatrices")));
    let found = ready(app.memory.postings(&class.space.space_id, "eigenvalues")).expect("postings");
    assert_eq!(found.iter().map(|p| &p.video_id).collect::<Vec<_>>(), [&video.video_id]);
    let host = class.host.bearer();
    for (body, code) in [
        (json!({}), "empty_patch"),
        (json!({ "chapters": [{ "startSeconds": 60, "title": "After the end" }] }), "invalid_chapters"),
        (
            json!({ "chapters": [{ "startSeconds": 5, "title": "A" }, { "startSeconds": 5, "title": "B" }] }),
            "invalid_chapters",
        ),
        (json!({ "title": "" }), "invalid_body"),
    ] {
        let reply = app.send(&app.update_video(), patch(host, body.clone())).await;
        assert_eq!((reply.status, reply.code()), (422, code), "{body}");
    }
}

#[tokio::test]
async fn a_deleted_video_is_gone_at_once_for_every_reader_and_its_place_freed() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    let delete = |token: Option<&str>| Req::delete("/videos/{videoId}").param("videoId", &video.video_id).bearer(token);
    let participant = app.send(&app.delete_video(), delete(class.member.bearer())).await;
    assert_eq!((participant.status, participant.code()), (403, "managers_only"));
    let stranger = app.send(&app.delete_video(), delete(class.stranger.bearer())).await;
    assert_eq!((stranger.status, stranger.code()), (404, "not_found"));
    let reply = app.send(&app.delete_video(), delete(class.cohost.bearer())).await;
    assert_eq!((reply.status, reply.body.clone()), (202, json!({ "videoId": video.video_id, "status": "deleting" })));
    assert_eq!(app.memory.deletions(), [Deletion::Video { video_id: video.video_id.clone() }]);
    let read = app.send(&app.get_video(), get(&video, class.host.bearer())).await;
    assert_eq!((read.status, read.code()), (404, "not_found"));
    let listed = app.send(&app.list_videos(), list(&class, class.host.bearer())).await;
    assert!(listed.ids("videoId").is_empty(), "{listed:?}");
    let space = app
        .send(
            &app.get_space(),
            Req::get("/spaces/{spaceId}").param("spaceId", &class.space.space_id).bearer(class.host.bearer()),
        )
        .await;
    assert_eq!(space.body["videoCount"].as_u64(), Some(0));
    let again = app.send(&app.delete_video(), delete(class.host.bearer())).await;
    assert_eq!(again.status, 202, "asked again while the worker runs: the same answer");
    let bookmark = Req::post("/videos/{videoId}/bookmarks")
        .param("videoId", &video.video_id)
        .bearer(class.member.bearer())
        .json(&json!({ "videoSeconds": 1, "label": "gone" }));
    assert_eq!(app.send(&app.create_bookmark(), bookmark).await.status, 404, "no writes to it either");
}
