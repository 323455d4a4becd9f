//! The grace window: two tabs refreshing one token get the same successor; reuse outside it
//! (or after the successor was used, or of a logged-out session) revokes the family.

use super::*;

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
    let family = app.item(&format!("FAMILY#{}", session_of(&ana)), "FAMILY").await.expect("family");
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
    let old = app.item(&token_pk(&ana.refresh), "REFRESH").await.expect("rotated token");
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
