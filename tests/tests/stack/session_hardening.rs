//! Sessions hardened (issue 25): the `__Host-` refresh cookie and two of them refused, a recent
//! sign-in (`auth_time`) to delete an account or a space, logout with the refresh token alone,
//! and a deleted account's still-valid access token writing nothing anywhere.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use vivid_domain::{
    error::{Guard, StoreError},
    sessions::{Family, RefreshRecord, SessionStore, hash_secret, random_token},
    spaces::{Membership, Role, SpaceStore},
    types::{UserId, now_rfc3339, unix_now},
};
use vivid_local::infra::faults::{Fault, FaultRule};
use vivid_tests::{Reply, TestApp, TestUser, cookie_value, pk, set_cookies};

const COOKIE: &str = "__Host-vivid_refresh";

/// `POST path` with a `Cookie` header (and an access token, when given), as a browser sends it.
async fn with_cookie(app: &TestApp, path: &str, cookie: &str, token: Option<&str>) -> (Reply, Vec<String>) {
    let mut req = app.http.post(format!("{}{path}", app.base)).header("cookie", cookie);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let cookies = set_cookies(resp.headers());
    (TestApp::reply(resp).await, cookies)
}

async fn refresh(app: &TestApp, token: &str) -> Reply {
    app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": token }))).await
}

/// The claims of a JWT, unverified (the test reads what the API signed).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie.split(';').skip(1).map(|a| a.trim().to_owned()).collect()
}

fn www_authenticate(headers: &HeaderMap) -> Option<&str> {
    headers.get("www-authenticate").and_then(|v| v.to_str().ok())
}

// ---- the refresh cookie -----------------------------------------------------------------------

#[tokio::test]
async fn given_a_browser_sign_in_then_the_refresh_cookie_is_host_prefixed_and_two_of_them_are_refused() {
    let app = TestApp::spawn().await;
    let ana = app.browser_sign_in("ana@example.com", "Ana").await;
    let set = ana.set_cookies.iter().find(|c| c.starts_with(&format!("{COOKIE}="))).expect("the refresh cookie");
    let attrs = attributes(set);
    for required in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(attrs.iter().any(|a| a == required), "{set} lacks {required}");
    }
    assert!(!attrs.iter().any(|a| a.to_lowercase().starts_with("domain")), "host-only, as __Host- requires: {set}");

    // An attacker's session planted beside Ana's (a sibling subdomain, a browser without prefix
    // support): whichever comes first, the refresh is refused, nothing rotates.
    let mallory = app.browser_sign_in("mallory@example.com", "Mallory").await;
    for pair in [[&ana.refresh_cookie, &mallory.refresh_cookie], [&mallory.refresh_cookie, &ana.refresh_cookie]] {
        let header = format!("{COOKIE}={}; {COOKIE}={}", pair[0], pair[1]);
        let (r, cookies) = with_cookie(&app, "/auth/refresh", &header, None).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "ambiguous_cookie"), "{:?}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert!(r.body.get("accessToken").is_none() && cookies.is_empty(), "no session chosen: {cookies:?}");
    }
    // Neither token was used: each still refreshes once, by its cookie alone.
    let (r, cookies) = with_cookie(&app, "/auth/refresh", &format!("{COOKIE}={}", ana.refresh_cookie), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(claims(r.body["accessToken"].as_str().expect("access"))["sub"], claims(&ana.access_token)["sub"]);
    assert!(cookie_value(&cookies, COOKIE).is_some_and(|v| v != ana.refresh_cookie), "rotated: {cookies:?}");
    assert_eq!(refresh(&app, &mallory.refresh_cookie).await.status, StatusCode::OK);
}

