//! Sessions (issue 14, account edges): the refresh grace window for two tabs without weakening
//! reuse detection, the absolute session lifetime, `GET`/`DELETE /users/me/sessions`, and a
//! deleted account's still-valid access token connecting nothing.
//!
//! Time is moved by editing the table (a token's `usedAt`, a family's `endsAt`) where waiting
//! would make a test slow; one test waits the real grace out.

use std::{collections::HashMap, time::Duration};

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::{
    sessions::{REFRESH_GRACE_SECS, SESSION_LIFETIME_SECS, hash_secret},
    types::unix_now,
};
use vivid_local::stack::{LOCAL_AUDIENCE, LOCAL_ISSUER};
use vivid_tests::{Reply, TestApp, cookie_value, pk, query_param, set_cookies};
use vivid_tokens::TokenAudience;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// One sign-in (a session): its tokens and its user.
#[derive(Debug, Clone)]
struct Signed {
    access: String,
    refresh: String,
    user_id: String,
}

/// `POST /auth/google` for `email` from a client announcing `agent`.
async fn sign_in(app: &TestApp, email: &str, agent: &str) -> Signed {
    let token = app.stack.google.id_token(&app.stack.google.claims_for(email, "Someone"));
    let resp = app
        .http
        .post(format!("{}/auth/google", app.base))
        .header("user-agent", agent)
        .json(&json!({ "idToken": token }))
        .send()
        .await
        .expect("sign-in");
    let r = TestApp::reply(resp).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    Signed {
        access: r.body["accessToken"].as_str().expect("access").to_owned(),
        refresh: r.body["refreshToken"].as_str().expect("refresh").to_owned(),
        user_id: r.body["user"]["userId"].as_str().expect("userId").to_owned(),
    }
}

/// `POST /auth/refresh` with the token in the body.
async fn refresh(app: &TestApp, token: &str) -> Reply {
    app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": token }))).await
}

/// `POST /auth/refresh` with the token in the cookie, as a browser tab: the status and the
/// rotated cookie.
async fn refresh_by_cookie(app: &TestApp, token: &str) -> (StatusCode, Option<String>, Value) {
    let resp = app
        .http
        .post(format!("{}/auth/refresh", app.base))
        .header("cookie", format!("__Host-vivid_refresh={token}"))
        .send()
        .await
        .expect("refresh");
    let cookie = cookie_value(&set_cookies(resp.headers()), "__Host-vivid_refresh");
    let r = TestApp::reply(resp).await;
    (r.status, cookie, r.body)
}

fn new_refresh(r: &Reply) -> String {
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["refreshToken"].as_str().expect("refresh token").to_owned()
}

