//! `/spaces` and `/spaces/{spaceId}`: created, read, listed, changed and deleted, by each caller.

use serde_json::json;
use vivid_domain::deletion::Deletion;
use vivid_testkit::requests::Req;

use crate::App;

#[tokio::test]
async fn a_created_space_is_its_creator_s_to_host_and_counts_among_their_spaces() {
    let app = App::new();
    let ada = app.person("ada@example.com");
    let req = Req::post("/spaces").bearer(ada.bearer()).json(&json!({ "name": "Algebra", "description": "Tuesdays" }));
    let reply = app.send(&app.create_space(), req).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let id = reply.body["spaceId"].as_str().expect("spaceId").to_owned();
    assert_eq!(reply.header("location"), format!("/spaces/{id}"));
    let body = &reply.body;
    assert_eq!((body["name"].as_str(), body["description"].as_str()), (Some("Algebra"), Some("Tuesdays")));
    assert_eq!((body["role"].as_str(), body["personal"].as_bool()), (Some("host"), Some(false)));
    assert_eq!((body["memberCount"].as_u64(), body["videoCount"].as_u64()), (Some(1), Some(0)));
    assert_eq!(body["hostId"].as_str(), Some(ada.id().as_str()));
    let got =
        app.send(&app.get_space(), Req::get("/spaces/{spaceId}").param("spaceId", &id).bearer(ada.bearer())).await;
    assert_eq!((got.status, got.body["name"].as_str()), (200, Some("Algebra")));
    let anonymous = app.send(&app.create_space(), Req::post("/spaces").json(&json!({ "name": "X" }))).await;
    assert_eq!((anonymous.status, anonymous.code()), (401, "unauthenticated"));
}

#[tokio::test]
async fn a_space_s_body_is_checked_before_anything_is_written() {
    let app = App::new();
    let ada = app.person("ada@example.com");
    let long = "n".repeat(101);
    for (body, status, code) in [
        (json!({}), 422, "invalid_body"),
        (json!({ "name": "" }), 422, "invalid_body"),
        (json!({ "name": long }), 422, "invalid_body"),
        (json!({ "name": "A", "colour": "red" }), 422, "invalid_body"),
        (json!({ "name": 7 }), 422, "invalid_body"),
    ] {
        let reply = app.send(&app.create_space(), Req::post("/spaces").bearer(ada.bearer()).json(&body)).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{body}");
    }
    let broken = Req::post("/spaces").bearer(ada.bearer()).body("application/json", "{\"name\":");
    let reply = app.send(&app.create_space(), broken).await;
    assert_eq!((reply.status, reply.code()), (400, "malformed_json"));
    let text = Req::post("/spaces").bearer(ada.bearer()).body("text/plain", "name=A");
    let reply = app.send(&app.create_space(), text).await;
    assert_eq!((reply.status, reply.code()), (415, "unsupported_media_type"));
    let list = app.send(&app.list_spaces(), Req::get("/spaces").bearer(ada.bearer())).await;
    assert_eq!(list.ids("spaceId").len(), 1, "only the personal space: {list:?}");
}

#[tokio::test]
async fn a_host_may_host_as_many_spaces_as_the_quota_and_no_more() {
    let app = App::new();
    let ada = app.person("ada@example.com");
    for i in 0..app.quotas.hosted_spaces {
        let req = Req::post("/spaces").bearer(ada.bearer()).json(&json!({ "name": format!("Space {i}") }));
        assert_eq!(app.send(&app.create_space(), req).await.status, 201);
    }
    let req = Req::post("/spaces").bearer(ada.bearer()).json(&json!({ "name": "One too many" }));
    let reply = app.send(&app.create_space(), req).await;
    assert_eq!((reply.status, reply.code()), (409, "space_quota_exceeded"));
    assert_eq!(reply.body["limit"].as_u64(), Some(app.quotas.hosted_spaces));
}

