//! Sign-in and tokens (SPEC §3): Google redirect and ID-token flows through the Google
//! stand-in, refresh rotation with reuse detection, logout, `/users/me`.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_local::{
    infra::faults::{Fault, FaultRule},
    standins::google::{GOOGLE_ISSUER, GoogleStandIn},
};
use vivid_tests::{TestApp, cookie_value, pk, query_param, set_cookies};

mod return_to;

async fn count_items(app: &TestApp, prefix: &str) -> usize {
    app.scan_all().await.iter().filter(|i| pk(i).starts_with(prefix)).count()
}

#[tokio::test]
async fn given_a_new_google_account_when_signing_in_twice_then_one_user_with_one_personal_space() {
    let app = TestApp::spawn().await;
    let first = app.browser_sign_in("ana@example.com", "Ana").await;
    assert!(first.location.starts_with(&format!("{}/_local/signed-in#", app.base)), "{}", first.location);
    let me = app.get("/users/me", &first.access_token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["email"], "ana@example.com");
    assert_eq!(me.body["name"], "Ana");
    assert_eq!(me.body["webexConnected"], false);

    let second = app.browser_sign_in("ana@example.com", "Ana").await;
    let me2 = app.get("/users/me", &second.access_token).await;
    assert_eq!(me2.body["userId"], me.body["userId"], "the second sign-in is the same user");
    let spaces = app.get("/spaces", &second.access_token).await;
    assert_eq!(spaces.body["items"].as_array().map(Vec::len), Some(1), "one personal space");
    assert_eq!(count_items(&app, "USER#").await, 1);
}

#[tokio::test]
async fn given_the_callback_then_the_refresh_cookie_is_host_prefixed_httponly_secure_and_host_only() {
    let app = TestApp::spawn().await;
    let s = app.browser_sign_in("ana@example.com", "Ana").await;
    let refresh = s.set_cookies.iter().find(|c| c.starts_with("__Host-vivid_refresh=")).expect("refresh cookie");
    // What the `__Host-` prefix requires of it (Secure, Path=/, no Domain), and SameSite=Strict.
    let attributes: Vec<&str> = refresh.split(';').skip(1).map(str::trim).collect();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&attr), "{refresh} lacks {attr}");
    }
    assert!(!refresh.to_lowercase().contains("domain="), "{refresh}");
    let login = s.set_cookies.iter().find(|c| c.starts_with("vivid_login=")).expect("login cookie cleared");
    assert!(login.contains("Max-Age=0"), "{login}");
    assert!(!s.location.contains("refresh"), "the refresh token never travels in the URL");
}