/// The claims of a JWT (unverified: the server verified it).
fn claims(jwt: &str) -> Value {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

async fn item(app: &TestApp, pk: &str, sk: &str) -> Option<HashMap<String, AttributeValue>> {
    let key = HashMap::from([
        ("PK".to_owned(), AttributeValue::S(pk.into())),
        ("SK".to_owned(), AttributeValue::S(sk.into())),
    ]);
    app.dynamo()
        .get_item()
        .table_name(&app.table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
}

fn number(item: &HashMap<String, AttributeValue>, attr: &str) -> Option<u64> {
    item.get(attr).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

/// `SET attr = value` (or `REMOVE attr` with `None`) on one item, behind the API's back.
async fn edit(app: &TestApp, pk: &str, sk: &str, attr: &str, value: Option<AttributeValue>) {
    let key = HashMap::from([
        ("PK".to_owned(), AttributeValue::S(pk.into())),
        ("SK".to_owned(), AttributeValue::S(sk.into())),
    ]);
    let req = app
        .dynamo()
        .update_item()
        .table_name(&app.table)
        .set_key(Some(key))
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#a", attr);
    let req = match value {
        Some(v) => req.update_expression("SET #a = :v").expression_attribute_values(":v", v),
        None => req.update_expression("REMOVE #a"),
    };
    req.send().await.expect("edit");
}

fn token_pk(token: &str) -> String {
    format!("REFRESH#{}", hash_secret(token))
}

/// The session (family) id of a sign-in, from its access token's `sid`.
fn session_of(s: &Signed) -> String {
    claims(&s.access)["sid"].as_str().expect("sid").to_owned()
}

async fn sessions(app: &TestApp, access: &str) -> Vec<Value> {
    // Sessions are listed from an index: a sign-in shows there once the index caught up.
    app.indexes_settled().await;
    let r = app.get("/users/me/sessions", access).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

async fn end_sessions(app: &TestApp, access: Option<&str>, query: &str) -> (Reply, Vec<String>) {
    let mut req = app.http.delete(format!("{}/users/me/sessions{query}", app.base));
    if let Some(t) = access {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("delete sessions");
    let cookies = set_cookies(resp.headers());
    (TestApp::reply(resp).await, cookies)
}

// ---- the grace window ------------------------------------------------------------------------

#[tokio::test]
async fn given_two_tabs_refreshing_one_token_within_the_grace_then_both_get_the_same_new_token() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    // Tab 1 rotates; tab 2 comes a moment later with the token both tabs held.
    let r1 = new_refresh(&refresh(&app, &ana.refresh).await);
    let second = refresh(&app, &ana.refresh).await;
    assert_eq!(new_refresh(&second), r1, "the second tab gets the same successor, not a branch of its own");
    assert_eq!(second.header("cache-control"), Some("no-store"));
    let access = second.body["accessToken"].as_str().expect("access");
    assert_eq!(app.get("/users/me", access).await.status, StatusCode::OK);
    assert_eq!(claims(access)["sid"], session_of(&ana).as_str(), "the same session");
    // The one chain goes on: its next rotation works, and the session is still one session.
    let r2 = new_refresh(&refresh(&app, &r1).await);
    assert_ne!(r2, r1);
    assert_eq!(sessions(&app, access).await.len(), 1);
}

#[tokio::test]
async fn given_two_tabs_refreshing_through_the_cookie_at_the_same_moment_then_both_succeed() {
    let app = TestApp::spawn().await;
    for round in 0..3 {
        let email = format!("tabs{round}@example.com");
        let s = sign_in(&app, &email, FIREFOX).await;
        let (a, b) = tokio::join!(refresh_by_cookie(&app, &s.refresh), refresh_by_cookie(&app, &s.refresh));
        assert_eq!(a.0, StatusCode::OK, "{:?}", a.2);
        assert_eq!(b.0, StatusCode::OK, "{:?}", b.2);
        assert!(a.2.get("refreshToken").is_none() && b.2.get("refreshToken").is_none(), "cookie flow: not in the body");
        let (ca, cb) = (a.1.expect("cookie"), b.1.expect("cookie"));
        assert_eq!(ca, cb, "both tabs hold the one new token");
        let (next, _, _) = refresh_by_cookie(&app, &ca).await;
        assert_eq!(next, StatusCode::OK, "the shared token rotates on");
    }
}

#[tokio::test]
async fn given_the_grace_has_passed_when_the_rotated_token_comes_a_third_time_then_both_tabs_are_signed_out() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let r1 = new_refresh(&refresh(&app, &ana.refresh).await);
    assert_eq!(new_refresh(&refresh(&app, &ana.refresh).await), r1, "second tab, within the grace");
    // The real clock, past the grace.
    tokio::time::sleep(Duration::from_secs(REFRESH_GRACE_SECS + 2)).await;
    let third = refresh(&app, &ana.refresh).await;
    assert_eq!(third.status, StatusCode::UNAUTHORIZED, "{:?}", third.body);
    assert_eq!(third.code(), "unauthenticated");
    assert_eq!(refresh(&app, &r1).await.status, StatusCode::UNAUTHORIZED, "the family is revoked: both tabs are out");
    assert!(sessions(&app, &ana.access).await.is_empty(), "no live session is left");
}

#[tokio::test]
async fn given_a_rotated_token_replayed_after_the_grace_then_the_family_is_revoked() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let r1 = new_refresh(&refresh(&app, &ana.refresh).await);
    // The rotation happened a minute ago.
    let used = unix_now() - 60;
    edit(&app, &token_pk(&ana.refresh), "REFRESH", "usedAt", Some(AttributeValue::N(used.to_string()))).await;
    assert_eq!(refresh(&app, &ana.refresh).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &r1).await.status, StatusCode::UNAUTHORIZED, "reuse still revokes the whole family");
    let family = item(&app, &format!("FAMILY#{}", session_of(&ana)), "FAMILY").await.expect("family");
    assert_eq!(family.get("revoked"), Some(&AttributeValue::Bool(true)));
}

#[tokio::test]
async fn given_the_successor_was_used_when_the_rotated_token_comes_within_the_grace_then_the_family_is_revoked() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let r1 = new_refresh(&refresh(&app, &ana.refresh).await);
    let r2 = new_refresh(&refresh(&app, &r1).await);
    // r0 again, seconds later: the chain has moved on, so this is no second tab.
    assert_eq!(refresh(&app, &ana.refresh).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &r2).await.status, StatusCode::UNAUTHORIZED);
    // And a second grace use of r1 (rotated, its successor used) revokes too.
    let bo = sign_in(&app, "bo@example.com", FIREFOX).await;
    let b1 = new_refresh(&refresh(&app, &bo.refresh).await);
    assert_eq!(new_refresh(&refresh(&app, &bo.refresh).await), b1);
    let b2 = new_refresh(&refresh(&app, &b1).await);
    assert_eq!(refresh(&app, &bo.refresh).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &b2).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn given_a_logged_out_session_when_a_second_tab_comes_within_the_grace_then_it_is_refused() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let rotated = refresh(&app, &ana.refresh).await;
    let r1 = new_refresh(&rotated);
    let access = rotated.body["accessToken"].as_str().expect("access");
    let out = app.call(Method::POST, "/auth/logout", Some(access), Some(json!({ "refreshToken": r1 }))).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(refresh(&app, &ana.refresh).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &r1).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn given_an_edited_sealed_successor_then_no_token_comes_out_of_it_and_the_family_is_revoked() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let r1 = new_refresh(&refresh(&app, &ana.refresh).await);
    let old = item(&app, &token_pk(&ana.refresh), "REFRESH").await.expect("rotated token");
    // Only hashes and the sealed value are stored: the successor itself is nowhere in the table.
    assert!(!app.scan_all().await.iter().any(|i| format!("{i:?}").contains(&r1)), "a refresh token in clear");
    let sealed = old.get("successorSealed").and_then(|v| v.as_s().ok()).expect("sealed successor").clone();
    assert_eq!(old.get("successorHash").and_then(|v| v.as_s().ok()), Some(&hash_secret(&r1)));
    let mut edited = sealed.into_bytes();
    edited[0] = if edited[0] == b'A' { b'B' } else { b'A' };
    let edited = String::from_utf8(edited).expect("ascii");
    edit(&app, &token_pk(&ana.refresh), "REFRESH", "successorSealed", Some(AttributeValue::S(edited))).await;
    assert_eq!(refresh(&app, &ana.refresh).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &r1).await.status, StatusCode::UNAUTHORIZED);
}

