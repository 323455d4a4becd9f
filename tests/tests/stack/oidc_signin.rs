//! Institutional sign-in (issue 28) against a real OpenID Certified provider, npm
//! `oidc-provider` (local/idp): discovery, code + PKCE, nonce, the ID token verified against its
//! JWKS; the e-mail domain and verification rules; no merge across providers; explicit linking;
//! identities listed and unlinked.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_domain::types::unix_now;
use vivid_tests::{IDP_CLIENT_ID, Idp, TestApp, cookie_value, fragment_param, pk, set_cookies};

/// A stack configured with the provider `uni` (addresses of uni.example), and `slash`: the same
/// provider configured with an issuer its discovery document does not name (a trailing `/`).
async fn stack() -> (TestApp, Idp) {
    let mut idp = Idp::start().await;
    let providers = json!([
        { "id": "uni", "issuer": idp.issuer, "clientId": IDP_CLIENT_ID, "allowedEmailDomains": ["uni.example"] },
        { "id": "slash", "issuer": format!("{}/", idp.issuer), "clientId": IDP_CLIENT_ID, "allowedEmailDomains": ["uni.example"] },
    ]);
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("OidcProviders".into(), providers.to_string());
    })
    .await;
    idp.serve(vec![format!("{}/auth/oidc/uni/callback", app.base)]).await;
    (app, idp)
}

fn token(location: &str) -> String {
    fragment_param(location, "accessToken").unwrap_or_else(|| panic!("no access token: {location}"))
}

async fn user_count(app: &TestApp) -> usize {
    app.scan_all()
        .await
        .iter()
        .filter(|i| {
            pk(i).starts_with("USER#") && i.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|s| s == "PROFILE")
        })
        .count()
}

#[tokio::test]
async fn given_a_university_account_when_signing_in_through_its_provider_then_one_user_by_issuer_and_subject() {
    let (app, _idp) = stack().await;
    let first = app.oidc_sign_in("uni", "ana@uni.example").await;
    assert!(first.starts_with(&format!("{}/_local/signed-in#accessToken=", app.base)), "{first}");
    let me = app.get("/users/me", &token(&first)).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["email"], "ana@uni.example");
    assert_eq!(me.body["name"], "ana");

    let second = app.oidc_sign_in("uni", "ana@uni.example").await;
    let again = app.get("/users/me", &token(&second)).await;
    assert_eq!(again.body["userId"], me.body["userId"], "the same identity is the same user");
    assert_eq!(user_count(&app).await, 1);
    let ids = app.get("/users/me/identities", &token(&second)).await;
    assert_eq!(ids.status, StatusCode::OK, "{:?}", ids.body);
    assert_eq!(ids.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(ids.body["items"][0]["provider"], "uni");
    assert_eq!(ids.body["items"][0]["issuer"], json!(_idp.issuer));
}