#[tokio::test]
async fn given_concurrent_first_sign_ins_of_one_account_then_exactly_one_user_is_created() {
    let app = TestApp::spawn().await;
    let token = app.stack.google.id_token(&app.stack.google.claims_for("bo@example.com", "Bo"));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, url, token) = (app.http.clone(), format!("{}/auth/google", app.base), token.clone());
        tasks.spawn(async move { http.post(url).json(&json!({ "idToken": token })).send().await });
    }
    let mut ids = Vec::new();
    while let Some(res) = tasks.join_next().await {
        let resp = res.expect("task").expect("request");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: serde_json::Value = resp.json().await.expect("json");
        ids.push(body["user"]["userId"].as_str().expect("userId").to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every sign-in got the same user");
    assert_eq!(count_items(&app, "USER#").await, 1);
    assert_eq!(count_items(&app, "GOOGLE#").await, 1);
    let spaces = app.scan_all().await.iter().filter(|i| pk(i).starts_with("SPACE#")).count();
    assert_eq!(spaces, 2, "one personal space: its META and its host membership");
}

#[tokio::test]
async fn given_bad_id_tokens_when_posting_them_then_401_and_nobody_is_created() {
    let app = TestApp::spawn().await;
    let g = &app.stack.google;
    let good = g.claims_for("cy@example.com", "Cy");
    let other_idp = GoogleStandIn::start(([127, 0, 0, 1], 0).into()).await.expect("second stand-in");
    let mut cases = vec![
        (
            "expired",
            g.id_token(&vivid_local::standins::google::IdClaims {
                iat: good.iat - 7200,
                exp: good.iat - 3600,
                ..good.clone()
            }),
        ),
        (
            "foreign audience",
            g.id_token(&vivid_local::standins::google::IdClaims { aud: "someone-else".into(), ..good.clone() }),
        ),
        (
            "unverified e-mail",
            g.id_token(&vivid_local::standins::google::IdClaims { email_verified: false, ..good.clone() }),
        ),
        (
            "other issuer",
            g.id_token(&vivid_local::standins::google::IdClaims { iss: "https://evil.example".into(), ..good.clone() }),
        ),
        (
            "signed by another key",
            other_idp.id_token(&vivid_local::standins::google::IdClaims { aud: good.aud.clone(), ..good.clone() }),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    // alg: none with the good claims.
    let b64 = |v: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v);
    cases.push((
        "alg none",
        format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(serde_json::to_string(&good).expect("claims").as_bytes())),
    ));
    for (label, token) in cases {
        let r = app.google_token(&token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{label}: {:?}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        // What to do: sign in with Google again (or, unverified, verify or use another account).
        let detail = r.body["detail"].as_str().unwrap_or_default();
        let next = if label == "unverified e-mail" { "another Google account" } else { "sign in with Google again" };
        assert!(detail.contains(next), "{label}: {detail}");
    }
    assert_eq!(GOOGLE_ISSUER, good.iss);
    assert_eq!(count_items(&app, "USER#").await, 0);
    let r = app.call(Method::POST, "/auth/google", None, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.call_raw(Method::POST, "/auth/google", None, "application/json", b"{".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The good one works.
    assert_eq!(app.google_token(&g.id_token(&good)).await.status, StatusCode::OK);
}

/// Google's documented ID-token example writes `email_verified` as a string: `"true"` signs in,
/// `"false"` is refused as unverified.
#[tokio::test]
async fn given_email_verified_as_a_string_then_true_signs_in_and_false_is_unverified() {
    let app = TestApp::spawn().await;
    let g = &app.stack.google;
    let payload = |token: &str| -> serde_json::Value {
        let part = token.split('.').nth(1).expect("a payload");
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, part).expect("base64url");
        serde_json::from_slice(&bytes).expect("json")
    };
    let verified = g.id_token(&vivid_local::standins::google::IdClaims {
        email_verified_as_string: true,
        ..g.claims_for("eve@example.com", "Eve")
    });
    assert_eq!(payload(&verified)["email_verified"], "true", "signed as Google's example writes it");
    let r = app.google_token(&verified).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let me = app.get("/users/me", r.body["accessToken"].as_str().expect("access token")).await;
    assert_eq!(me.body["email"], "eve@example.com");

    let unverified = g.id_token(&vivid_local::standins::google::IdClaims {
        email_verified: false,
        email_verified_as_string: true,
        ..g.claims_for("fay@example.com", "Fay")
    });
    assert_eq!(payload(&unverified)["email_verified"], "false");
    let r = app.google_token(&unverified).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("not verified"), "refused as unverified, not as a bad token: {detail}");
    assert_eq!(count_items(&app, "USER#").await, 1, "only Eve");
}

#[tokio::test]
async fn given_an_unverified_google_email_in_the_browser_flow_then_401() {
    let app = TestApp::spawn().await;
    let pending = app.start_login(None).await;
    let callback = app.approve_at_google(&pending, "dee@example.com", "Dee", false).await;
    let resp = app.callback(&callback, Some(&pending.login_cookie)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count_items(&app, "USER#").await, 0);
}

#[tokio::test]
async fn given_a_tampered_replayed_or_foreign_state_then_the_callback_is_400() {
    let app = TestApp::spawn().await;
    // Tampered state.
    let pending = app.start_login(None).await;
    let callback = app.approve_at_google(&pending, "ana@example.com", "Ana", true).await;
    assert!(query_param(&callback, "state").is_some());
    let tampered = callback.replace("&state=", "&state=AA");
    assert_ne!(tampered, callback);
    assert_eq!(app.callback(&tampered, Some(&pending.login_cookie)).await.status(), StatusCode::BAD_REQUEST);
    // Without the login cookie, or with another browser's cookie.
    assert_eq!(app.callback(&callback, None).await.status(), StatusCode::BAD_REQUEST);
    let other = app.start_login(None).await;
    assert_eq!(app.callback(&callback, Some(&other.login_cookie)).await.status(), StatusCode::BAD_REQUEST);
    // The genuine one works once; its replay is refused.
    assert_eq!(app.callback(&callback, Some(&pending.login_cookie)).await.status(), StatusCode::FOUND);
    let replay = app.callback(&callback, Some(&pending.login_cookie)).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = replay.json().await.expect("problem");
    assert_eq!(body["code"], "invalid_state");
    assert_eq!(count_items(&app, "USER#").await, 1);
}

#[tokio::test]
async fn given_a_return_url_then_only_an_allowed_origin_is_honoured() {
    let app = TestApp::spawn().await;
    for (return_to, expected_prefix) in [
        (format!("{}/_local/signed-in?next=/spaces", app.base), format!("{}/_local/signed-in?next=/spaces#", app.base)),
        ("https://evil.example/steal".to_owned(), format!("{}/_local/signed-in#", app.base)),
        (format!("{}.evil.example/x", app.base), format!("{}/_local/signed-in#", app.base)),
    ] {
        let pending = app.start_login(Some(&return_to)).await;
        let callback = app.approve_at_google(&pending, "ana@example.com", "Ana", true).await;
        let resp = app.callback(&callback, Some(&pending.login_cookie)).await;
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(location.starts_with(&expected_prefix), "{return_to} -> {location}");
    }
}

#[tokio::test]
async fn given_a_declined_consent_then_the_front_end_gets_the_error() {
    let app = TestApp::spawn().await;
    let pending = app.start_login(None).await;
    let state = query_param(&pending.authorize_url, "state").expect("state");
    let url = format!("{}/auth/google/callback?error=access_denied&state={state}", app.base);
    let resp = app.callback(&url, Some(&pending.login_cookie)).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(location.ends_with("#error=access_denied"), "{location}");
}

#[tokio::test]
async fn given_a_refresh_token_when_rotating_then_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let signed =
        app.google_token(&app.stack.google.id_token(&app.stack.google.claims_for("ana@example.com", "Ana"))).await;
    assert_eq!(signed.status, StatusCode::OK);
    let r0 = signed.body["refreshToken"].as_str().expect("refresh").to_owned();
    assert_eq!(signed.body["expiresIn"], 900);

    let refresh = |t: &str| app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": t })));
    let rotated = refresh(&r0).await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    let r1 = rotated.body["refreshToken"].as_str().expect("refresh").to_owned();
    assert_ne!(r1, r0);
    let access = rotated.body["accessToken"].as_str().expect("access").to_owned();
    assert_eq!(app.get("/users/me", &access).await.status, StatusCode::OK);

    let r2 = refresh(&r1).await.body["refreshToken"].as_str().expect("refresh").to_owned();
    // r0 again: reuse. The family is revoked: even the newest token is refused now.
    let reuse = refresh(&r0).await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reuse.body["detail"], "the refresh token is invalid, expired or revoked: sign in again");
    assert_eq!(refresh(&r2).await.status, StatusCode::UNAUTHORIZED);
    // Another sign-in starts a fresh family that works.
    let again =
        app.google_token(&app.stack.google.id_token(&app.stack.google.claims_for("ana@example.com", "Ana"))).await;
    let fresh = again.body["refreshToken"].as_str().expect("refresh").to_owned();
    assert_eq!(refresh(&fresh).await.status, StatusCode::OK);
    // Stored only as hashes.
    let raw_anywhere =
        app.scan_all().await.iter().any(|i| format!("{i:?}").contains(&r0) || format!("{i:?}").contains(&fresh));
    assert!(!raw_anywhere, "a refresh token is stored in clear");
}

