//! Invitations: shareable codes with a use limit and an expiry, e-mail invitations in bulk
//! (mailed through SES, claimed at the invitee's first Google sign-in), withdrawing, and who may
//! do what.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{Reply, TestApp, TestUser};

async fn invite(app: &TestApp, space: &str, by: &TestUser, body: Value) -> Reply {
    app.post(&format!("/spaces/{space}/invitations"), &by.token, body).await
}

async fn code_for(app: &TestApp, space: &str, by: &TestUser, body: Value) -> String {
    let r = invite(app, space, by, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["items"][0]["code"].as_str().expect("code").to_owned()
}

async fn accept(app: &TestApp, code: &str, who: &TestUser) -> Reply {
    // A code is found on an index (GSI1): an invitee follows a link some time after its creation,
    // never within the moment the index takes to catch up (`docs/data-model.md`, Invitations).
    app.indexes_settled().await;
    app.call(Method::POST, &format!("/invitations/{code}/accept"), Some(&who.token), None).await
}

async fn member_count(app: &TestApp, space: &str, host: &TestUser) -> u64 {
    app.get(&format!("/spaces/{space}"), &host.token).await.body["memberCount"].as_u64().expect("memberCount")
}

/// The mail moto's SES kept for `to`.
async fn mail_to(app: &TestApp, to: &str) -> Vec<Value> {
    let resp = app.http.get(format!("{}/_local/mail.json?to={to}", app.base)).send().await.expect("mail page");
    let r = TestApp::reply(resp).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn unique(name: &str) -> String {
    format!("{name}.{}@example.org", ulid::Ulid::new().to_string().to_lowercase())
}

#[tokio::test]
async fn given_200_addresses_in_one_call_then_each_gets_an_invitation_and_an_email_with_its_link() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Linear algebra").await;
    let emails: Vec<String> = (0..200).map(|i| unique(&format!("student{i}"))).collect();
    let before = app.stack.dynamodb_calls();
    let r = invite(&app, &space, &ana, json!({ "emails": emails, "role": "participant" })).await;
    let calls = app.stack.dynamodb_calls() - before;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let items = r.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 200);
    assert!(items.iter().all(|i| i["emailed"] == true && i["status"] == "open" && i["maxUses"] == 1), "{items:?}");
    let codes: std::collections::HashSet<&str> = items.iter().filter_map(|i| i["code"].as_str()).collect();
    assert_eq!(codes.len(), 200, "every invitation has its own code");
    // Access (1) + the inviter (1) + the inviter's mail count (1) + 200 items in batches of 25 (8)
    // + the recipients' mail counts, 100 a transaction (2).
    println!("inviting 200 addresses: {calls} DynamoDB requests");
    assert!(calls <= 15, "{calls} DynamoDB requests");

    // Each address got one e-mail, with its own link and the space's name.
    for (i, email) in emails.iter().enumerate().step_by(37) {
        let mails = mail_to(&app, email).await;
        assert_eq!(mails.len(), 1, "{email}: {mails:?}");
        let code = items[i]["code"].as_str().expect("code");
        let body = mails[0]["body"].as_str().expect("body");
        assert!(body.contains(&format!("/invitations/{code}")), "{body}");
        // The space's name in the body; the subject is the same for everyone (no user's text).
        assert!(body.contains("\u{201c}Linear algebra\u{201d}"), "{body}");
        assert_eq!(mails[0]["subject"], "You have been invited to a space on VIVID");
        assert_eq!(mails[0]["from"], "no-reply@vivid.example");
    }
    let listed = app.all_pages(&format!("/spaces/{space}/invitations"), &ana.token, 100).await.0;
    assert_eq!(listed.len(), 200);
    assert!(listed.iter().all(|i| i.get("emailed").is_none()), "the list does not claim a mail was sent");
}

