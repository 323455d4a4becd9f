//! `DELETE /users/me/sessions`: sign-out everywhere (or everywhere else).

use super::*;

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