#[tokio::test]
async fn given_the_refresh_cookie_when_rotating_then_a_new_cookie_comes_back() {
    let app = TestApp::spawn().await;
    let s = app.browser_sign_in("ana@example.com", "Ana").await;
    let resp = app
        .http
        .post(format!("{}/auth/refresh", app.base))
        .header("cookie", format!("__Host-vivid_refresh={}", s.refresh_cookie))
        .send()
        .await
        .expect("refresh");
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookies(resp.headers());
    let new = cookie_value(&cookies, "__Host-vivid_refresh").expect("rotated cookie");
    assert_ne!(new, s.refresh_cookie);
    let none = app.call(Method::POST, "/auth/refresh", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.body["detail"],
        "a refresh token is required (the sign-in's cookie, or refreshToken in the body): sign in again"
    );
}

/// A Google sign-in whose address another account already uses (one made by other means, or
/// with another Google account) is refused with what to do: sign in as that account, or delete
/// it first — and nothing is created.
#[tokio::test]
async fn given_an_address_another_account_uses_when_signing_in_with_google_then_409_says_how_to_get_in() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let r = app.google_token(&app.stack.google.id_token(&app.stack.google.claims_for(&ana.email(), "Ana"))).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "email_taken"), "{:?}", r.body);
    assert_eq!(
        r.body["detail"],
        "another account already uses this e-mail address: sign in with the Google account it was created with, or delete that account first (DELETE /users/me)"
    );
    assert_eq!(count_items(&app, "USER#").await, 1, "only the first account");
}

