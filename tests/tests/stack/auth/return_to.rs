//! A browser sign-in started with `returnTo` (the front end): where it lands whatever happens —
//! the problem in the fragment once the state checked out (4xx and 5xx alike), the problem
//! document when it did not, and which `returnTo` is taken at all.

use reqwest::StatusCode;
use vivid_local::infra::faults::{Fault, FaultRule};
use vivid_tests::{TestApp, cookie_value, form_decode, set_cookies};

use super::count_items;

/// The fragment of a redirect's `Location` as name → decoded value.
fn fragment_params(location: &str) -> std::collections::HashMap<String, String> {
    let fragment = location.split_once('#').map(|(_, f)| f).unwrap_or_default();
    fragment.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), form_decode(v))).collect()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// A refusal redirected to `return_to`: its fragment's members, no token, `vivid_login` cleared.
fn refused_at(resp: &reqwest::Response, return_to: &str) -> std::collections::HashMap<String, String> {
    assert_eq!(resp.status(), StatusCode::FOUND, "{:?}", resp.headers());
    let location = location(resp);
    assert!(location.starts_with(&format!("{return_to}#error=")), "{location}");
    assert!(!location.contains("accessToken") && !location.contains("refresh"), "no token: {location}");
    let cookies = set_cookies(resp.headers());
    assert!(cookie_value(&cookies, "__Host-vivid_refresh").is_none(), "{cookies:?}");
    let login = cookies.iter().find(|c| c.starts_with("vivid_login=")).expect("login cookie cleared");
    assert!(login.contains("Max-Age=0"), "{login}");
    let params = fragment_params(&location);
    assert!(params.get("requestId").is_some_and(|id| !id.is_empty()), "{location}");
    params
}

/// A sign-in started with a return URL (the front end) ends on the front end whatever
/// happens: an address another account uses comes back as OAuth's error redirect, the problem's
/// code, detail, status and request id in the fragment (where the study page reads them), and
/// no token anywhere; an unverified address the same way with its 401. Only what a fragment
/// needs is percent-encoded: the code reads as it is.
#[tokio::test]
async fn given_a_return_url_when_the_browser_sign_in_is_refused_then_the_front_end_gets_the_problem_in_the_fragment() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let return_to = format!("{}/_local/signed-in?next=/spaces", app.base);
    for (email, verified, status, code, detail) in [
        (
            ana.email(),
            true,
            "409",
            "email_taken",
            "another account already uses this e-mail address: sign in with the Google account it was created with, or delete that account first (DELETE /users/me)",
        ),
        (
            "dee@example.com".to_owned(),
            false,
            "401",
            "unauthenticated",
            "the Google account's e-mail address is not verified",
        ),
    ] {
        let pending = app.start_login(Some(&return_to)).await;
        let callback = app.approve_at_google(&pending, &email, "Ana", verified).await;
        let resp = app.callback(&callback, Some(&pending.login_cookie)).await;
        assert!(location(&resp).starts_with(&format!("{return_to}#error={code}&error_description=")), "{resp:?}");
        let params = refused_at(&resp, &return_to);
        assert_eq!(params.get("error").map(String::as_str), Some(code), "{params:?}");
        assert_eq!(params.get("status").map(String::as_str), Some(status), "{params:?}");
        let described = params.get("error_description").cloned().unwrap_or_default();
        assert!(described.starts_with(detail), "{described}");
    }
    assert_eq!(count_items(&app, "USER#").await, 1, "only Ana's account");
}

