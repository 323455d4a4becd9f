//! Invitations under hostile use: invitation e-mail capped per inviting user and per recipient
//! (counted before anything is sent), a fixed subject with no text a user chose, names from
//! Google cleaned before they are stored, a manager's removal that a shareable code does not undo,
//! and codes that lose their force with their creator's role.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{Reply, TestApp, TestUser};

const SUBJECT: &str = "You have been invited to a space on VIVID";

async fn invite(app: &TestApp, space: &str, by: &TestUser, body: Value) -> Reply {
    app.post(&format!("/spaces/{space}/invitations"), &by.token, body).await
}

async fn code_for(app: &TestApp, space: &str, by: &TestUser) -> String {
    let r = invite(app, space, by, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["items"][0]["code"].as_str().expect("code").to_owned()
}

async fn accept(app: &TestApp, code: &str, who: &TestUser) -> Reply {
    // A code is found on an index: an invitee follows a link later than it takes to catch up.
    app.indexes_settled().await;
    app.call(Method::POST, &format!("/invitations/{code}/accept"), Some(&who.token), None).await
}

async fn remove(app: &TestApp, space: &str, by: &TestUser, who: &TestUser) -> Reply {
    app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", who.id()), Some(&by.token), None).await
}

async fn set_role(app: &TestApp, space: &str, host: &TestUser, who: &TestUser, role: &str) {
    let path = format!("/spaces/{space}/members/{}", who.id());
    let r = app.call(Method::PATCH, &path, Some(&host.token), Some(json!({ "role": role }))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// The mail the local SES kept for `to`.
async fn mail_to(app: &TestApp, to: &str) -> Vec<Value> {
    let resp = app.http.get(format!("{}/_local/mail.json?to={to}", app.base)).send().await.expect("mail page");
    let r = TestApp::reply(resp).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn unique(name: &str) -> String {
    format!("{name}.{}@example.org", ulid::Ulid::new().to_string().to_lowercase())
}

/// A first Google sign-in with the profile name `name`: the new user's access token.
async fn google_sign_up(app: &TestApp, email: &str, name: &str) -> String {
    let google = &app.stack.google;
    let signed = app.google_token(&google.id_token(&google.claims_for(email, name))).await;
    assert_eq!(signed.status, StatusCode::OK, "{:?}", signed.body);
    signed.body["accessToken"].as_str().expect("accessToken").to_owned()
}

/// The space's invitations as its host lists them.
async fn listed(app: &TestApp, space: &str, host: &TestUser) -> Vec<Value> {
    app.all_pages(&format!("/spaces/{space}/invitations"), &host.token, 100).await.0
}

#[tokio::test]
async fn given_a_daily_cap_of_3_mails_then_the_request_passing_it_is_refused_whole_and_others_still_mail() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("DailyInvitationMails".into(), "3".into());
    })
    .await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Statistics").await;
    let first: Vec<String> = (0..2).map(|i| unique(&format!("first{i}"))).collect();
    let r = invite(&app, &space, &ana, json!({ "emails": first })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert!(r.body["items"].as_array().expect("items").iter().all(|i| i["emailed"] == true), "{:?}", r.body);

    // Two more would make 4 of 3: nothing is made, nothing is sent, and the answer says until when.
    let over: Vec<String> = (0..2).map(|i| unique(&format!("over{i}"))).collect();
    let refused = invite(&app, &space, &ana, json!({ "emails": over })).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", refused.body);
    assert_eq!(refused.code(), "invitation_mail_quota_exceeded");
    assert_eq!(refused.body["limit"], 3);
    assert_eq!(refused.header("content-type"), Some("application/problem+json"));
    let retry: u64 = refused.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=86_400).contains(&retry), "{retry}");
    for address in &over {
        assert!(mail_to(&app, address).await.is_empty(), "{address} was mailed");
    }
    assert_eq!(listed(&app, &space, &ana).await.len(), 2, "the refused request made no invitation");

    // The third mail of the day still goes; the fourth is refused; codes are not counted.
    let third = unique("third");
    let r = invite(&app, &space, &ana, json!({ "emails": [third] })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(mail_to(&app, &third).await.len(), 1);
    let fourth = invite(&app, &space, &ana, json!({ "emails": [unique("fourth")] })).await;
    assert_eq!(fourth.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", fourth.body);
    assert_eq!(invite(&app, &space, &ana, json!({ "maxUses": 30 })).await.status, StatusCode::CREATED);

    // Another inviter has a count of their own.
    let bo = app.user("Bo").await;
    let other = app.space(&bo, "Chemistry").await;
    let theirs = unique("theirs");
    let r = invite(&app, &other, &bo, json!({ "emails": [theirs] })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["items"][0]["emailed"], true);
    assert_eq!(mail_to(&app, &theirs).await.len(), 1);
}

#[tokio::test]
async fn given_an_address_mailed_twice_today_then_a_third_invitation_is_made_but_not_mailed() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("DailyMailsPerRecipient".into(), "2".into());
    })
    .await;
    let target = unique("target");
    let hosts = [app.user("Ana").await, app.user("Bo").await, app.user("Cy").await];
    let mut answers = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let space = app.space(host, &format!("Course {i}")).await;
        let bystander = unique(&format!("bystander{i}"));
        let r = invite(&app, &space, host, json!({ "emails": [target.to_uppercase(), bystander] })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let items = r.body["items"].as_array().expect("items").clone();
        assert_eq!(items[1]["emailed"], true, "another address of the request is mailed: {items:?}");
        assert_eq!(mail_to(&app, &bystander).await.len(), 1);
        answers.push((space, items[0].clone()));
    }
    assert!(answers[..2].iter().all(|(_, i)| i["emailed"] == true), "{answers:?}");
    let (space, third) = &answers[2];
    assert_eq!(third["emailed"], false, "{third:?}");
    assert_eq!(third["notEmailedBecause"], "recipient_daily_limit");
    assert_eq!(third["status"], "open", "the invitation stands");
    assert_eq!(mail_to(&app, &target).await.len(), 2, "two e-mails, from all inviters together");
    assert_eq!(listed(&app, space, &hosts[2]).await.len(), 2);

    // The address's count is kept under a hash of it: the table never names the address.
    let items = app.scan_all().await;
    let counters: Vec<&str> = items.iter().map(vivid_tests::pk).filter(|pk| pk.starts_with("MAILTO#")).collect();
    assert!(!counters.is_empty());
    assert!(counters.iter().all(|pk| !pk.contains(&target) && pk.len() == "MAILTO#".len() + 64), "{counters:?}");
}

