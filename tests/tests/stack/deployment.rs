//! What a deployment relies on beyond the routes: a front end on another origin of the same
//! site refreshing through the HttpOnly cookie (CORS with credentials, preflight included),
//! connection tokens sealed before they reach the table, and function environments that name
//! secrets without holding them.

use reqwest::{Method, StatusCode};
use vivid_domain::{connectors::TokenCipher, types::UserId};
use vivid_kms::KmsCipher;
use vivid_local::stack::LOCAL_FRONTEND_ORIGIN;
use vivid_tests::{TestApp, cookie_value, set_cookies};

#[tokio::test]
async fn given_a_front_end_on_another_origin_when_it_refreshes_with_the_cookie_then_cors_lets_it_read_the_answer() {
    let app = TestApp::spawn().await;
    let signed = app.browser_sign_in("ana@example.com", "Ana").await;
    let refresh_cookie = signed.set_cookies.iter().find(|c| c.starts_with("__Host-vivid_refresh=")).expect("cookie");
    let attributes: Vec<&str> = refresh_cookie.split(';').skip(1).map(str::trim).collect();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&attribute), "{refresh_cookie} lacks {attribute}");
    }
    assert!(!refresh_cookie.to_lowercase().contains("domain="), "host-only on the API's domain: {refresh_cookie}");

    // The browser's preflight: `fetch(api + '/auth/refresh', {method: 'POST', credentials: 'include',
    // headers: {'content-type': 'application/json'}})` from the front end's origin.
    let preflight = app
        .http
        .request(Method::OPTIONS, format!("{}/auth/refresh", app.base))
        .header("origin", LOCAL_FRONTEND_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let h = preflight.headers();
    assert_eq!(h.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(LOCAL_FRONTEND_ORIGIN));
    assert_eq!(h.get("access-control-allow-credentials").and_then(|v| v.to_str().ok()), Some("true"));
    let methods = h.get("access-control-allow-methods").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");

    // The request itself carries the cookie and nothing else.
    let resp = app
        .http
        .post(format!("{}/auth/refresh", app.base))
        .header("origin", LOCAL_FRONTEND_ORIGIN)
        .header("cookie", format!("__Host-vivid_refresh={}", signed.refresh_cookie))
        .send()
        .await
        .expect("refresh");
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(LOCAL_FRONTEND_ORIGIN));
    assert_eq!(h.get("access-control-allow-credentials").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(h.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let rotated = cookie_value(&set_cookies(&h), "__Host-vivid_refresh").expect("a rotated cookie");
    assert_ne!(rotated, signed.refresh_cookie);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(body["accessToken"].is_string());
    assert!(body.get("refreshToken").is_none(), "page script never sees the cookie's token: {body}");
    let me = app.get("/users/me", body["accessToken"].as_str().expect("token")).await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test]
async fn given_an_origin_that_is_not_the_front_end_then_no_cors_grant_is_given() {
    let app = TestApp::spawn().await;
    let preflight = app
        .http
        .request(Method::OPTIONS, format!("{}/auth/refresh", app.base))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.headers().get("access-control-allow-origin").is_none());
    let ana = app.user("Ana").await;
    let resp = app
        .http
        .get(format!("{}/users/me", app.base))
        .header("origin", "https://evil.example")
        .bearer_auth(&ana.token)
        .send()
        .await
        .expect("get");
    assert!(resp.headers().get("access-control-allow-origin").is_none(), "a browser keeps the answer from evil");
}

#[tokio::test]
async fn given_a_connected_account_then_the_table_holds_its_tokens_only_sealed_and_bound_to_the_user() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    app.connect_webex(&ana).await;
    app.stack.webex.add_recording("Lecture", vec![1u8; 8]);
    assert_eq!(app.get("/webex/recordings", &ana.token).await.status, StatusCode::OK, "the sealed tokens work");
    let issued = app.stack.webex.issued_tokens();
    assert!(issued.len() >= 2, "an access and a refresh token were issued");
    let dump = format!("{:?}", app.scan_all().await);
    for token in &issued {
        assert!(!dump.contains(token.as_str()), "a Webex token is in the table in clear");
    }
    // A sealed blob opens for its user only (KMS encryption context).
    let item = app
        .scan_all()
        .await
        .into_iter()
        .find(|i| i.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == "CONN#webex"))
        .expect("the connection item");
    let sealed = item.get("sealedTokens").and_then(|v| v.as_b().ok()).expect("sealed").as_ref().to_vec();
    let env = app.stack.environments.get("webex-connect").cloned().expect("env");
    let cipher = KmsCipher::from_config(&vivid_config::Config::new(std::sync::Arc::new(env), app.stack.sdk.clone()))
        .expect("cipher");
    assert!(cipher.open(&ana.user.user_id, &sealed).await.is_ok());
    assert!(cipher.open(&UserId::generate(), &sealed).await.is_err(), "another user's context does not open it");
}

#[tokio::test]
async fn every_function_environment_names_secrets_without_holding_them() {
    let app = TestApp::spawn().await;
    let secrets = [
        app.stack.keys.private_pem.clone(),
        app.stack.google.client_secret.clone(),
        app.stack.webex.client_secret.clone(),
    ];
    let functions = vivid_local::functions::HTTP_FUNCTIONS.len() + vivid_local::functions::EVENT_FUNCTIONS.len();
    assert_eq!(app.stack.environments.len(), functions);
    for (function, env) in &app.stack.environments {
        for (name, value) in env {
            assert!(!value.contains("PRIVATE KEY"), "{function}: {name} holds a private key");
            for s in &secrets {
                assert!(!value.contains(s.trim()), "{function}: {name} holds a secret");
            }
        }
    }
    // Only the token issuers are told where the signing key is: the Google sign-in and token
    // exchange, the refresh, an institution's sign-in callback and the LTI launch's session.
    let mut issuers: Vec<&str> = app
        .stack
        .environments
        .iter()
        .filter(|(_, env)| env.contains_key("VIVID_JWT_SIGNING_KEY_ARN"))
        .map(|(f, _)| f.as_str())
        .collect();
    issuers.sort();
    assert_eq!(issuers, ["google-callback", "google-token", "lti-session", "oidc-callback", "refresh-token"]);
}

#[tokio::test]
async fn given_a_shorter_access_token_lifetime_then_the_issuers_use_it() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("AccessTokenTtlSeconds".into(), "60".into());
    })
    .await;
    let google = &app.stack.google;
    let signed = app.google_token(&google.id_token(&google.claims_for("ana@example.com", "Ana"))).await;
    assert_eq!(signed.body["expiresIn"], 60, "{:?}", signed.body);
    let refreshed = app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(serde_json::json!({ "refreshToken": signed.body["refreshToken"] })),
        )
        .await;
    assert_eq!(refreshed.body["expiresIn"], 60);
}