// ---- the absolute lifetime -------------------------------------------------------------------

#[tokio::test]
async fn given_a_sign_in_then_its_session_ends_ninety_days_later_however_often_it_slides() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let family_pk = format!("FAMILY#{}", session_of(&ana));
    let family = item(&app, &family_pk, "FAMILY").await.expect("family");
    let (created, ends) =
        (number(&family, "createdAt").expect("createdAt"), number(&family, "endsAt").expect("endsAt"));
    assert_eq!(ends - created, SESSION_LIFETIME_SECS);
    assert_eq!(SESSION_LIFETIME_SECS, 90 * 24 * 3600);
    // A refresh slides the session but never moves its end.
    let r1 = new_refresh(&refresh(&app, &ana.refresh).await);
    let family = item(&app, &family_pk, "FAMILY").await.expect("family");
    assert_eq!(number(&family, "endsAt"), Some(ends));
    assert!(number(&family, "expiresAt").is_some_and(|e| e <= ends));
    // Its end comes: the next refresh is refused, although the token itself has not expired.
    edit(&app, &family_pk, "FAMILY", "endsAt", Some(AttributeValue::N((unix_now() - 1).to_string()))).await;
    let r = refresh(&app, &r1).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    assert!(sessions(&app, &ana.access).await.is_empty(), "an ended session is not listed");
    // Within the grace, an ended session gives nothing either.
    assert_eq!(refresh(&app, &ana.refresh).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn given_a_session_ending_within_the_hour_then_the_refresh_cookie_does_not_outlive_it() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let ends = unix_now() + 3600;
    edit(&app, &format!("FAMILY#{}", session_of(&ana)), "FAMILY", "endsAt", Some(AttributeValue::N(ends.to_string())))
        .await;
    edit(&app, &token_pk(&ana.refresh), "REFRESH", "familyEndsAt", Some(AttributeValue::N(ends.to_string()))).await;
    let resp = app
        .http
        .post(format!("{}/auth/refresh", app.base))
        .header("cookie", format!("__Host-vivid_refresh={}", ana.refresh))
        .send()
        .await
        .expect("refresh");
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie =
        set_cookies(resp.headers()).into_iter().find(|c| c.starts_with("__Host-vivid_refresh=")).expect("cookie");
    let max_age: u64 = cookie
        .split(';')
        .find_map(|a| a.trim().strip_prefix("Max-Age="))
        .and_then(|v| v.parse().ok())
        .expect("Max-Age");
    assert!((3500..=3600).contains(&max_age), "the cookie ends with its session: {cookie}");
}