#[tokio::test]
async fn given_a_refresh_cookie_of_the_old_name_then_it_is_not_read_and_is_cleared() {
    let app = TestApp::spawn().await;
    let ana = app.browser_sign_in("ana@example.com", "Ana").await;
    // A browser signed in before the prefix: its cookie is `vivid_refresh` (Path=/auth).
    let (r, cookies) = with_cookie(&app, "/auth/refresh", &format!("vivid_refresh={}", ana.refresh_cookie), None).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{:?}", r.body);
    let cleared = cookies.iter().find(|c| c.starts_with("vivid_refresh=;")).expect("the old cookie is cleared");
    let attrs = attributes(cleared);
    assert!(attrs.iter().any(|a| a == "Max-Age=0") && attrs.iter().any(|a| a == "Path=/auth"), "{cleared}");
    // Beside a cookie of the new name, the old one changes nothing: the new one is used.
    let both = format!("vivid_refresh=stale; {COOKIE}={}", ana.refresh_cookie);
    let (r, cookies) = with_cookie(&app, "/auth/refresh", &both, None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(cookie_value(&cookies, COOKIE).is_some(), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("vivid_refresh=;")), "{cookies:?}");
    // Signing in again clears an old cookie too.
    let pending = app.start_login(None).await;
    let callback = app.approve_at_google(&pending, "ana@example.com", "Ana", true).await;
    let resp = app
        .http
        .get(&callback)
        .header("cookie", format!("vivid_login={}; vivid_refresh=stale", pending.login_cookie))
        .send()
        .await
        .expect("callback");
    assert_eq!(resp.status(), StatusCode::FOUND);
    let cookies = set_cookies(resp.headers());
    assert!(cookie_value(&cookies, COOKIE).is_some_and(|v| !v.is_empty()), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("vivid_refresh=;") && c.contains("Path=/auth")), "{cookies:?}");
}

// ---- logout -----------------------------------------------------------------------------------

