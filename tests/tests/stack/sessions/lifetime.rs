//! The absolute lifetime: a session ends ninety days after its sign-in however often it slides.

use super::*;

#[tokio::test]
async fn given_a_sign_in_then_its_session_ends_ninety_days_later_however_often_it_slides() {
    let app = TestApp::spawn().await;
    let ana = sign_in(&app, "ana@example.com", FIREFOX).await;
    let family_pk = format!("FAMILY#{}", session_of(&ana));
    let family = app.item(&family_pk, "FAMILY").await.expect("family");
    let (created, ends) =
        (number(&family, "createdAt").expect("createdAt"), number(&family, "endsAt").expect("endsAt"));
    assert_eq!(ends - created, SESSION_LIFETIME_SECS);
    assert_eq!(SESSION_LIFETIME_SECS, 90 * 24 * 3600);
    // A refresh slides the session but never moves its end.
    let r1 = new_refresh(&refresh(&app, &ana.refresh).await);
    let family = app.item(&family_pk, "FAMILY").await.expect("family");
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
    let ends = number(&app.item(&family_pk, "FAMILY").await.expect("family"), "endsAt").expect("endsAt set");
    assert!(ends >= before + SESSION_LIFETIME_SECS && ends <= unix_now() + SESSION_LIFETIME_SECS);
    assert_eq!(refresh(&app, &r1).await.status, StatusCode::OK);
}
