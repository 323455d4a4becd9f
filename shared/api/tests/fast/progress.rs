//! Progress: a member's own write (`PUT /videos/{videoId}/progress`), and the class's as the
//! managers read it (`GET /videos/{videoId}/progress`, `GET /spaces/{spaceId}/progress`).

use serde_json::{Value, json};
use vivid_domain::video::{Video, VideoStatus};
use vivid_testkit::requests::Req;

use crate::{App, Class};

fn put(video: &Video, token: Option<&str>, rate: Value, position: Value) -> Req {
    Req::put("/videos/{videoId}/progress")
        .param("videoId", &video.video_id)
        .bearer(token)
        .json(&json!({ "progressRate": rate, "positionSeconds": position }))
}

#[tokio::test]
async fn members_write_their_progress_on_ready_videos_and_nobody_else_may() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    for (who, token) in class.callers() {
        let reply = app.send(&app.put_progress(), put(&video, token, json!(40), json!(12.5))).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            _ => (204, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let read = Req::get("/videos/{videoId}").param("videoId", &video.video_id).bearer(class.member.bearer());
    let reply = app.send(&app.get_video(), read).await;
    assert_eq!(reply.body["progress"]["progressRate"].as_u64(), Some(40));
    assert_eq!(reply.body["progress"]["positionSeconds"].as_f64(), Some(12.5));
    let unready = app.video(&class, VideoStatus::Transcoding);
    let reply = app.send(&app.put_progress(), put(&unready, class.member.bearer(), json!(1), json!(1))).await;
    assert_eq!((reply.status, reply.code()), (409, "not_ready"));
    let member = class.member.bearer();
    for (rate, position, status, code) in [
        (json!(101), json!(1), 422, "invalid_progress"),
        (json!(50), json!(-1), 422, "invalid_seconds"),
        (json!(50.5), json!(1), 422, "invalid_body"),
        (json!("50"), json!(1), 422, "invalid_body"),
    ] {
        let reply = app.send(&app.put_progress(), put(&video, member, rate.clone(), position)).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{rate}");
    }
}

#[tokio::test]
async fn a_rate_of_100_is_the_client_s_claim_and_completes_nothing() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    let member = class.member.bearer();
    assert_eq!(app.send(&app.put_progress(), put(&video, member, json!(100), json!(60))).await.status, 204);
    let read = Req::get("/videos/{videoId}").param("videoId", &video.video_id).bearer(member);
    let progress = app.send(&app.get_video(), read).await.body["progress"].clone();
    assert_eq!(progress["progressRate"].as_u64(), Some(100));
    assert!(progress.get("completedAt").is_none(), "completion is watched coverage: {progress}");
}

fn video_progress(video: &Video, token: Option<&str>) -> Req {
    Req::get("/videos/{videoId}/progress").param("videoId", &video.video_id).bearer(token)
}

fn class_progress(class: &Class, token: Option<&str>) -> Req {
    Req::get("/spaces/{spaceId}/progress").param("spaceId", &class.space.space_id).bearer(token)
}

#[tokio::test]
async fn managers_see_each_member_s_progress_and_the_class_s_standing() {
    let app = App::new();
    let class = app.class();
    let first = app.video(&class, VideoStatus::Ready);
    let _second = app.video(&class, VideoStatus::Ready);
    assert_eq!(
        app.send(&app.put_progress(), put(&first, class.member.bearer(), json!(100), json!(60))).await.status,
        204
    );
    for (who, token) in class.callers() {
        let reply = app.send(&app.video_progress(), video_progress(&first, token)).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            "participant" => (403, "managers_only"),
            _ => (200, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let reply = app.send(&app.video_progress(), video_progress(&first, class.cohost.bearer())).await;
    let rows = reply.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 3, "every member, started or not");
    let rate_of = |p: &crate::Person| {
        rows.iter().find(|r| r["userId"] == p.id().as_str()).and_then(|r| r["progressRate"].as_u64())
    };
    assert_eq!((rate_of(&class.member), rate_of(&class.host)), (Some(100), Some(0)));
    let reply = app.send(&app.class_progress(), class_progress(&class, class.host.bearer())).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let rows = reply.body["items"].as_array().cloned().unwrap_or_default();
    let member = rows.iter().find(|r| r["userId"] == class.member.id().as_str()).expect("the participant");
    // The rate moves the progress the class view shows; completion is watched coverage only.
    assert_eq!((member["videosCompleted"].as_u64(), member["videoCount"].as_u64()), (Some(0), Some(2)));
    assert_eq!(member["percent"].as_f64(), Some(50.0));
    let participant = app.send(&app.class_progress(), class_progress(&class, class.member.bearer())).await;
    assert_eq!((participant.status, participant.code()), (403, "managers_only"));
}

#[tokio::test]
async fn a_removed_member_writes_no_more_progress() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    let member = class.member.bearer();
    assert_eq!(app.send(&app.put_progress(), put(&video, member, json!(20), json!(5))).await.status, 204);
    vivid_testkit::memory::ready(vivid_domain::spaces::SpaceStore::remove_member(
        app.memory.as_ref(),
        &class.space.space_id,
        class.member.id(),
        true,
    ))
    .expect("removed");
    let reply = app.send(&app.put_progress(), put(&video, member, json!(30), json!(6))).await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"), "answered as to a stranger");
}

#[tokio::test]
async fn a_progress_write_never_starts_the_grade_worker() {
    let app = App::new();
    let class = app.class();
    let video = app.video(&class, VideoStatus::Ready);
    app.memory.from_course(&class.space.space_id, class.member.id(), "sub-student");
    // A course's student claiming 30, then 100: their gradebook hears of watched coverage only
    // (POST /videos/{videoId}/watching), never of the rate a client reports.
    for rate in [30, 100] {
        let req = put(&video, class.member.bearer(), json!(rate), json!(f64::from(rate)));
        assert_eq!(app.send(&app.put_progress(), req).await.status, 204, "{rate}");
    }
    assert_eq!(app.memory.grade_jobs(), Vec::new());
}