#[tokio::test]
async fn given_an_expired_access_token_when_logging_out_with_the_cookie_then_the_session_ends() {
    let app = TestApp::spawn().await;
    let ana = app.browser_sign_in("ana@example.com", "Ana").await;
    let other = app.browser_sign_in("ana@example.com", "Ana").await;
    let sub = claims(&ana.access_token)["sub"].as_str().expect("sub").parse::<UserId>().expect("user id");
    let expired = app
        .stack
        .issuer
        .issue_with(&sub, &"ana@example.com".parse().expect("email"), "access", unix_now() - 3600, 900)
        .expect("token")
        .token;
    assert_eq!(app.get("/users/me", &expired).await.status, StatusCode::UNAUTHORIZED, "it is expired");

    let (r, cookies) =
        with_cookie(&app, "/auth/logout", &format!("{COOKIE}={}", ana.refresh_cookie), Some(&expired)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let cleared = cookies.iter().find(|c| c.starts_with(&format!("{COOKIE}=;"))).expect("cleared");
    assert!(attributes(cleared).iter().any(|a| a == "Max-Age=0"), "{cleared}");
    assert_eq!(refresh(&app, &ana.refresh_cookie).await.status, StatusCode::UNAUTHORIZED, "the session ended");
    // Only that session: the other browser stays signed in.
    assert_eq!(refresh(&app, &other.refresh_cookie).await.status, StatusCode::OK);

    // Two cookies (say one planted beside the browser's own): logging out ends both sessions.
    let (a, b) = (app.browser_sign_in("bo@example.com", "Bo").await, app.browser_sign_in("cy@example.com", "Cy").await);
    let header = format!("{COOKIE}={}; {COOKIE}={}", a.refresh_cookie, b.refresh_cookie);
    let (r, _) = with_cookie(&app, "/auth/logout", &header, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    for token in [&a.refresh_cookie, &b.refresh_cookie] {
        assert_eq!(refresh(&app, token).await.status, StatusCode::UNAUTHORIZED);
    }
    // Signing out twice, or with nothing: still 204.
    let (r, _) = with_cookie(&app, "/auth/logout", &format!("{COOKIE}={}", ana.refresh_cookie), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

// ---- step-up: a recent sign-in for what cannot be undone --------------------------------------

/// The RFC 9470 refusal of a token whose sign-in is not recent enough.
fn assert_step_up(r: &Reply, what: &str) {
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "reauthentication_required"), "{what}: {:?}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{what}");
    assert_eq!(
        www_authenticate(&r.headers),
        Some(r#"Bearer error="insufficient_user_authentication", max_age="600""#),
        "{what}"
    );
}

#[tokio::test]
async fn given_a_session_refreshed_then_every_token_carries_its_sign_in_time() {
    let app = TestApp::spawn().await;
    let g = &app.stack.google;
    let signed = app.google_token(&g.id_token(&g.claims_for("ana@example.com", "Ana"))).await;
    let first = claims(signed.body["accessToken"].as_str().expect("access"));
    let auth_time = first["auth_time"].as_u64().expect("auth_time");
    assert!(auth_time.abs_diff(unix_now()) <= 5, "the sign-in is now: {first}");
    let mut token = signed.body["refreshToken"].as_str().expect("refresh").to_owned();
    for _ in 0..2 {
        let r = refresh(&app, &token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let c = claims(r.body["accessToken"].as_str().expect("access"));
        assert_eq!((&c["auth_time"], &c["sid"]), (&first["auth_time"], &first["sid"]), "unchanged by a refresh");
        token = r.body["refreshToken"].as_str().expect("refresh").to_owned();
    }
}

/// A session of `user` signed in `age` seconds ago (its family's id, a ULID, says when), and its
/// refresh token: what a browser left signed in that long holds.
async fn session_signed_in_ago(app: &TestApp, user: &TestUser, age: u64) -> String {
    let at = unix_now() - age;
    let family_id = ulid::Ulid::from_parts(at * 1000, 7).to_string();
    let token = random_token().expect("random");
    let ends_at = at + 90 * 86_400;
    let family = Family {
        family_id: family_id.clone(),
        user_id: user.user.user_id.clone(),
        revoked: false,
        created_at: at,
        last_used_at: Some(unix_now()),
        expires_at: unix_now() + 86_400,
        ends_at: Some(ends_at),
        user_agent: None,
    };
    let record = RefreshRecord {
        token_hash: hash_secret(&token),
        family_id,
        user_id: user.user.user_id.clone(),
        email: user.user.email.clone(),
        expires_at: unix_now() + 86_400,
        family_ends_at: Some(ends_at),
        used_at: None,
        successor_hash: None,
        successor_sealed: None,
    };
    app.stack.table.start_family(&family, &record).await.expect("session stored");
    token
}

#[tokio::test]
async fn given_a_sign_in_older_than_ten_minutes_then_deleting_a_space_or_the_account_asks_to_sign_in_again() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let space = app.space(&ana, "Physics").await;
    app.join(&space, &ana, &bo).await;

    // A browser left signed in for a day: its refreshed access token is valid, its sign-in old.
    let refreshed = refresh(&app, &session_signed_in_ago(&app, &ana, 86_400).await).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{:?}", refreshed.body);
    let stale = refreshed.body["accessToken"].as_str().expect("access").to_owned();
    assert_eq!(app.get("/users/me", &stale).await.status, StatusCode::OK, "it reads and writes as before");
    let (user, email) = (&ana.user.user_id, &ana.user.email);
    let eleven_minutes = app.stack.issuer.issue_signed_in_at(user, email, unix_now() - 660).expect("token").token;
    // A token from before `auth_time` was issued names no sign-in.
    let unknown = app.stack.issuer.issue_with(user, email, "access", unix_now(), 900).expect("token").token;
    for (what, token) in [("refreshed", &stale), ("eleven minutes", &eleven_minutes), ("no auth_time", &unknown)] {
        assert_step_up(&app.call(Method::DELETE, &format!("/spaces/{space}"), Some(token), None).await, what);
        assert_step_up(&app.call(Method::DELETE, "/users/me", Some(token), None).await, what);
    }
    // Nothing was deleted.
    assert_eq!(app.get(&format!("/spaces/{space}"), &bo.token).await.status, StatusCode::OK);
    assert_eq!(app.get("/users/me", &ana.token).await.status, StatusCode::OK);
    // Asked only of whom the deletion would otherwise pass: a participant still gets 403.
    let bo_stale =
        app.stack.issuer.issue_signed_in_at(&bo.user.user_id, &bo.user.email, unix_now() - 660).expect("t").token;
    let r = app.call(Method::DELETE, &format!("/spaces/{space}"), Some(&bo_stale), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);

    // Signed in again (a token of a sign-in five minutes ago, then one of now): both go through.
    let five_minutes = app.stack.issuer.issue_signed_in_at(user, email, unix_now() - 300).expect("token").token;
    app.delete_and_wait(&format!("/spaces/{space}"), &five_minutes).await;
    let g = &app.stack.google;
    let again = app.google_token(&g.id_token(&g.claims_for("fresh@example.com", "Fresh"))).await;
    let fresh = again.body["accessToken"].as_str().expect("access");
    app.delete_and_wait("/users/me", fresh).await;
}

// ---- a deleted account's access token ---------------------------------------------------------

/// What Eve's token tries: join Bo's class by its code, create a space, create a video in the
/// space she hosts; and Bo adding her by e-mail.
async fn eve_tries(app: &TestApp, eve: &TestUser, bo: &TestUser, code: &str, bos: &str, eves: &str) -> Vec<Reply> {
    vec![
        app.call(Method::POST, &format!("/invitations/{code}/accept"), Some(&eve.token), None).await,
        app.post("/spaces", &eve.token, json!({ "name": "Late" })).await,
        app.post(
            &format!("/spaces/{eves}/videos"),
            &eve.token,
            json!({ "title": "Late", "fileName": "late.mp4", "contentType": "video/mp4", "sizeBytes": 1024 }),
        )
        .await,
        app.post(&format!("/spaces/{bos}/members"), &bo.token, json!({ "email": eve.email() })).await,
    ]
}

#[tokio::test]
async fn given_an_account_deleted_then_its_access_token_joins_creates_and_is_added_nowhere_before_or_after_the_worker()
{
    let app = TestApp::spawn().await;
    let eve = app.user("Eve").await;
    let bo = app.user("Bo").await;
    let bos = app.space(&bo, "Bo's class").await;
    let eves = app.space(&eve, "Eve's class").await;
    let r = app.post(&format!("/spaces/{bos}/invitations"), &bo.token, json!({ "maxUses": 5 })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let code = r.body["items"][0]["code"].as_str().expect("code").to_owned();
    // A video in each space Eve hosts: the worker's first step there (the upload's removal) will
    // fail, so her account stays marked while the test looks.
    for space in [&eves, &eve.user.personal_space_id.to_string()] {
        app.uploaded_video(space, &eve, vec![1u8; 64]).await;
    }
    app.indexes_settled().await;
    let faults = app.stack.faults();
    faults.add(FaultRule::s3("DeleteObject", Fault::ServerError).on(&app.stack.buckets.raw));
    let r = app.call(Method::DELETE, "/users/me", Some(&eve.token), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let counts = app.deletions_settled().await;
    assert_eq!(counts.exhausted, 1, "the worker gave up: the account is still being deleted ({counts:?})");

    let expect = |replies: &[Reply], video: (StatusCode, &str), when: &str| {
        let [accept, space, created, added] = replies else { panic!("four replies") };
        let deleted = (StatusCode::UNAUTHORIZED, "account_deleted");
        assert_eq!((accept.status, accept.code()), deleted, "{when}: accept {:?}", accept.body);
        assert_eq!((space.status, space.code()), deleted, "{when}: create a space {:?}", space.body);
        assert_eq!((created.status, created.code()), video, "{when}: create a video {:?}", created.body);
        assert_eq!((added.status, added.code()), (StatusCode::NOT_FOUND, "not_found"), "{when}: add {:?}", added.body);
        assert_eq!(
            added.body["detail"],
            "no account has this e-mail address: invite it instead (POST /spaces/{spaceId}/invitations)",
            "{when}: as an address never signed up"
        );
    };
    let before = eve_tries(&app, &eve, &bo, &code, &bos, &eves).await;
    expect(&before, (StatusCode::UNAUTHORIZED, "account_deleted"), "while being deleted");
    // The membership's own transaction refuses her too (a host who read her account a moment
    // before its deletion began).
    let membership = Membership {
        space_id: bos.parse().expect("space id"),
        user_id: eve.user.user_id.clone(),
        role: Role::Participant,
        personal: false,
        joined_at: now_rfc3339(),
    };
    let added = SpaceStore::add_member(app.stack.table.as_ref(), &membership).await;
    assert!(matches!(added, Err(StoreError::Condition(Guard::Account))), "{added:?}");
    app.indexes_settled().await;
    let members = app.get(&format!("/spaces/{bos}/members"), &bo.token).await;
    assert_eq!(members.body["items"].as_array().map(Vec::len), Some(1), "Bo alone: {:?}", members.body);

    // The worker finishes (its failed run replayed); the token still verifies and does nothing.
    faults.clear();
    assert_eq!(app.replay_failed_events().await, 1);
    assert_eq!(app.deletions_settled().await.exhausted, 1, "the replay did not fail");
    let after = eve_tries(&app, &eve, &bo, &code, &bos, &eves).await;
    // Her space is gone with her: the video's route finds no space.
    expect(&after, (StatusCode::NOT_FOUND, "not_found"), "after the worker");
    let left: Vec<String> = app
        .scan_all()
        .await
        .iter()
        .filter(|i| format!("{i:?}").contains(&eve.id()))
        .map(|i| pk(i).to_owned())
        .collect();
    assert!(left.is_empty(), "nothing of Eve's account is left or came back: {left:?}");
    assert_eq!(app.get(&format!("/spaces/{bos}"), &bo.token).await.body["memberCount"], 1);
}
