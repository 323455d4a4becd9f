//! `/spaces/{spaceId}/members`: a manager adds a registered user; members list each other.

use serde_json::json;
use vivid_testkit::requests::Req;

use crate::App;

#[tokio::test]
async fn a_manager_adds_a_registered_user_as_participant_and_nobody_else_may() {
    let app = App::new();
    let class = app.class();
    let space = &class.space.space_id;
    let add = |token: Option<&str>, email: &str| {
        Req::post("/spaces/{spaceId}/members").param("spaceId", space).bearer(token).json(&json!({ "email": email }))
    };
    let grace = app.person("grace@example.com");
    for (who, token) in class.callers() {
        if who == "host" {
            continue;
        }
        let reply = app.send(&app.add_member(), add(token, "grace@example.com")).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            _ => (403, "managers_only"),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let reply = app.send(&app.add_member(), add(class.cohost.bearer(), "Grace@Example.com")).await;
    assert_eq!(reply.status, 201, "a co-host adds, the address in any case: {reply:?}");
    assert_eq!(reply.header("location"), format!("/spaces/{space}/members/{}", grace.id()));
    assert_eq!(
        (reply.body["role"].as_str(), reply.body["email"].as_str()),
        (Some("participant"), Some("grace@example.com"))
    );
    let again = app.send(&app.add_member(), add(class.host.bearer(), "grace@example.com")).await;
    assert_eq!((again.status, again.code()), (409, "already_member"));
    let unknown = app.send(&app.add_member(), add(class.host.bearer(), "nobody@example.com")).await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"), "an address that never signed up");
    let malformed = app.send(&app.add_member(), add(class.host.bearer(), "not an address")).await;
    assert_eq!((malformed.status, malformed.code()), (422, "invalid_body"));
    let read = Req::get("/spaces/{spaceId}").param("spaceId", space).bearer(grace.bearer());
    let reply = app.send(&app.get_space(), read).await;
    assert_eq!((reply.status, reply.body["memberCount"].as_u64()), (200, Some(4)), "counted, and in");
}

#[tokio::test]
async fn a_user_whose_account_is_being_deleted_is_no_one_to_add() {
    let app = App::new();
    let class = app.class();
    let leaving = app.person("leaving@example.com");
    vivid_testkit::memory::ready(vivid_domain::users::UserStore::mark_deleting(app.memory.as_ref(), leaving.id(), "m"))
        .expect("marked");
    let req = Req::post("/spaces/{spaceId}/members")
        .param("spaceId", &class.space.space_id)
        .bearer(class.host.bearer())
        .json(&json!({ "email": "leaving@example.com" }));
    let reply = app.send(&app.add_member(), req).await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"));
}

#[tokio::test]
async fn members_list_each_other_a_page_at_a_time_and_strangers_learn_nothing() {
    let app = App::new();
    let class = app.class();
    let space = &class.space.space_id;
    let list = |token: Option<&str>| Req::get("/spaces/{spaceId}/members").param("spaceId", space).bearer(token);
    let stranger = app.send(&app.list_members(), list(class.stranger.bearer())).await;
    assert_eq!((stranger.status, stranger.code()), (404, "not_found"));
    let anonymous = app.send(&app.list_members(), list(None)).await;
    assert_eq!(anonymous.status, 401);
    let all = app.send(&app.list_members(), list(class.member.bearer())).await;
    assert_eq!(all.status, 200);
    let mut expected: Vec<String> =
        [&class.host, &class.cohost, &class.member].iter().map(|p| p.id().to_string()).collect();
    expected.sort();
    assert_eq!(all.ids("userId"), expected, "by user id");
    let items = all.body["items"].as_array().cloned().unwrap_or_default();
    let host = items.iter().find(|m| m["userId"] == class.host.id().as_str()).expect("the host");
    assert_eq!((host["role"].as_str(), host["email"].as_str()), (Some("host"), Some("host@example.com")));
    let first = app.send(&app.list_members(), list(class.member.bearer()).query("limit", 2)).await;
    let cursor = first.body["nextCursor"].as_str().expect("a next page").to_owned();
    let rest = app.send(&app.list_members(), list(class.member.bearer()).query("cursor", &cursor)).await;
    assert_eq!([first.ids("userId"), rest.ids("userId")].concat(), expected);
    let elsewhere = Req::get("/spaces/{spaceId}/members")
        .param("spaceId", &class.host.user.personal_space_id)
        .bearer(class.host.bearer())
        .query("cursor", &cursor);
    let reply = app.send(&app.list_members(), elsewhere).await;
    assert_eq!((reply.status, reply.code()), (400, "invalid_cursor"), "a cursor of another space's list");
}
