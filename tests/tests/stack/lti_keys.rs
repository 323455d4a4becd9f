//! A platform's keys as the launch uses them, against `tests/lti/platform.py` (an LMS on the PyPI
//! library `lti1p3platform`):
//!
//! - an ID token signed by another RSA key under the `kid` of the platform's published key is
//!   refused on its signature (401), whether the platform's key set was cached yet or not, and the
//!   refusal leaves the cache as it was: a launch signed by the right key goes through after it;
//! - the platform's key set failing (answering 500, or the platform gone) is a failure of the
//!   service (502 `platform_unavailable`), answered as a problem document even to a browser's form
//!   post, never redirected to the front end as a refused launch (4xx) is (docs/lti.md).

use reqwest::{StatusCode, header, redirect::Policy};
use serde_json::{Value, json};
use vivid_tests::{LtiPlatform, TestApp};

use crate::lti_launch::{code_of, person, registered, session};

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
/// What a browser's navigation accepts (the LMS's form post in the course page).
const NAVIGATION: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// An instructor's launch of `course` in which the platform's library token is signed again with
/// `tamper` (platform.py: `kid: forged` is another key under the published key's kid).
fn tampered(user: &str, course: &str, tamper: Value) -> Value {
    let mut spec = person(user, &[INSTRUCTOR]);
    spec["context"] = course.into();
    spec["tamper"] = tamper;
    spec
}

/// A launch that must be refused for its key alone, the problem's detail saying `why`.
async fn refused(platform: &LtiPlatform, hint: &str, spec: Value, why: &str) {
    let r = platform.launch(hint, spec).await;
    assert_eq!((r.reply.status, r.reply.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{:?}", r.reply.body);
    let detail = r.reply.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(why), "{detail}");
    assert!(r.code.is_none(), "no session code");
}

/// A launch by the right key that goes through: its space.
async fn goes_through(app: &TestApp, platform: &LtiPlatform, hint: &str) -> String {
    let s = session(app, &code_of(platform.launch(hint, person("teacher-1", &[INSTRUCTOR])).await)).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    s.body["launch"]["spaceId"].as_str().expect("the course's space").to_owned()
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_the_platform_s_kid_is_refused_and_the_right_key_still_launches() {
    let (app, _admin, platform) = registered().await;
    let forged = json!({ "kid": "forged" });

    // Nothing cached yet: the forged token's launch fetches the platform's set and is refused.
    refused(&platform, "f1", tampered("forger-1", "course-forged", forged.clone()), "signature").await;
    // The right key straight after: the set cached is the platform's own.
    let space = goes_through(&app, &platform, "i1").await;

    // The set cached: the forged token is still refused, and the right key still launches.
    refused(&platform, "f2", tampered("forger-1", "course-forged", forged), "signature").await;
    assert_eq!(goes_through(&app, &platform, "i2").await, space);
    // A kid the platform does not publish, inside the ten seconds in which the set is not fetched
    // again: refused, and the right key still launches.
    let unknown = tampered("forger-1", "course-forged", json!({ "kid": "unknown" }));
    refused(&platform, "u1", unknown, "does not publish").await;
    assert_eq!(goes_through(&app, &platform, "i3").await, space);

    // The forged instructor launches made nothing: their course has no space for a learner.
    let mut learner = person("student-1", &[LEARNER]);
    learner["context"] = "course-forged".into();
    let r = platform.launch("l1", learner).await;
    assert_eq!((r.reply.status, r.reply.code()), (StatusCode::CONFLICT, "course_not_linked"), "{:?}", r.reply.body);
}

/// What the tool answers a browser's form post of `id_token` and `state` to `action`:
/// `(status, content type, location, body)`.
async fn browser_post(action: &str, id_token: &str, state: &str) -> (StatusCode, String, Option<String>, Value) {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let browser = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
    let resp = browser
        .post(action)
        .header(header::ACCEPT, NAVIGATION)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("id_token={}&state={}", enc(id_token), enc(state)))
        .send()
        .await
        .expect("tool reached");
    let text = |name| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, media, location) = (resp.status(), text(header::CONTENT_TYPE), text(header::LOCATION));
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, media.unwrap_or_default(), location, body)
}

/// Sets what platform.py's key set answers.
async fn jwks_status(platform: &LtiPlatform, status: u16) {
    let url = format!("{}/_test/jwks-status", platform.base);
    let put = platform.browser.put(url).json(&json!({ "status": status })).send().await;
    assert!(put.expect("platform reached").status().is_success());
}

/// A 5xx launch answer: a problem document, not a redirect.
fn is_unavailable_problem((status, media, location, body): &(StatusCode, String, Option<String>, Value)) {
    assert_eq!(*status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(media.starts_with("application/problem+json"), "{media}");
    assert_eq!(*location, None, "no redirect to the front end");
    assert_eq!(body["code"], "platform_unavailable", "{body}");
    assert_eq!(body["status"], 502, "{body}");
}

#[tokio::test]
async fn a_launch_whose_platform_keys_fail_is_a_5xx_problem_even_to_a_browser() {
    let (app, _admin, platform) = registered().await;

    // The platform's key set answers 500: the browser's launch gets the problem document.
    jwks_status(&platform, 500).await;
    let (id_token, state, action) = platform.authenticate("i1", person("teacher-1", &[INSTRUCTOR])).await;
    is_unavailable_problem(&browser_post(&action, &id_token, &state).await);
    // An API client's launch too.
    let r = platform.launch("i2", person("teacher-1", &[INSTRUCTOR])).await;
    assert_eq!((r.reply.status, r.reply.code()), (StatusCode::BAD_GATEWAY, "platform_unavailable"));

    // The set served again: a launch goes through (the failure was not kept), and a refused
    // browser launch (4xx) is the one that lands on the front end.
    jwks_status(&platform, 200).await;
    let (id_token, state, action) = platform.authenticate("i3", person("teacher-1", &[INSTRUCTOR])).await;
    let (status, _, location, body) = browser_post(&action, &id_token, &state).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    let location = location.expect("to the front end");
    assert!(location.contains("#ltiCode="), "{location}");
    let code = location.split_once("#ltiCode=").map(|(_, c)| c.to_owned()).expect("a code");
    assert_eq!(session(&app, &code).await.status, StatusCode::OK);
    let spec = tampered("teacher-1", "course-1", json!({ "kid": "forged" }));
    let (id_token, state, action) = platform.authenticate("f1", spec).await;
    let (status, _, location, body) = browser_post(&action, &id_token, &state).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    assert!(location.is_some_and(|l| l.contains("#error=unauthenticated&error_description=")));

    // A platform that cannot be reached at all (gone between its answer and the form post): the
    // same problem document.
    let gone = LtiPlatform::start();
    let (page, _) = gone.register(&app.lti_invitation().await).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    let (id_token, state, action) = gone.authenticate("i1", person("teacher-9", &[INSTRUCTOR])).await;
    drop(gone);
    is_unavailable_problem(&browser_post(&action, &id_token, &state).await);
}