#[tokio::test]
async fn given_hostile_names_then_an_invitation_mail_has_the_fixed_subject_and_quotes_them_cleaned() {
    let app = TestApp::spawn().await;
    let token = google_sign_up(&app, &unique("eve"), "Eve \u{202E}gnp.exe\u{0000}\nBCC: all@example.org").await;
    let created =
        app.post("/spaces", &token, json!({ "name": "URGENT: your account is locked, call +1 555 0100" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let space = created.body["spaceId"].as_str().expect("spaceId");
    let to = unique("victim");
    let r = app.post(&format!("/spaces/{space}/invitations"), &token, json!({ "emails": [to] })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let mails = mail_to(&app, &to).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let subject = mails[0]["subject"].as_str().expect("subject");
    assert_eq!(subject, SUBJECT, "no text a user chose in the subject");
    let body = mails[0]["body"].as_str().expect("body");
    assert!(body.contains("Invited by: \u{201c}Eve gnp.exe BCC: all@example.org\u{201d}\n"), "{body}");
    assert!(body.contains("Space: \u{201c}URGENT: your account is locked, call +1 555 0100\u{201d}\n"), "{body}");
    assert!(!body.contains('\u{202E}') && !body.contains('\u{0000}'), "{body:?}");
}

#[tokio::test]
async fn given_a_google_name_full_of_control_and_bidi_characters_then_a_clean_name_is_stored() {
    let app = TestApp::spawn().await;
    let email = unique("mallory");
    let token = google_sign_up(&app, &email, "\u{202E}Mallory\u{0000}\u{200F} \u{2066}Admin\u{2069}\r\n\u{0007}").await;
    let me = app.get("/users/me", &token).await;
    assert_eq!(me.body["name"], "Mallory Admin", "{:?}", me.body);

    // The member list shows it as stored.
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Physics").await;
    let added = app.post(&format!("/spaces/{space}/members"), &ana.token, json!({ "email": email })).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["name"], "Mallory Admin");
    let members = app.all_pages(&format!("/spaces/{space}/members"), &ana.token, 100).await.0;
    let shown = members.iter().find(|m| m["email"] == email.as_str()).expect("listed");
    assert_eq!(shown["name"], "Mallory Admin");

    // Nothing usable left (and the browser sign-in, through the callback): the address's local part.
    let blank = unique("nobody");
    let signed_in = app.browser_sign_in(&blank, "\u{202E}\u{2066}\u{200B} \u{0001}").await;
    let me = app.get("/users/me", &signed_in.access_token).await;
    let local = blank.split('@').next().expect("local part");
    assert_eq!(me.body["name"], local, "{:?}", me.body);
    let long = unique("long");
    let signed_in = app.browser_sign_in(&long, &"\u{00e9}\u{202D}".repeat(400)).await;
    let me = app.get("/users/me", &signed_in.access_token).await;
    assert_eq!(me.body["name"].as_str().map(|n| n.chars().count()), Some(200), "cut to a PersonName");
}

#[tokio::test]
async fn given_a_removed_student_then_no_code_brings_them_back_until_the_host_invites_them_again() {
    let app = TestApp::spawn().await;
    let (ana, bo) = (app.user("Ana").await, app.user("Bo").await);
    let space = app.space(&ana, "Algebra").await;
    let code = code_for(&app, &space, &ana).await;
    assert_eq!(accept(&app, &code, &bo).await.status, StatusCode::OK);
    // An e-mail invitation made before the removal (never used: Bo joined with the code).
    let early = invite(&app, &space, &ana, json!({ "emails": [bo.email()] })).await;
    let early = early.body["items"][0]["code"].as_str().expect("code").to_owned();

    assert_eq!(remove(&app, &space, &ana, &bo).await.status, StatusCode::NO_CONTENT);
    let again = accept(&app, &code, &bo).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{:?}", again.body);
    assert_eq!(again.code(), "removed_from_space");
    assert_eq!(again.header("content-type"), Some("application/problem+json"));
    let fresh = code_for(&app, &space, &ana).await;
    assert_eq!(accept(&app, &fresh, &bo).await.code(), "removed_from_space", "any code, new ones too");
    assert_eq!(accept(&app, &early, &bo).await.code(), "removed_from_space", "an invitation from before");
    assert_eq!(app.get(&format!("/spaces/{space}"), &bo.token).await.status, StatusCode::NOT_FOUND);

    // The host invites Bo's address again: that invitation admits them.
    let invited = invite(&app, &space, &ana, json!({ "emails": [bo.email()] })).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    let personal = invited.body["items"][0]["code"].as_str().expect("code").to_owned();
    let back = accept(&app, &personal, &bo).await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    assert_eq!(back.body["role"], "participant");

    // Removed again, then added by the host: back as well, and the code works after a leave.
    assert_eq!(remove(&app, &space, &ana, &bo).await.status, StatusCode::NO_CONTENT);
    assert_eq!(accept(&app, &fresh, &bo).await.code(), "removed_from_space");
    app.join(&space, &ana, &bo).await;
    assert_eq!(remove(&app, &space, &bo, &bo).await.status, StatusCode::NO_CONTENT, "Bo leaves");
    assert_eq!(accept(&app, &fresh, &bo).await.status, StatusCode::OK, "the host's addition lifted the removal");
}

#[tokio::test]
async fn given_a_member_who_left_then_they_rejoin_with_a_code() {
    let app = TestApp::spawn().await;
    let (ana, bo) = (app.user("Ana").await, app.user("Bo").await);
    let space = app.space(&ana, "Geometry").await;
    let code = code_for(&app, &space, &ana).await;
    assert_eq!(accept(&app, &code, &bo).await.status, StatusCode::OK);
    assert_eq!(remove(&app, &space, &bo, &bo).await.status, StatusCode::NO_CONTENT);
    let back = accept(&app, &code, &bo).await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    assert_eq!(back.body["spaceId"], space.as_str());
}

#[tokio::test]
async fn given_a_co_host_demoted_removed_or_gone_then_the_codes_they_made_stop_working_and_are_listed_withdrawn() {
    let app = TestApp::spawn().await;
    let (ana, bo, cy, dee) = (app.user("Ana").await, app.user("Bo").await, app.user("Cy").await, app.user("Dee").await);
    let space = app.space(&ana, "Biology").await;
    for who in [&bo, &cy] {
        app.join(&space, &ana, who).await;
        app.promote(&space, &ana, who).await;
    }
    let (bo_code, cy_code, ana_code) =
        (code_for(&app, &space, &bo).await, code_for(&app, &space, &cy).await, code_for(&app, &space, &ana).await);
    let newcomer = app.user("Eve").await;

    // Bo is demoted: his code is withdrawn at once; the host's stays open.
    set_role(&app, &space, &ana, &bo, "participant").await;
    let refused = accept(&app, &bo_code, &newcomer).await;
    assert_eq!(refused.status, StatusCode::GONE, "{:?}", refused.body);
    assert_eq!(refused.code(), "invitation_revoked");
    // Cy is removed by the host: the same.
    assert_eq!(remove(&app, &space, &ana, &cy).await.status, StatusCode::NO_CONTENT);
    assert_eq!(accept(&app, &cy_code, &newcomer).await.code(), "invitation_revoked");
    assert_eq!(accept(&app, &ana_code, &newcomer).await.status, StatusCode::OK);

    let items = listed(&app, &space, &ana).await;
    let of = |code: &str| items.iter().find(|i| i["code"] == code).cloned().expect("listed");
    for (code, creator) in [(&bo_code, &bo), (&cy_code, &cy)] {
        let i = of(code);
        assert_eq!(
            (i["status"].clone(), i["revokedBecause"].clone()),
            (json!("revoked"), json!("creator_not_manager"))
        );
        assert_eq!(i["createdBy"], creator.id().as_str());
    }
    assert_eq!(of(&ana_code)["status"], "open");
    assert!(of(&ana_code).get("revokedBecause").is_none());

    // A co-host who leaves takes their codes along too.
    app.join(&space, &ana, &dee).await;
    app.promote(&space, &ana, &dee).await;
    let dee_code = code_for(&app, &space, &dee).await;
    assert_eq!(remove(&app, &space, &dee, &dee).await.status, StatusCode::NO_CONTENT);
    assert_eq!(accept(&app, &dee_code, &app.user("Fay").await).await.code(), "invitation_revoked");
}

#[tokio::test]
async fn given_a_code_whose_creator_no_longer_manages_then_accepting_is_refused_even_before_it_is_withdrawn() {
    let app = TestApp::spawn().await;
    let (ana, bo) = (app.user("Ana").await, app.user("Bo").await);
    let space = app.space(&ana, "History").await;
    app.join(&space, &ana, &bo).await;
    app.promote(&space, &ana, &bo).await;
    let code = code_for(&app, &space, &bo).await;
    // Bo's role changes under the routes (as between a demotion and its withdrawal of his codes).
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("SPACE#{space}")))
        .key("SK", AttributeValue::S(format!("MEMBER#{}", bo.id())))
        .update_expression("SET #role = :p")
        .expression_attribute_names("#role", "role")
        .expression_attribute_values(":p", AttributeValue::S("participant".into()))
        .send()
        .await
        .expect("role changed");
    let refused = accept(&app, &code, &app.user("Cy").await).await;
    assert_eq!(refused.status, StatusCode::GONE, "{:?}", refused.body);
    assert_eq!(refused.code(), "invitation_revoked");
}

#[tokio::test]
async fn given_codes_in_every_state_then_the_managers_list_says_which_are_open_and_who_made_them() {
    let app = TestApp::spawn().await;
    let (ana, bo, cy) = (app.user("Ana").await, app.user("Bo").await, app.user("Cy").await);
    let space = app.space(&ana, "Music").await;
    let open = code_for(&app, &space, &ana).await;
    let once = invite(&app, &space, &ana, json!({ "maxUses": 1 })).await.body["items"][0].clone();
    assert_eq!(accept(&app, once["code"].as_str().expect("code"), &bo).await.status, StatusCode::OK);
    let withdrawn = invite(&app, &space, &ana, json!({})).await.body["items"][0].clone();
    let path = format!("/spaces/{space}/invitations/{}", withdrawn["invitationId"].as_str().expect("id"));
    assert_eq!(app.call(Method::DELETE, &path, Some(&ana.token), None).await.status, StatusCode::NO_CONTENT);
    app.join(&space, &ana, &cy).await;
    app.promote(&space, &ana, &cy).await;
    let cys = code_for(&app, &space, &cy).await;

    let items = listed(&app, &space, &ana).await;
    let state = |code: &str| {
        let i = items.iter().find(|i| i["code"] == code).expect("listed");
        (i["status"].as_str().unwrap_or("").to_owned(), i["createdBy"].as_str().unwrap_or("").to_owned())
    };
    assert_eq!(state(&open), ("open".to_owned(), ana.id()));
    assert_eq!(state(once["code"].as_str().expect("code")), ("used_up".to_owned(), ana.id()));
    assert_eq!(state(withdrawn["code"].as_str().expect("code")), ("revoked".to_owned(), ana.id()));
    assert_eq!(state(&cys), ("open".to_owned(), cy.id()));
    let by_hand = items.iter().find(|i| i["code"] == withdrawn["code"]).expect("listed");
    assert_eq!(by_hand["revokedBecause"], "withdrawn");
    assert!(items.iter().all(|i| i["inviterName"].is_string()));
}