#[tokio::test]
async fn a_space_is_read_by_its_members_only_and_each_sees_their_role() {
    let app = App::new();
    let class = app.class();
    let read =
        |token: Option<&str>| Req::get("/spaces/{spaceId}").param("spaceId", &class.space.space_id).bearer(token);
    for (who, token) in class.callers() {
        let reply = app.send(&app.get_space(), read(token)).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            _ => (200, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let member = app.send(&app.get_space(), read(class.member.bearer())).await;
    assert_eq!((member.body["role"].as_str(), member.body["memberCount"].as_u64()), (Some("participant"), Some(3)));
    let cohost = app.send(&app.get_space(), read(class.cohost.bearer())).await;
    assert_eq!(cohost.body["role"].as_str(), Some("co-host"));
    let malformed = Req::get("/spaces/{spaceId}").param("spaceId", "not-an-id").bearer(class.host.bearer());
    let reply = app.send(&app.get_space(), malformed).await;
    assert_eq!((reply.status, reply.code()), (400, "malformed_id"));
}

#[tokio::test]
async fn spaces_are_listed_personal_first_a_page_at_a_time_with_a_cursor_for_that_caller_only() {
    let app = App::new();
    let class = app.class();
    let second = app.memory.shared_space(class.host.id(), "Geometry");
    let list = |token: Option<&str>| Req::get("/spaces").bearer(token);
    let all = app.send(&app.list_spaces(), list(class.host.bearer())).await;
    assert_eq!(all.status, 200);
    let ids = all.ids("spaceId");
    assert_eq!(ids.len(), 3, "{all:?}");
    assert_eq!(ids[0], class.host.user.personal_space_id.as_str(), "the personal space first");
    // Then by joining time, then id (these two may share a millisecond).
    let mut joined = [&class.space, &second].map(|s| (s.created_at.clone(), s.space_id.to_string()));
    joined.sort();
    assert_eq!(ids[1..], joined.map(|(_, id)| id), "then by joining");
    let first = app.send(&app.list_spaces(), list(class.host.bearer()).query("limit", 2)).await;
    assert_eq!(first.ids("spaceId"), ids[..2]);
    let cursor = first.body["nextCursor"].as_str().expect("a next page").to_owned();
    let next = app.send(&app.list_spaces(), list(class.host.bearer()).query("cursor", &cursor)).await;
    assert_eq!(next.ids("spaceId"), ids[2..]);
    assert!(next.body.get("nextCursor").is_none(), "{next:?}");
    let theirs = app.send(&app.list_spaces(), list(class.member.bearer()).query("cursor", &cursor)).await;
    assert_eq!((theirs.status, theirs.code()), (400, "invalid_cursor"), "another caller's cursor");
    for bad in ["0", "101", "x"] {
        let reply = app.send(&app.list_spaces(), list(class.host.bearer()).query("limit", bad)).await;
        assert_eq!((reply.status, reply.code()), (400, "invalid_limit"), "{bad}");
    }
    let stranger = app.send(&app.list_spaces(), list(class.stranger.bearer())).await;
    assert_eq!(stranger.ids("spaceId"), [class.stranger.user.personal_space_id.to_string()]);
}

#[tokio::test]
async fn only_the_host_changes_a_space_and_an_empty_or_wrong_change_is_refused() {
    let app = App::new();
    let class = app.class();
    let patch = |token: Option<&str>, body: serde_json::Value| {
        Req::patch("/spaces/{spaceId}").param("spaceId", &class.space.space_id).bearer(token).json(&body)
    };
    let rename = json!({ "name": "Linear algebra II" });
    for (who, token) in class.callers().into_iter().chain([("co-host", class.cohost.bearer())]) {
        let reply = app.send(&app.update_space(), patch(token, rename.clone())).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            "participant" | "co-host" => (403, "host_only"),
            _ => (200, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let reply = app
        .send(
            &app.get_space(),
            Req::get("/spaces/{spaceId}").param("spaceId", &class.space.space_id).bearer(class.member.bearer()),
        )
        .await;
    assert_eq!(reply.body["name"].as_str(), Some("Linear algebra II"), "members see the new name");
    let host = class.host.bearer();
    let on = app
        .send(&app.update_space(), patch(host, json!({ "transcription": { "enabled": true, "language": "de-DE" } })))
        .await;
    assert_eq!((on.status, on.body["transcription"]["language"].as_str()), (200, Some("de-DE")));
    for (body, code) in [
        (json!({}), "empty_patch"),
        (json!({ "transcription": { "enabled": true, "language": "german" } }), "invalid_language"),
        (json!({ "name": "" }), "invalid_body"),
    ] {
        let reply = app.send(&app.update_space(), patch(host, body.clone())).await;
        assert_eq!((reply.status, reply.code()), (422, code), "{body}");
    }
}

#[tokio::test]
async fn the_host_deletes_a_shared_space_which_is_gone_at_once_for_everyone() {
    let app = App::new();
    let class = app.class();
    let space = &class.space.space_id;
    let delete = |token: Option<&str>| Req::delete("/spaces/{spaceId}").param("spaceId", space).bearer(token);
    let participant = app.send(&app.delete_space(), delete(class.member.bearer())).await;
    assert_eq!((participant.status, participant.code()), (403, "host_only"));
    let reply = app.send(&app.delete_space(), delete(class.host.bearer())).await;
    assert_eq!((reply.status, reply.body), (202, json!({ "spaceId": space, "status": "deleting" })));
    assert_eq!(app.memory.deletions(), [Deletion::Space { space_id: space.clone() }]);
    let read = app
        .send(&app.get_space(), Req::get("/spaces/{spaceId}").param("spaceId", space).bearer(class.member.bearer()))
        .await;
    assert_eq!((read.status, read.code()), (404, "not_found"));
    let again = app.send(&app.delete_space(), delete(class.host.bearer())).await;
    assert_eq!(again.status, 202, "asked again while the worker runs: the same answer");
    let personal = Req::delete("/spaces/{spaceId}")
        .param("spaceId", &class.host.user.personal_space_id)
        .bearer(class.host.bearer());
    let reply = app.send(&app.delete_space(), personal).await;
    assert_eq!((reply.status, reply.code()), (409, "personal_space"));
}