#[tokio::test]
async fn given_a_session_from_before_absolute_lifetimes_then_its_next_refresh_starts_its_ninety_days() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let family_pk = format!("FAMILY#{}", session_of(&ana));
    for attr in ["endsAt", "createdAt"] {
        edit(&app, &family_pk, "FAMILY", attr, None).await;
    }
    edit(&app, &token_pk(&ana.refresh), "REFRESH", "familyEndsAt", None).await;
    let listed = sessions(&app, &ana.access).await;
    assert_eq!(listed.len(), 1, "still live");
    assert!(listed[0]["createdAt"].is_string(), "the sign-in time comes from the session id");
    let before = unix_now();
    let r1 = new_refresh(&refresh(&app, &ana.refresh).await);
    let ends = number(&item(&app, &family_pk, "FAMILY").await.expect("family"), "endsAt").expect("endsAt set");
    assert!(ends >= before + SESSION_LIFETIME_SECS && ends <= unix_now() + SESSION_LIFETIME_SECS);
    assert_eq!(refresh(&app, &r1).await.status, StatusCode::OK);
}

// ---- GET /users/me/sessions ------------------------------------------------------------------

#[tokio::test]
async fn given_two_sign_ins_when_listing_then_two_sessions_and_the_current_one_marked() {
    let app = TestApp::spawn().await;
    let laptop = sign_in(&app, "ana@example.com", FIREFOX).await;
    let phone = sign_in(&app, "ana@example.com", SAFARI).await;
    assert_eq!(laptop.user_id, phone.user_id);
    app.indexes_settled().await;
    let r = app.get("/users/me/sessions", &laptop.access).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let items = r.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(r.body.get("nextCursor").is_none());
    // Newest first: the phone, then the laptop (this request's own session).
    assert_eq!(items[0]["sessionId"], session_of(&phone).as_str());
    assert_eq!(items[1]["sessionId"], session_of(&laptop).as_str());
    assert_eq!(items[0]["current"], false);
    assert_eq!(items[1]["current"], true);
    assert_eq!(items[0]["userAgent"], "Safari on iOS");
    assert_eq!(items[1]["userAgent"], "Firefox on Linux");
    for s in &items {
        for field in ["createdAt", "lastUsedAt", "expiresAt", "endsAt"] {
            let t = s[field].as_str().unwrap_or_else(|| panic!("{field} in {s}"));
            assert!(t.ends_with('Z') && t.contains('T'), "{field}: {t}");
        }
    }
    // The phone's view marks the phone.
    let from_phone = sessions(&app, &phone.access).await;
    assert_eq!(from_phone.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(from_phone[0]["current"], true);
    // A refresh through another client moves lastUsedAt and the client summary.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resp = app
        .http
        .post(format!("{}/auth/refresh", app.base))
        .header("user-agent", "curl/8.8.0")
        .json(&json!({ "refreshToken": laptop.refresh }))
        .send()
        .await
        .expect("refresh");
    let rotated = TestApp::reply(resp).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let access = rotated.body["accessToken"].as_str().expect("access");
    let after = sessions(&app, access).await;
    let laptop_now = after.iter().find(|s| s["sessionId"] == session_of(&laptop).as_str()).expect("listed");
    assert_eq!(laptop_now["current"], true, "the refreshed access token names the same session");
    assert_eq!(laptop_now["userAgent"], "curl");
    assert!(laptop_now["lastUsedAt"].as_str() > items[1]["lastUsedAt"].as_str());
    // Logging one out removes it from the list.
    let out = app
        .call(Method::POST, "/auth/logout", Some(&phone.access), Some(json!({ "refreshToken": phone.refresh })))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let left = sessions(&app, access).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["sessionId"], session_of(&laptop).as_str());
}

