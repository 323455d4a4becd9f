//! A deleted account's still-valid access token connects nothing.

use super::*;

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
