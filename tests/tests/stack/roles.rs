//! Roles: co-hosts, role changes, handing a space over, and what a host's account deletion
//! does to the spaces they host.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_tests::{TestApp, TestUser};

/// A space of Ana's with Bo and Cy as participants.
async fn course(app: &TestApp) -> (TestUser, TestUser, TestUser, String) {
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let cy = app.user("Cy").await;
    let space = app.space(&ana, "Course").await;
    app.join(&space, &ana, &bo).await;
    app.join(&space, &ana, &cy).await;
    (ana, bo, cy, space)
}

async fn role_of(app: &TestApp, space: &str, who: &TestUser) -> String {
    let r = app.get(&format!("/spaces/{space}"), &who.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["role"].as_str().unwrap_or_default().to_owned()
}

async fn patch_role(app: &TestApp, space: &str, by: &TestUser, who: &str, role: &str) -> vivid_tests::Reply {
    app.call(Method::PATCH, &format!("/spaces/{space}/members/{who}"), Some(&by.token), Some(json!({ "role": role })))
        .await
}

#[tokio::test]
async fn given_a_co_host_then_they_manage_participants_but_not_co_hosts_roles_or_the_space() {
    let app = TestApp::spawn().await;
    let (ana, bo, cy, space) = course(&app).await;
    app.promote(&space, &ana, &bo).await;
    assert_eq!(role_of(&app, &space, &bo).await, "co-host");
    let members = app.get(&format!("/spaces/{space}/members"), &cy.token).await;
    let bo_row = members.body["items"].as_array().expect("items").iter().find(|m| m["userId"] == bo.id()).cloned();
    assert_eq!(bo_row.expect("Bo listed")["role"], "co-host");

    // A co-host adds and removes participants…
    let dee = app.user("Dee").await;
    app.join(&space, &bo, &dee).await;
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", dee.id()), Some(&bo.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    // …but not another co-host, nor the host, and changes no role.
    app.promote(&space, &ana, &cy).await;
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", cy.id()), Some(&bo.token), None).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "host_only"), "{:?}", r.body);
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", ana.id()), Some(&bo.token), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let r = patch_role(&app, &space, &bo, &cy.id(), "participant").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let r = app.post(&format!("/spaces/{space}/transfer"), &bo.token, json!({ "userId": bo.id() })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let r = app.call(Method::DELETE, &format!("/spaces/{space}"), Some(&bo.token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    // A co-host may leave.
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", cy.id()), Some(&cy.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_eq!(app.get(&format!("/spaces/{space}"), &ana.token).await.body["memberCount"], 2);
}

#[tokio::test]
async fn given_a_role_change_then_only_co_host_and_participant_are_given_and_never_to_the_host() {
    let app = TestApp::spawn().await;
    let (ana, bo, cy, space) = course(&app).await;
    let r = patch_role(&app, &space, &ana, &bo.id(), "co-host").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (r.body["userId"].clone(), r.body["role"].clone(), r.body["name"].clone()),
        (json!(bo.id()), json!("co-host"), json!("Bo"))
    );
    let r = patch_role(&app, &space, &ana, &bo.id(), "participant").await;
    assert_eq!(r.body["role"], "participant");
    assert_eq!(role_of(&app, &space, &bo).await, "participant");

    let r = patch_role(&app, &space, &ana, &cy.id(), "host").await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "use_transfer"));
    let r = patch_role(&app, &space, &ana, &ana.id(), "participant").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "host_role"));
    let stranger = app.user("Stranger").await;
    let r = patch_role(&app, &space, &ana, &stranger.id(), "co-host").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a non-member: {:?}", r.body);
    for bad in [json!({ "role": "owner" }), json!({}), json!({ "role": "co-host", "x": 1 })] {
        let r = app
            .call(Method::PATCH, &format!("/spaces/{space}/members/{}", cy.id()), Some(&ana.token), Some(bad.clone()))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {:?}", r.body);
    }
    assert_eq!(role_of(&app, &space, &cy).await, "participant", "nothing changed");
}