#[tokio::test]
async fn given_tokens_of_one_kind_when_used_as_the_other_then_401() {
    let app = TestApp::spawn().await;
    let signed =
        app.google_token(&app.stack.google.id_token(&app.stack.google.claims_for("ana@example.com", "Ana"))).await;
    let access = signed.body["accessToken"].as_str().expect("access").to_owned();
    let refresh = signed.body["refreshToken"].as_str().expect("refresh").to_owned();
    assert_eq!(app.get("/users/me", &refresh).await.status, StatusCode::UNAUTHORIZED, "refresh as access");
    let r = app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": access }))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "access as refresh");
}

#[tokio::test]
async fn given_a_logout_then_the_family_is_revoked_and_the_cookie_cleared() {
    let app = TestApp::spawn().await;
    let s = app.browser_sign_in("ana@example.com", "Ana").await;
    // Nothing presented: signed out already (204), and no session ended.
    let anon = app.http.post(format!("{}/auth/logout", app.base)).send().await.expect("logout");
    assert_eq!(anon.status(), StatusCode::NO_CONTENT);
    // The cookie is the proof: no access token needed.
    let resp = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header("cookie", format!("__Host-vivid_refresh={}", s.refresh_cookie))
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let cleared =
        set_cookies(resp.headers()).into_iter().find(|c| c.starts_with("__Host-vivid_refresh=")).expect("cleared");
    assert!(cleared.contains("Max-Age=0"));
    let r = app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": s.refresh_cookie }))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn given_a_refresh_token_when_logging_out_then_its_session_ends_whoever_the_access_token_names() {
    // The refresh token is the proof (its holder could as well refresh with it): the session it
    // belongs to ends; the access token sent along is not looked at, and its own session stays.
    let app = TestApp::spawn().await;
    let ana = app.browser_sign_in("ana@example.com", "Ana").await;
    let bo = app.browser_sign_in("bo@example.com", "Bo").await;
    let r = app
        .call(Method::POST, "/auth/logout", Some(&bo.access_token), Some(json!({ "refreshToken": ana.refresh_cookie })))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let ended =
        app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": ana.refresh_cookie }))).await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED);
    let still = app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": bo.refresh_cookie }))).await;
    assert_eq!(still.status, StatusCode::OK);
}

