//! Members: inviting by e-mail, listing, removing and leaving.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_tests::TestApp;

#[tokio::test]
async fn given_a_host_when_adding_a_registered_user_then_they_become_a_participant() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let id = app.space(&ana, "Course").await;
    let r = app.post(&format!("/spaces/{id}/members"), &ana.token, json!({ "email": bo.email().to_uppercase() })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["userId"], bo.id());
    assert_eq!(r.body["role"], "participant");
    assert_eq!(r.body["name"], "Bo");

    let members = app.get(&format!("/spaces/{id}/members"), &bo.token).await;
    assert_eq!(members.status, StatusCode::OK);
    let items = members.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    let roles: Vec<(&str, &str)> =
        items.iter().map(|m| (m["name"].as_str().unwrap_or(""), m["role"].as_str().unwrap_or(""))).collect();
    assert!(roles.contains(&("Ana", "host")) && roles.contains(&("Bo", "participant")), "{roles:?}");
    assert!(items.iter().all(|m| m["email"].is_string()));
    assert_eq!(app.get(&format!("/spaces/{id}"), &bo.token).await.body["memberCount"], 2);
    assert_eq!(app.get(&format!("/spaces/{id}"), &bo.token).await.body["role"], "participant");
}

#[tokio::test]
async fn given_an_unknown_or_existing_member_when_adding_then_404_or_409() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let id = app.space(&ana, "Course").await;
    let path = format!("/spaces/{id}/members");
    let r = app.post(&path, &ana.token, json!({ "email": "nobody@example.com" })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["detail"],
        "no account has this e-mail address: invite it instead (POST /spaces/{spaceId}/invitations)"
    );
    app.join(&id, &ana, &bo).await;
    let r = app.post(&path, &ana.token, json!({ "email": bo.email() })).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "already_member");
    let r = app.post(&path, &ana.token, json!({ "email": ana.email() })).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the host is already a member");
    for bad in [json!({ "email": "not-an-email" }), json!({}), json!({ "email": "a@b.co", "role": "host" })] {
        let r = app.post(&path, &ana.token, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(app.get(&format!("/spaces/{id}"), &ana.token).await.body["memberCount"], 2);
}

#[tokio::test]
async fn given_concurrent_adds_of_one_user_then_exactly_one_succeeds_and_the_count_is_right() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let id = app.space(&ana, "Course").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, url, token, email) =
            (app.http.clone(), format!("{}/spaces/{id}/members", app.base), ana.token.clone(), bo.email());
        tasks.spawn(async move { http.post(url).bearer_auth(token).json(&json!({ "email": email })).send().await });
    }
    let mut created = 0;
    let mut conflicts = 0;
    while let Some(res) = tasks.join_next().await {
        match res.expect("task").expect("request").status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => conflicts += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, conflicts), (1, 7));
    assert_eq!(app.get(&format!("/spaces/{id}"), &ana.token).await.body["memberCount"], 2);
}

#[tokio::test]
async fn given_members_when_removing_then_the_rules_of_host_and_participants_hold() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let cy = app.user("Cy").await;
    let id = app.space(&ana, "Course").await;
    app.join(&id, &ana, &bo).await;
    app.join(&id, &ana, &cy).await;
    let member = |u: &str| format!("/spaces/{id}/members/{u}");

    // A participant cannot remove another participant, nor the host.
    let r = app.call(Method::DELETE, &member(&cy.id()), Some(&bo.token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::DELETE, &member(&ana.id()), Some(&bo.token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The host cannot be removed, not even by themself.
    let r = app.call(Method::DELETE, &member(&ana.id()), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "host_cannot_leave");
    // A participant leaves.
    let r = app.call(Method::DELETE, &member(&bo.id()), Some(&bo.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/spaces/{id}"), &bo.token).await.status, StatusCode::NOT_FOUND);
    // The host removes a participant; removing them again is 404.
    let r = app.call(Method::DELETE, &member(&cy.id()), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.call(Method::DELETE, &member(&cy.id()), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::DELETE, &member("nope"), Some(&ana.token), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let space = app.get(&format!("/spaces/{id}"), &ana.token).await;
    assert_eq!(space.body["memberCount"], 1);
    let (items, _) = app.all_pages(&format!("/spaces/{id}/members"), &ana.token, 10).await;
    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn given_many_members_when_paging_then_every_member_once_and_cursors_stay_in_their_space() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let id = app.space(&ana, "Big").await;
    let other = app.space(&ana, "Other").await;
    for n in 0..11 {
        let p = app.user(&format!("P{n}")).await;
        app.join(&id, &ana, &p).await;
    }
    let (items, pages) = app.all_pages(&format!("/spaces/{id}/members"), &ana.token, 5).await;
    assert_eq!(items.len(), 12);
    assert_eq!(pages, 3);
    let mut ids: Vec<&str> = items.iter().filter_map(|m| m["userId"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12);

    let first = app.get(&format!("/spaces/{id}/members?limit=5"), &ana.token).await;
    let cursor = first.body["nextCursor"].as_str().expect("cursor");
    let r = app.get(&format!("/spaces/{other}/members?cursor={cursor}"), &ana.token).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a cursor of one space does not page another");
}
