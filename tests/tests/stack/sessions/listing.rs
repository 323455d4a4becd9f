//! `GET /users/me/sessions`: each person sees their own sessions, the current one marked.

use super::*;

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
    let id: vivid_domain::types::UserId = ana.user_id.parse().expect("user id");
    let email: vivid_domain::types::Email = "ana@example.com".parse().expect("email");
    let mut tokens = app.forged_tokens(&id, &email);
    tokens.push(("a refresh token", Some(ana.refresh.clone())));
    for (label, token) in tokens {
        for method in [Method::GET, Method::DELETE] {
            let r = app.call(method.clone(), "/users/me/sessions", token.as_deref(), None).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{label}: {method}");
            assert_eq!(r.code(), "unauthenticated");
        }
    }
    assert_eq!(refresh(&app, &ana.refresh).await.status, StatusCode::OK, "no refused call ended the session");
}