#[tokio::test]
async fn only_the_token_issuing_functions_can_reach_the_signing_key() {
    let text = std::fs::read_to_string(vivid_tests::repo_root().join("template.yaml")).expect("template");
    let t: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    assert!(!serde_yaml::to_string(&t["Globals"]).expect("yaml").contains("JwtSigningKeySecretArn"));
    assert!(t["Parameters"]["JwtPrivateKey"].is_null(), "no private key as a parameter");
    let issuing = [
        "GoogleCallbackFunction",
        "GoogleTokenFunction",
        "LtiSessionFunction",
        "OidcCallbackFunction",
        "RefreshTokenFunction",
    ];
    // The secret's ARN (the name in the environment and the IAM grant) reaches these alone.
    let mut holders = Vec::new();
    for (id, res) in t["Resources"].as_mapping().expect("resources") {
        let id = id.as_str().unwrap_or_default();
        let dump = serde_yaml::to_string(res).expect("yaml");
        if dump.contains("JwtSigningKeySecretArn") || dump.contains("VIVID_JWT_SIGNING_KEY_ARN") {
            holders.push(id.to_owned());
        }
    }
    holders.sort();
    assert_eq!(holders, issuing.map(str::to_owned).to_vec());
}

#[tokio::test]
async fn given_an_account_when_deleted_then_everything_it_owned_goes_and_the_google_account_can_return() {
    let app = TestApp::spawn().await;
    let g = &app.stack.google;
    let signed = app.google_token(&g.id_token(&g.claims_for("ana@example.com", "Ana"))).await;
    let token = signed.body["accessToken"].as_str().expect("access").to_owned();
    let refresh = signed.body["refreshToken"].as_str().expect("refresh").to_owned();
    let old_id = signed.body["user"]["userId"].as_str().expect("id").to_owned();
    // Ana hosts a space with a video, and takes part in Bo's space with notes there.
    let own = app.post("/spaces", &token, json!({ "name": "Mine" })).await.body["spaceId"]
        .as_str()
        .expect("space")
        .to_owned();
    let own_video = app
        .post(
            &format!("/spaces/{own}/videos"),
            &token,
            json!({
                "title": "T", "fileName": "t.mp4", "contentType": "video/mp4", "sizeBytes": 10,
            }),
        )
        .await
        .body["videoId"]
        .as_str()
        .expect("video")
        .to_owned();
    let bo = app.user("Bo").await;
    let bos = app.space(&bo, "Bo's").await;
    let r = app.post(&format!("/spaces/{bos}/members"), &bo.token, json!({ "email": "ana@example.com" })).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let bo_video = app.ready_video(&bos, &bo).await;
    let r = app
        .call(
            Method::PUT,
            &format!("/videos/{bo_video}/text-memo"),
            Some(&token),
            Some(json!({ "stateJson": "ana's" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "her first save creates her memo");

    let r = app.delete_and_wait("/users/me", &token).await;
    assert_eq!(r.body["userId"], old_id.as_str());
    let scan = app.scan_all().await;
    let mentions = |needle: &str| scan.iter().filter(|i| format!("{i:?}").contains(needle)).count();
    let left: Vec<String> =
        scan.iter().filter(|i| format!("{i:?}").contains(&old_id)).map(|i| pk(i).to_owned()).collect();
    assert!(left.is_empty(), "no item mentions the deleted user: {left:?}");
    assert_eq!(mentions(&own), 0, "the hosted space is gone");
    assert_eq!(mentions(&own_video), 0, "its video is gone");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{own_video}")).await);
    assert_eq!(app.get(&format!("/spaces/{bos}"), &bo.token).await.body["memberCount"], 1, "Ana left Bo's space");
    let r = app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": refresh }))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "sessions are revoked");
    assert_eq!(app.get("/users/me", &token).await.status, StatusCode::NOT_FOUND);

    // The same Google account signs up again: a new user with a new personal space.
    let again = app.google_token(&g.id_token(&g.claims_for("ana@example.com", "Ana"))).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_ne!(again.body["user"]["userId"], old_id.as_str());
    app.indexes_settled().await;
    let spaces = app.get("/spaces", again.body["accessToken"].as_str().expect("token")).await;
    assert_eq!(spaces.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn given_an_account_being_deleted_then_it_cannot_sign_in_refresh_or_write_and_a_replay_finishes_a_failed_worker()
{
    let app = TestApp::spawn().await;
    let g = &app.stack.google;
    let claims = || g.id_token(&g.claims_for("eve@example.com", "Eve"));
    let signed = app.google_token(&claims()).await;
    let token = signed.body["accessToken"].as_str().expect("access").to_owned();
    let refresh = signed.body["refreshToken"].as_str().expect("refresh").to_owned();
    let id = signed.body["user"]["userId"].as_str().expect("id").to_owned();
    // Eve has a video in her personal space: the worker's first step (its upload) will fail.
    let user = app.users().get_user(&id.parse().expect("id")).await.expect("read").expect("user");
    let eve = vivid_tests::TestUser { user, token: token.clone() };
    let personal = eve.user.personal_space_id.to_string();
    let video = app.uploaded_video(&personal, &eve, vec![1u8; 64]).await;
    let faults = app.stack.faults();
    faults.add(FaultRule::s3("DeleteObject", Fault::ServerError).on(&app.stack.buckets.raw));

    assert_eq!(app.call(Method::DELETE, "/users/me", None, None).await.status, StatusCode::UNAUTHORIZED);
    let r = app.call(Method::DELETE, "/users/me", Some(&token), None).await;
    assert_eq!((r.status, &r.body), (StatusCode::ACCEPTED, &json!({ "userId": id, "status": "deleting" })));
    let cleared = set_cookies(&r.headers);
    assert!(cleared.iter().any(|c| c.starts_with("__Host-vivid_refresh=;") && c.contains("Max-Age=0")), "{cleared:?}");

    // Being deleted: it reads as gone, signs in no more, refreshes no more, writes nothing.
    assert_eq!(app.get("/users/me", &token).await.status, StatusCode::NOT_FOUND);
    let again = app.google_token(&claims()).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "account_deleting"), "{:?}", again.body);
    let r = app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": refresh }))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    let r = app.post("/spaces", &token, json!({ "name": "Late" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "account_deleted"), "{:?}", r.body);
    let r = app.call(Method::DELETE, "/users/me", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "asked again: the same answer");

    // Both runs fail every retry and wait in the queue; a replay finishes the account.
    let counts = app.deletions_settled().await;
    assert_eq!((counts.exhausted, counts.failed_runs), (2, 6), "{counts:?}");
    let records = app.failed_events().await;
    assert!(records.iter().all(|r| r["requestPayload"] == json!({ "kind": "account", "userId": id })));
    assert_eq!(records.len(), 2);
    faults.clear();
    assert_eq!(app.replay_failed_events().await, 2);
    assert_eq!(app.deletions_settled().await.exhausted, 2, "the replays did not fail");
    let left: Vec<String> = app
        .scan_all()
        .await
        .iter()
        .filter(|i| format!("{i:?}").contains(&id) || format!("{i:?}").contains(&video))
        .map(|i| pk(i).to_owned())
        .collect();
    assert!(left.is_empty(), "nothing of the account is left: {left:?}");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{video}")).await);
    // The same Google account signs up again: a new account.
    let back = app.google_token(&claims()).await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    assert_ne!(back.body["user"]["userId"], id.as_str());
    assert_eq!(app.stack.denied_grants(), [], "the routes and the worker stay within their grants");
}