#[tokio::test]
async fn given_an_unregistered_invitee_when_they_first_sign_in_with_google_then_they_are_in_the_space() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Physics").await;
    let newcomer = unique("newcomer");
    let r = invite(&app, &space, &ana, json!({ "emails": [newcomer.to_uppercase()], "role": "co-host" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["items"][0]["email"], newcomer.as_str(), "addresses are kept in lower case");
    // Signing up claims the invitations found on an index: the newcomer signs in later than the
    // index takes to catch up (a moment in AWS), and lists their spaces later still.
    app.indexes_settled().await;

    let google = &app.stack.google;
    let signed_in = app.google_token(&google.id_token(&google.claims_for(&newcomer, "Newcomer"))).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{:?}", signed_in.body);
    let token = signed_in.body["accessToken"].as_str().expect("accessToken");
    app.indexes_settled().await;
    let spaces = app.get("/spaces", token).await;
    let joined =
        spaces.body["items"].as_array().expect("items").iter().find(|s| s["spaceId"] == space.as_str()).cloned();
    assert_eq!(joined.expect("the invited space is listed")["role"], "co-host");
    assert_eq!(member_count(&app, &space, &ana).await, 2);
    let listed = app.get(&format!("/spaces/{space}/invitations"), &ana.token).await;
    assert_eq!(listed.body["items"][0]["status"], "used_up", "{:?}", listed.body);
    assert_eq!(listed.body["items"][0]["uses"], 1);
    // Nothing left to accept, and a second sign-in changes nothing.
    assert_eq!(app.get("/users/me/invitations", token).await.body["items"], json!([]));
    let again = app.google_token(&google.id_token(&google.claims_for(&newcomer, "Newcomer"))).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(member_count(&app, &space, &ana).await, 2);
}

#[tokio::test]
async fn given_a_code_for_three_then_three_join_the_fourth_is_refused_and_accepting_twice_is_harmless() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Seminar").await;
    // 3.0 is an integer to JSON Schema.
    let code = code_for(&app, &space, &ana, json!({ "maxUses": 3.0 })).await;
    assert_eq!(code.len(), 20);
    let mut users = Vec::new();
    for name in ["Bo", "Cy", "Dee", "Eve"] {
        users.push(app.user(name).await);
    }
    for who in &users[..3] {
        let r = accept(&app, &code, who).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!((r.body["spaceId"].as_str(), r.body["role"].as_str()), (Some(space.as_str()), Some("participant")));
    }
    // Accepting again uses nothing.
    let r = accept(&app, &code, &users[0]).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = accept(&app, &code, &users[3]).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "invitation_used_up"), "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(member_count(&app, &space, &ana).await, 4);
    let listed = app.get(&format!("/spaces/{space}/invitations"), &ana.token).await;
    assert_eq!(
        (listed.body["items"][0]["uses"].as_u64(), listed.body["items"][0]["status"].as_str()),
        (Some(3), Some("used_up"))
    );

    // Eight people racing for two places: exactly two get in.
    let code = code_for(&app, &space, &ana, json!({ "maxUses": 2 })).await;
    let mut racers = Vec::new();
    for i in 0..8 {
        racers.push(app.user(&format!("Racer{i}")).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for who in racers {
        let (http, url) = (app.http.clone(), format!("{}/invitations/{code}/accept", app.base));
        tasks.spawn(async move { http.post(url).bearer_auth(&who.token).send().await.map(|r| r.status()) });
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        statuses.push(done.expect("task").expect("request"));
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 2, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::GONE), "{statuses:?}");
    assert_eq!(member_count(&app, &space, &ana).await, 6);
}

#[tokio::test]
async fn given_a_revoked_an_expired_or_an_unknown_code_then_it_admits_no_one() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let space = app.space(&ana, "Chemistry").await;

    let revoked = invite(&app, &space, &ana, json!({ "role": "participant" })).await;
    let (id, code) = (
        revoked.body["items"][0]["invitationId"].as_str().expect("id"),
        revoked.body["items"][0]["code"].as_str().expect("code"),
    );
    let path = format!("/spaces/{space}/invitations/{id}");
    assert_eq!(app.call(Method::DELETE, &path, Some(&ana.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&ana.token), None).await.status,
        StatusCode::NO_CONTENT,
        "again: harmless"
    );
    let r = accept(&app, code, &bo).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "invitation_revoked"), "{:?}", r.body);
    let unknown = format!("/spaces/{space}/invitations/{}", ulid::Ulid::new());
    assert_eq!(app.call(Method::DELETE, &unknown, Some(&ana.token), None).await.status, StatusCode::NOT_FOUND);

    // An expiry in the past is refused; one that passes makes the code explain itself.
    let r = invite(&app, &space, &ana, json!({ "expiresAt": "2020-01-01T00:00:00Z" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_expiry"), "{:?}", r.body);
    let expiring = invite(&app, &space, &ana, json!({ "expiresAt": "2099-01-01T00:00:00Z" })).await;
    assert_eq!(expiring.status, StatusCode::UNPROCESSABLE_ENTITY, "at most 180 days ahead");
    let code = code_for(&app, &space, &ana, json!({})).await;
    let listed = app.get(&format!("/spaces/{space}/invitations"), &ana.token).await;
    let item = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["code"] == code.as_str())
        .cloned()
        .expect("listed");
    // The clock passes the expiry (set on the stored item: the store's view of time).
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("SPACE#{space}")))
        .key("SK", AttributeValue::S(format!("INVITE#{}", item["invitationId"].as_str().expect("id"))))
        .update_expression("SET expiresAtUnix = :past")
        .expression_attribute_values(":past", AttributeValue::N("1700000000".into()))
        .send()
        .await
        .expect("expiry moved");
    let r = accept(&app, &code, &bo).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "invitation_expired"), "{:?}", r.body);

    // Unknown and malformed codes are just not found.
    let r = accept(&app, "abcdefghijkmnpqrstuv", &bo).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let r = accept(&app, "nope", &bo).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    assert_eq!(member_count(&app, &space, &ana).await, 1);

    // Deleting the space takes its invitations with it.
    let open = code_for(&app, &space, &ana, json!({})).await;
    app.delete_and_wait(&format!("/spaces/{space}"), &ana.token).await;
    assert_eq!(accept(&app, &open, &bo).await.status, StatusCode::NOT_FOUND);
    let left: Vec<_> =
        app.scan_all().await.into_iter().filter(|i| vivid_tests::pk(i) == format!("SPACE#{space}")).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn given_registered_invitees_then_they_see_their_invitations_and_only_they_can_accept_them() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let cy = app.user("Cy").await;
    let space = app.space(&ana, "History").await;
    let r = invite(&app, &space, &ana, json!({ "emails": [bo.email()] })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // Bo's invitations are listed from an index: he looks once his mail came.
    app.indexes_settled().await;
    let mine = app.get("/users/me/invitations", &bo.token).await;
    assert_eq!(mine.status, StatusCode::OK);
    let items = mine.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!((items[0]["spaceName"].as_str(), items[0]["inviterName"].as_str()), (Some("History"), Some("Ana")));
    assert_eq!(app.get("/users/me/invitations", &cy.token).await.body["items"], json!([]));
    let code = items[0]["code"].as_str().expect("code");
    let r = accept(&app, code, &cy).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "invitation_for_another_email"), "{:?}", r.body);
    let r = accept(&app, code, &bo).await;
    assert_eq!((r.status, r.body["role"].as_str()), (StatusCode::OK, Some("participant")), "{:?}", r.body);
    app.indexes_settled().await;
    assert_eq!(app.get("/users/me/invitations", &bo.token).await.body["items"], json!([]));
}