#[tokio::test]
async fn given_sessions_of_two_people_then_each_sees_only_their_own() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let _ana_phone = sign_in(&app, "ana@example.com", SAFARI).await;
    let bo = sign_in(&app, "bo@example.com", FIREFOX).await;
    let bos = sessions(&app, &bo.access).await;
    assert_eq!(bos.len(), 1);
    assert_eq!(bos[0]["sessionId"], session_of(&bo).as_str());
    assert_eq!(sessions(&app, &ana.access).await.len(), 2);
    // A user who never signed in through Google (a development token) has no session, and no
    // current one.
    let cy = app.user("Cy").await;
    assert!(sessions(&app, &cy.token).await.is_empty());
    // Ana's cursor is hers: Bo cannot page through Ana's sessions with it.
    let page = app.get("/users/me/sessions?limit=1", &ana.access).await;
    let cursor = page.body["nextCursor"].as_str().expect("a second page").to_owned();
    let foreign = app.get(&format!("/users/me/sessions?limit=1&cursor={cursor}"), &bo.access).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    assert_eq!(foreign.code(), "invalid_cursor");
}

#[tokio::test]
async fn given_many_sessions_when_paging_then_every_live_one_comes_once() {
    let app = TestApp::spawn().await;
    let mut signed = Vec::new();
    for _ in 0..5 {
        signed.push(sign_in(&app, "ana@example.com", FIREFOX).await);
    }
    // Two of them are logged out: pages skip them.
    for s in &signed[1..3] {
        let r =
            app.call(Method::POST, "/auth/logout", Some(&s.access), Some(json!({ "refreshToken": s.refresh }))).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    app.indexes_settled().await;
    let (items, pages) = app.all_pages("/users/me/sessions", &signed[0].access, 2).await;
    let mut ids: Vec<String> = items.iter().filter_map(|s| s["sessionId"].as_str().map(str::to_owned)).collect();
    assert!(pages >= 2, "{pages} pages");
    ids.sort();
    let mut expected: Vec<String> = [&signed[0], &signed[3], &signed[4]].iter().map(|s| session_of(s)).collect();
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn given_bad_inputs_or_credentials_when_listing_sessions_then_400_or_401() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    for query in ["limit=0", "limit=101", "limit=x", "cursor=not-a-cursor", "cursor=eyJrIjp7fSwibSI6IiJ9"] {
        let r = app.get(&format!("/users/me/sessions?{query}"), &ana.access).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {:?}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    for (label, token) in bad_tokens(&app, &ana) {
        for method in [Method::GET, Method::DELETE] {
            let r = app.call(method.clone(), "/users/me/sessions", token.as_deref(), None).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{label}: {method}");
            assert_eq!(r.code(), "unauthenticated");
        }
    }
    assert_eq!(refresh(&app, &ana.refresh).await.status, StatusCode::OK, "no refused call ended the session");
}

/// Tokens that must not be taken for Ana's access token.
fn bad_tokens(app: &TestApp, ana: &Signed) -> Vec<(&'static str, Option<String>)> {
    let who = TokenAudience { issuer: LOCAL_ISSUER.into(), audience: LOCAL_AUDIENCE.into() };
    let id: vivid_domain::types::UserId = ana.user_id.parse().expect("user id");
    let email: vivid_domain::types::Email = "ana@example.com".parse().expect("email");
    let now = unix_now();
    let issued = |i: &vivid_tokens::TokenIssuer, typ: &str, iat: u64| {
        i.issue_with(&id, &email, typ, iat, 900).expect("token").token
    };
    vec![
        ("anonymous", None),
        ("garbage", Some("not-a-jwt".to_owned())),
        ("expired", Some(issued(&app.stack.issuer, "access", now - 3600))),
        ("refresh-typed", Some(issued(&app.stack.issuer, "refresh", now))),
        ("a refresh token", Some(ana.refresh.clone())),
        (
            "other audience",
            Some(issued(
                &app.issuer_with(TokenAudience { audience: "someone-else".into(), ..who.clone() }),
                "access",
                now,
            )),
        ),
        (
            "other issuer",
            Some(issued(&app.issuer_with(TokenAudience { issuer: "https://evil".into(), ..who }), "access", now)),
        ),
    ]
}

// ---- DELETE /users/me/sessions ---------------------------------------------------------------

#[tokio::test]
async fn given_sessions_everywhere_when_signing_out_everywhere_then_every_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    let laptop = sign_in(&app, "ana@example.com", FIREFOX).await;
    let phone = sign_in(&app, "ana@example.com", SAFARI).await;
    let tablet = sign_in(&app, "ana@example.com", SAFARI).await;
    let tablet_next = new_refresh(&refresh(&app, &tablet.refresh).await);
    let bo = sign_in(&app, "bo@example.com", FIREFOX).await;

    let (r, cookies) = end_sessions(&app, Some(&laptop.access), "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let cleared =
        cookies.iter().find(|c| c.starts_with("__Host-vivid_refresh=")).expect("the refresh cookie is cleared");
    assert!(cleared.contains("Max-Age=0") && cleared.split(';').any(|a| a.trim() == "Path=/"), "{cleared}");
    for token in [&laptop.refresh, &phone.refresh, &tablet_next] {
        assert_eq!(refresh(&app, token).await.status, StatusCode::UNAUTHORIZED);
    }
    assert!(sessions(&app, &laptop.access).await.is_empty());
    // Nobody else's sessions moved; the access token in hand lasts until it expires.
    assert_eq!(refresh(&app, &bo.refresh).await.status, StatusCode::OK);
    assert_eq!(app.get("/users/me", &laptop.access).await.status, StatusCode::OK);
    // Signing out everywhere again, or with nothing to end, is fine.
    assert_eq!(end_sessions(&app, Some(&laptop.access), "?keepCurrent=false").await.0.status, StatusCode::NO_CONTENT);
    // A new sign-in works as ever.
    let again = sign_in(&app, "ana@example.com", FIREFOX).await;
    assert_eq!(refresh(&app, &again.refresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn given_keep_current_when_signing_out_everywhere_else_then_only_this_session_stays() {
    let app = TestApp::spawn().await;
    let laptop = sign_in(&app, "ana@example.com", FIREFOX).await;
    let phone = sign_in(&app, "ana@example.com", SAFARI).await;
    let other = sign_in(&app, "ana@example.com", SAFARI).await;
    // The laptop's access token after a refresh still names the laptop's session.
    let rotated = refresh(&app, &laptop.refresh).await;
    let laptop_next = new_refresh(&rotated);
    let access = rotated.body["accessToken"].as_str().expect("access").to_owned();

    let (r, cookies) = end_sessions(&app, Some(&access), "?keepCurrent=true").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert!(!cookies.iter().any(|c| c.starts_with("__Host-vivid_refresh=")), "this browser stays signed in");
    assert_eq!(refresh(&app, &phone.refresh).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &other.refresh).await.status, StatusCode::UNAUTHORIZED);
    let kept = sessions(&app, &access).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["sessionId"], session_of(&laptop).as_str());
    assert_eq!(kept[0]["current"], true);
    assert_eq!(refresh(&app, &laptop_next).await.status, StatusCode::OK);
}

#[tokio::test]
async fn given_bad_inputs_when_signing_out_everywhere_then_400_and_nothing_ends() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    for query in ["?keepCurrent=yes", "?keepCurrent=", "?keepCurrent=TRUE", "?keepCurrent=1"] {
        let (r, _) = end_sessions(&app, Some(&ana.access), query).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {:?}", r.body);
        assert_eq!(r.code(), "invalid_query", "{query}");
    }
    // A token that names no session (a development token) cannot keep "the current one".
    let dev = app.stack.issuer.issue_with(
        &ana.user_id.parse().expect("id"),
        &"ana@example.com".parse().expect("email"),
        "access",
        unix_now(),
        900,
    );
    let (r, _) = end_sessions(&app, Some(&dev.expect("token").token), "?keepCurrent=true").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "no_current_session");
    assert_eq!(refresh(&app, &ana.refresh).await.status, StatusCode::OK, "nothing was ended");
}

// ---- a deleted account's access token ------------------------------------------------------

#[tokio::test]
async fn given_a_deleted_account_when_its_access_token_connects_webex_or_zoom_then_401_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    // A Webex connect under way (its state issued) when the account is deleted.
    let authorize = app.webex_authorize_url(&ana).await;
    let back = app.http.get(&authorize).send().await.expect("authorize");
    let callback = back.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned();
    let (code, state) =
        (query_param(&callback, "code").expect("code"), query_param(&callback, "state").expect("state"));
    let (zoom_code, zoom_state) = app.zoom_code(&ana).await;

    app.delete_and_wait("/users/me", &ana.token).await;

    for (path, body) in [
        ("/webex/token", json!({ "code": code, "state": state })),
        ("/zoom/token", json!({ "code": zoom_code, "state": zoom_state })),
    ] {
        let r = app.post(path, &ana.token, body).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {:?}", r.body);
        assert_eq!(r.code(), "account_deleted", "{path}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    for path in ["/webex/login", "/zoom/login"] {
        let r = app.get(path, &ana.token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {:?}", r.body);
        assert_eq!(r.code(), "account_deleted", "{path}");
    }
    let scan = app.scan_all().await;
    let under_user: Vec<&str> = scan.iter().map(pk).filter(|p| *p == format!("USER#{}", ana.id())).collect();
    assert!(under_user.is_empty(), "no connection or profile came back: {under_user:?}");
    let states_after = scan.iter().filter(|i| pk(i).starts_with("CONNSTATE#")).count();
    assert_eq!(states_after, 2, "only the two states issued before the deletion (they expire with their TTL)");
    assert_eq!(app.get("/users/me", &ana.token).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_a_live_account_then_connecting_still_works_and_a_foreign_state_is_still_400() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    app.connect_webex(&ana).await;
    assert_eq!(app.get("/users/me", &ana.token).await.body["webexConnected"], true);
    // Bo cannot use Ana's Zoom state: 400, not 401 (his account exists).
    let (code, state) = app.zoom_code(&ana).await;
    let r = app.post("/zoom/token", &bo.token, json!({ "code": code, "state": state })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.code(), "invalid_state");
    // The state was not used up by Bo's attempt: Ana connects with it.
    let r = app.post("/zoom/token", &ana.token, json!({ "code": code, "state": state })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}