/// The table unavailable while a returnTo sign-in signs the person up: the 503 comes back to the
/// front end too (`status=503`, `service_unavailable`, the generic detail: nothing of the cause),
/// and nothing is half-made; healed, the same person signs in.
#[tokio::test]
async fn given_a_return_url_when_the_table_is_unavailable_at_sign_in_then_the_front_end_gets_503_without_the_cause() {
    let app = TestApp::spawn().await;
    let return_to = format!("{}/_local/signed-in", app.base);
    let pending = app.start_login(Some(&return_to)).await;
    let callback = app.approve_at_google(&pending, "fay@example.com", "Fay", true).await;
    let faults = app.stack.faults();
    let id = faults.add(FaultRule::dynamodb("TransactWriteItems", Fault::Throttle));
    let resp = app.callback(&callback, Some(&pending.login_cookie)).await;
    faults.clear();
    assert!(faults.fired(id) > 0, "the fault never fired");
    let params = refused_at(&resp, &return_to);
    assert_eq!(params.get("error").map(String::as_str), Some("service_unavailable"), "{params:?}");
    assert_eq!(params.get("status").map(String::as_str), Some("503"), "{params:?}");
    let detail = params.get("error_description").cloned().unwrap_or_default();
    assert_eq!(detail, "the service is busy or briefly unavailable; try again in a few seconds");
    assert!(!location(&resp).contains("Throttl"), "no cause: {}", location(&resp));
    assert_eq!(count_items(&app, "USER#").await, 0, "no account half-made");
    let again = app.browser_sign_in("fay@example.com", "Fay").await;
    assert!(again.location.contains("#accessToken="), "{}", again.location);
}

/// A state that does not check out is not a page we know to return to, returnTo or not: another
/// browser's cookie, and a replay of a callback already used, answer 400 `invalid_state` as a
/// problem document with no `Location`.
#[tokio::test]
async fn given_a_return_url_when_the_state_does_not_check_out_then_400_without_a_redirect() {
    let app = TestApp::spawn().await;
    let return_to = format!("{}/_local/signed-in", app.base);
    let pending = app.start_login(Some(&return_to)).await;
    let callback = app.approve_at_google(&pending, "gus@example.com", "Gus", true).await;
    let other = app.start_login(Some(&return_to)).await;
    let foreign = app.callback(&callback, Some(&other.login_cookie)).await;
    let used = app.callback(&callback, Some(&pending.login_cookie)).await;
    assert_eq!(used.status(), StatusCode::FOUND);
    assert!(location(&used).starts_with(&format!("{return_to}#accessToken=")), "{}", location(&used));
    let replayed = app.callback(&callback, Some(&pending.login_cookie)).await;
    for (what, resp) in [("another browser's cookie", foreign), ("a replay", replayed)] {
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{what}");
        assert!(resp.headers().get("location").is_none(), "{what}: {:?}", resp.headers());
        let kind = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(kind, "application/problem+json", "{what}");
        let body: serde_json::Value = resp.json().await.expect("problem");
        assert_eq!(body["code"], "invalid_state", "{what}: {body}");
    }
}

/// A returnTo with a fragment is refused at the start (400 `invalid_return_to`, saying so): the
/// result would follow it (`..#x#error=..`) where no page could read it.
#[tokio::test]
async fn given_a_return_url_with_a_fragment_when_starting_the_sign_in_then_400() {
    let app = TestApp::spawn().await;
    for return_to in [format!("{}/_local/signed-in#x", app.base), format!("{}/#", app.base)] {
        let url = format!("{}/auth/google/login?returnTo={}", app.base, vivid_testkit::form_encode(&return_to));
        let resp = app.http.get(url).send().await.expect("login");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{return_to}");
        assert!(resp.headers().get("location").is_none(), "{return_to}");
        let body: serde_json::Value = resp.json().await.expect("problem");
        assert_eq!(body["code"], "invalid_return_to", "{body}");
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("fragment")), "{body}");
    }
}

/// The local stack takes a returnTo on its own origin in both loopback spellings, so a page that
/// calls the API as `http://localhost:<port>` (as README.md recommends) comes back to it.
#[tokio::test]
async fn given_the_local_stack_then_a_return_url_on_either_loopback_spelling_is_honoured() {
    let app = TestApp::spawn().await;
    let localhost = app.base.replacen("://127.0.0.1", "://localhost", 1);
    assert_ne!(localhost, app.base, "the stack listens on 127.0.0.1");
    for origin in [&app.base, &localhost] {
        let return_to = format!("{origin}/_local/signed-in?from=readme");
        let pending = app.start_login(Some(&return_to)).await;
        let callback = app.approve_at_google(&pending, "hal@example.com", "Hal", true).await;
        let resp = app.callback(&callback, Some(&pending.login_cookie)).await;
        assert!(location(&resp).starts_with(&format!("{return_to}#accessToken=")), "{}", location(&resp));
    }
}