#[tokio::test]
async fn given_the_roles_then_managers_invite_only_the_host_makes_co_hosts_and_bad_requests_are_422() {
    let app = TestApp::spawn().await;
    let (ana, bo, cy) = (app.user("Ana").await, app.user("Bo").await, app.user("Cy").await);
    let space = app.space(&ana, "Biology").await;
    app.join(&space, &ana, &bo).await;
    app.join(&space, &ana, &cy).await;
    app.promote(&space, &ana, &bo).await;

    // A co-host invites participants, not co-hosts; a participant invites no one.
    assert_eq!(invite(&app, &space, &bo, json!({ "maxUses": 10 })).await.status, StatusCode::CREATED);
    let r = invite(&app, &space, &bo, json!({ "role": "co-host" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "host_only"), "{:?}", r.body);
    let r = invite(&app, &space, &cy, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "managers_only"), "{:?}", r.body);
    assert_eq!(app.get(&format!("/spaces/{space}/invitations"), &cy.token).await.status, StatusCode::FORBIDDEN);
    // The host's co-host code makes co-hosts; the co-host cannot withdraw it.
    let r = invite(&app, &space, &ana, json!({ "role": "co-host", "maxUses": 1 })).await;
    let (id, code) =
        (r.body["items"][0]["invitationId"].as_str().expect("id"), r.body["items"][0]["code"].as_str().expect("code"));
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/invitations/{id}"), Some(&bo.token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    // Nor see its code: it makes co-hosts.
    let seen = app.get(&format!("/spaces/{space}/invitations"), &bo.token).await.body;
    assert!(
        seen["items"].as_array().is_some_and(|i| !i.is_empty() && i.iter().all(|i| i["role"] == "participant")),
        "{seen}"
    );
    let all = app.get(&format!("/spaces/{space}/invitations"), &ana.token).await.body;
    assert!(all["items"].as_array().is_some_and(|i| i.iter().any(|i| i["invitationId"] == id)), "{all}");
    let dee = app.user("Dee").await;
    assert_eq!(accept(&app, code, &dee).await.body["role"], "co-host");

    for (body, code) in [
        (json!({ "role": "host" }), "invalid_role"),
        (json!({ "maxUses": 0 }), "invalid_max_uses"),
        (json!({ "emails": [], "role": "participant" }), "invalid_emails"),
        (json!({ "emails": ["a@example.org"], "maxUses": 2 }), "invalid_max_uses"),
        (json!({ "emails": ["not an address"] }), "invalid_body"),
        (json!({ "expiresAt": "tomorrow" }), "invalid_expiry"),
        (json!({ "colour": "red" }), "invalid_body"),
        (json!({ "expiresAt": null }), "invalid_body"),
        (json!({ "maxUses": 2.5 }), "invalid_body"),
    ] {
        let r = invite(&app, &space, &ana, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", r.body);
        if code != "invalid_body" {
            assert_eq!(r.code(), code, "{body}");
        }
    }
    let many: Vec<String> = (0..301).map(|i| format!("s{i}@example.org")).collect();
    assert_eq!(invite(&app, &space, &ana, json!({ "emails": many })).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}