#[tokio::test]
async fn given_a_transfer_then_the_new_host_owns_the_space_the_old_one_co_hosts_and_notes_stay() {
    let app = TestApp::spawn().await;
    let (ana, bo, cy, space) = course(&app).await;
    let video = app.ready_video(&space, &ana).await;
    let memo = app
        .call(
            Method::PUT,
            &format!("/videos/{video}/text-memo"),
            Some(&cy.token),
            Some(json!({ "stateJson": "<p>mine</p>" })),
        )
        .await;
    assert_eq!(memo.status, StatusCode::CREATED);

    let r = app.post(&format!("/spaces/{space}/transfer"), &ana.token, json!({ "userId": bo.id() })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!((r.body["hostId"].clone(), r.body["role"].clone()), (json!(bo.id()), json!("co-host")));
    assert_eq!(role_of(&app, &space, &bo).await, "host");
    assert_eq!(role_of(&app, &space, &ana).await, "co-host");
    assert_eq!(app.get(&format!("/spaces/{space}"), &cy.token).await.body["hostId"], bo.id());
    // The count moves with it.
    assert_eq!(app.get("/users/me", &bo.token).await.body["usage"]["hostedSpaces"]["used"], 1);
    assert_eq!(app.get("/users/me", &ana.token).await.body["usage"]["hostedSpaces"]["used"], 0);
    // The student's notes are untouched.
    let mine = app.get(&format!("/videos/{video}/text-memo"), &cy.token).await;
    assert_eq!(mine.body["stateJson"], "<p>mine</p>");

    // The old host is a co-host now: no second transfer, no delete; the new host may do both.
    let r = app.post(&format!("/spaces/{space}/transfer"), &ana.token, json!({ "userId": ana.id() })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::DELETE, &format!("/spaces/{space}"), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post(&format!("/spaces/{space}/transfer"), &bo.token, json!({ "userId": ana.id() })).await;
    assert_eq!(r.status, StatusCode::OK, "back again: {:?}", r.body);
    assert_eq!(role_of(&app, &space, &ana).await, "host");
    assert_eq!(role_of(&app, &space, &bo).await, "co-host");
}

#[tokio::test]
async fn given_a_transfer_to_a_stranger_to_oneself_or_of_a_personal_space_then_it_is_refused() {
    let app = TestApp::spawn().await;
    let (ana, bo, _cy, space) = course(&app).await;
    let stranger = app.user("Stranger").await;
    let path = format!("/spaces/{space}/transfer");
    let r = app.post(&path, &ana.token, json!({ "userId": stranger.id() })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let r = app.post(&path, &ana.token, json!({ "userId": ana.id() })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_host"));
    for bad in [json!({}), json!({ "userId": "not-an-id" }), json!({ "userId": bo.id(), "role": "host" })] {
        let r = app.post(&path, &ana.token, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {:?}", r.body);
    }
    let personal =
        app.get("/users/me", &ana.token).await.body["personalSpaceId"].as_str().expect("personal").to_owned();
    let r = app.post(&format!("/spaces/{personal}/transfer"), &ana.token, json!({ "userId": bo.id() })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "personal_space"));
    assert_eq!(role_of(&app, &space, &ana).await, "host", "nothing changed");
}

#[tokio::test]
async fn given_a_transfer_to_someone_at_their_hosted_spaces_limit_then_409_and_nothing_changes() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxHostedSpaces".into(), "1".into());
    })
    .await;
    let (ana, bo, _cy, space) = course(&app).await;
    app.space(&bo, "Bo's own").await;
    let r = app.post(&format!("/spaces/{space}/transfer"), &ana.token, json!({ "userId": bo.id() })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "space_quota_exceeded"), "{:?}", r.body);
    assert_eq!(role_of(&app, &space, &ana).await, "host");
    assert_eq!(role_of(&app, &space, &bo).await, "participant");
}

#[tokio::test]
async fn given_a_host_deletes_their_account_then_a_space_with_co_hosts_passes_to_the_longest_standing_one() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    // Cy signs up before Bo (the smaller id, listed first) but joins after Bo, and is promoted
    // first: joining time decides, not the id or the promotion.
    let cy = app.user("Cy").await;
    let bo = app.user("Bo").await;
    assert!(cy.id() < bo.id());
    let space = app.space(&ana, "Course").await;
    app.join(&space, &ana, &bo).await;
    app.join(&space, &ana, &cy).await;
    app.promote(&space, &ana, &cy).await;
    app.promote(&space, &ana, &bo).await;
    let dee = app.user("Dee").await;
    app.join(&space, &ana, &dee).await;
    let video = app.ready_video(&space, &ana).await;
    let memo = app
        .call(
            Method::PUT,
            &format!("/videos/{video}/text-memo"),
            Some(&dee.token),
            Some(json!({ "stateJson": "<p>d</p>" })),
        )
        .await;
    assert_eq!(memo.status, StatusCode::CREATED);
    // A space of Ana's without co-host goes with her account.
    let solo = app.space(&ana, "Solo").await;

    app.delete_and_wait("/users/me", &ana.token).await;

    let kept = app.get(&format!("/spaces/{space}"), &bo.token).await;
    assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
    assert_eq!((kept.body["hostId"].clone(), kept.body["role"].clone()), (json!(bo.id()), json!("host")));
    assert_eq!(kept.body["memberCount"], 3, "Bo, Cy, Dee: Ana is gone");
    assert_eq!(role_of(&app, &space, &cy).await, "co-host");
    let members = app.get(&format!("/spaces/{space}/members"), &bo.token).await;
    assert!(members.body["items"].as_array().expect("items").iter().all(|m| m["userId"] != ana.id()));
    assert_eq!(app.get(&format!("/videos/{video}"), &dee.token).await.status, StatusCode::OK, "the lecture stays");
    assert_eq!(app.get(&format!("/videos/{video}/text-memo"), &dee.token).await.body["stateJson"], "<p>d</p>");
    assert_eq!(app.get("/users/me", &bo.token).await.body["usage"]["hostedSpaces"]["used"], 1);
    let solo_pk = format!("SPACE#{solo}");
    let left = app.scan_all().await.into_iter().filter(|i| i.get("PK").and_then(|v| v.as_s().ok()) == Some(&solo_pk));
    assert_eq!(left.count(), 0, "Solo is gone with the account");
}