#[tokio::test]
async fn given_an_address_outside_the_allowed_domains_or_unverified_then_refused_and_no_user() {
    let (app, _idp) = stack().await;
    let other = app.oidc_sign_in("uni", "bo@other.example").await;
    assert_eq!(fragment_param(&other, "error").as_deref(), Some("email_domain_not_allowed"), "{other}");
    assert_eq!(fragment_param(&other, "status").as_deref(), Some("403"));
    assert!(fragment_param(&other, "accessToken").is_none());

    let unverified = app.oidc_sign_in("uni", "unverified:cy@uni.example").await;
    assert_eq!(fragment_param(&unverified, "error").as_deref(), Some("email_not_verified"), "{unverified}");
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn given_a_google_user_with_the_same_address_then_not_merged_and_the_problem_says_link() {
    let (app, _idp) = stack().await;
    let google = app.browser_sign_in("dee@uni.example", "Dee").await;
    let refused = app.oidc_sign_in("uni", "dee@uni.example").await;
    assert_eq!(fragment_param(&refused, "error").as_deref(), Some("link_required"), "{refused}");
    assert_eq!(fragment_param(&refused, "status").as_deref(), Some("409"));
    assert!(fragment_param(&refused, "error_description").is_some_and(|d| d.contains("link")));
    assert_eq!(user_count(&app).await, 1, "no second account, no merge");
    let ids = app.get("/users/me/identities", &google.access_token).await;
    assert_eq!(ids.body["items"].as_array().map(Vec::len), Some(1), "only Google: {:?}", ids.body);
}

/// `POST /auth/oidc/{provider}/link` as the signed-in user; the provider's callback after the
/// person signed in there as `account`.
async fn link(app: &TestApp, access_token: &str, account: &str) -> String {
    let resp = app
        .http
        .post(format!(
            "{}/auth/oidc/uni/link?returnTo={}",
            app.base,
            vivid_tests::form_encode(&format!("{}/_local/signed-in", app.base))
        ))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("link");
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = cookie_value(&set_cookies(resp.headers()), "vivid_oidc_login").expect("login cookie");
    let body: serde_json::Value = resp.json().await.expect("json");
    let authorize = body["authorizeUrl"].as_str().expect("authorizeUrl").to_owned();
    // A link asks the provider for a fresh sign-in, not a session left open in the browser.
    assert!(authorize.contains("&prompt=login"), "{authorize}");
    let callback = app.sign_in_at_idp(&authorize, account).await;
    let landed = app.oidc_callback(&callback, &cookie).await;
    assert_eq!(landed.status(), StatusCode::FOUND);
    landed.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned()
}

#[tokio::test]
async fn given_a_google_user_when_linking_the_university_identity_then_signing_in_with_it_is_the_same_user() {
    let (app, _idp) = stack().await;
    let google = app.browser_sign_in("eve@uni.example", "Eve").await;
    let me = app.get("/users/me", &google.access_token).await;
    // A session signed in eleven minutes ago (a stolen token, a browser left open) links nothing.
    let (user, email) = (me.body["userId"].as_str().expect("id"), "eve@uni.example".parse().expect("email"));
    let stale = app.stack.issuer.issue_signed_in_at(&user.parse().expect("user"), &email, unix_now() - 660);
    let stale = stale.expect("token").token;
    let r = app.call(Method::POST, "/auth/oidc/uni/link", Some(&stale), None).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "reauthentication_required"), "{:?}", r.body);
    let landed = link(&app, &google.access_token, "eve@uni.example").await;
    assert_eq!(fragment_param(&landed, "linked").as_deref(), Some("uni"), "{landed}");

    // A sign-in may reuse the provider's session: no prompt.
    let (plain, _) = app.oidc_login("uni", None).await;
    assert!(!plain.contains("prompt="), "{plain}");
    let signed_in = app.oidc_sign_in("uni", "eve@uni.example").await;
    let again = app.get("/users/me", &token(&signed_in)).await;
    assert_eq!(again.body["userId"], me.body["userId"], "the linked identity signs in as the Google user");
    let ids = app.get("/users/me/identities", &google.access_token).await;
    let items = ids.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["identityId"], "google");

    // Unlinked, the identity signs in no more as this user: it is a new sign-up, refused as the
    // address is the Google account's.
    let id = items[1]["identityId"].as_str().expect("id");
    let r = app.call(Method::DELETE, &format!("/users/me/identities/{id}"), Some(&stale), None).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "reauthentication_required"), "{:?}", r.body);
    let gone = app.call(Method::DELETE, &format!("/users/me/identities/{id}"), Some(&google.access_token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{:?}", gone.body);
    let refused = app.oidc_sign_in("uni", "eve@uni.example").await;
    assert_eq!(fragment_param(&refused, "error").as_deref(), Some("link_required"), "{refused}");
}

#[tokio::test]
async fn given_an_identity_of_someone_else_when_linking_it_then_refused_and_the_last_identity_stays() {
    let (app, _idp) = stack().await;
    let fay = app.oidc_sign_in("uni", "fay@uni.example").await;
    let gus = app.browser_sign_in("gus@example.com", "Gus").await;
    let landed = link(&app, &gus.access_token, "fay@uni.example").await;
    assert_eq!(fragment_param(&landed, "error").as_deref(), Some("identity_linked_elsewhere"), "{landed}");
    let ids = app.get("/users/me/identities", &gus.access_token).await;
    assert_eq!(ids.body["items"].as_array().map(Vec::len), Some(1), "{:?}", ids.body);

    // Fay's only way to sign in cannot be unlinked; another's id is not hers to name.
    let fay_ids = app.get("/users/me/identities", &token(&fay)).await;
    let id = fay_ids.body["items"][0]["identityId"].as_str().expect("id").to_owned();
    let last = app.call(Method::DELETE, &format!("/users/me/identities/{id}"), Some(&token(&fay)), None).await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert_eq!(last.code(), "last_identity");
    let foreign = app.call(Method::DELETE, &format!("/users/me/identities/{id}"), Some(&gus.access_token), None).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_a_used_state_or_another_logins_state_then_refused() {
    let (app, _idp) = stack().await;
    let (authorize, cookie) = app.oidc_login("uni", None).await;
    let callback = app.sign_in_at_idp(&authorize, "hal@uni.example").await;
    let first = app.oidc_callback(&callback, &cookie).await;
    assert_eq!(first.status(), StatusCode::FOUND);
    let replayed = TestApp::reply(app.oidc_callback(&callback, &cookie).await).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);
    assert_eq!(replayed.code(), "invalid_state");

    // A code issued for one login presented with another login's state (and so its PKCE
    // verifier and nonce): the provider refuses the exchange.
    let (authorize_a, _) = app.oidc_login("uni", None).await;
    let (authorize_b, cookie_b) = app.oidc_login("uni", None).await;
    let callback_a = app.sign_in_at_idp(&authorize_a, "hal@uni.example").await;
    let state_b = vivid_tests::query_param(&authorize_b, "state").expect("state");
    let code_a = vivid_tests::query_param(&callback_a, "code").expect("code");
    let swapped = format!("{}/auth/oidc/uni/callback?code={code_a}&state={state_b}", app.base);
    let refused = TestApp::reply(app.oidc_callback(&swapped, &cookie_b).await).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
    assert_eq!(refused.code(), "invalid_code");
}

#[tokio::test]
async fn given_a_discovery_naming_another_issuer_or_an_unknown_provider_then_refused() {
    let (app, _idp) = stack().await;
    let wrong = app.call(Method::GET, "/auth/oidc/slash/login", None, None).await;
    assert_eq!(wrong.status, StatusCode::BAD_GATEWAY, "{:?}", wrong.body);
    assert_eq!(wrong.code(), "idp_unavailable");
    let unknown = app.call(Method::GET, "/auth/oidc/nope/login", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let unknown_link = app.call(Method::GET, "/auth/oidc/nope/callback?state=x&code=y", None, None).await;
    assert_eq!(unknown_link.status, StatusCode::NOT_FOUND);
}
