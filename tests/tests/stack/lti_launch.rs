//! LTI 1.3 against a real platform implementation: `tests/lti/platform.py`, an LMS built on the
//! PyPI library `lti1p3platform` (0.1.8). The platform registers the tool by LTI Dynamic
//! Registration with an operator's one-time URL, starts the OIDC login at the tool, answers the
//! tool's authentication request with its signed ID token (form post to the launch), and verifies
//! the deep-linking response against the tool's JWKS. The test is the browser, and sends no
//! cookie: states, nonces and the session travel without one, as inside an LMS iframe.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{LtiPlatform, TestApp, TestUser};

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
const TA: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant";

/// A stack and its LTI administrator, signed in.
pub(crate) async fn stack() -> (TestApp, TestUser) {
    let app = TestApp::spawn().await;
    let admin = app.lti_admin().await;
    (app, admin)
}

/// A stack with the platform registered: `(app, admin, platform)`.
pub(crate) async fn registered() -> (TestApp, TestUser, LtiPlatform) {
    let (app, admin) = stack().await;
    let platform = LtiPlatform::start();
    let (page, client) = platform.register(&app.lti_invitation().await).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert!(client.is_some());
    (app, admin, platform)
}

pub(crate) fn person(user: &str, roles: &[&str]) -> Value {
    json!({ "user": user, "roles": roles, "name": format!("{user} person"), "context": "course-1", "title": "Physics 101" })
}

/// The one-time code of a launch that went through.
pub(crate) fn code_of(launched: vivid_tests::Launched) -> String {
    assert_eq!(launched.reply.status, StatusCode::FOUND, "{:?}", launched.reply.body);
    launched.code.expect("a one-time code in the fragment")
}

/// The session a launch's code is exchanged for.
pub(crate) async fn session(app: &TestApp, code: &str) -> vivid_tests::Reply {
    app.call(Method::POST, "/lti/session", None, Some(json!({ "code": code }))).await
}

async fn role_in(app: &TestApp, token: &str, space: &str) -> String {
    let r = app.get(&format!("/spaces/{space}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["role"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn dynamic_registration_with_an_operators_url_registers_the_platform_once() {
    let (app, admin) = stack().await;
    let platform = LtiPlatform::start();
    let url = app.lti_invitation().await;
    let (page, client) = platform.register(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body["page"].as_str().unwrap_or_default().contains("org.imsglobal.lti.close"));
    let client = client.expect("the platform kept the tool's registration");
    let registered = platform.get("/_test/registration").await;
    assert!(registered["jwks_uri"].as_str().unwrap_or_default().ends_with("/lti/jwks"));
    assert!(registered["initiate_login_uri"].as_str().unwrap_or_default().ends_with("/lti/login"));

    app.indexes_settled().await;
    let list = app.get("/lti/registrations", &admin.token).await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["clientId"], json!(client));
    assert_eq!(items[0]["issuer"], json!(platform.base));
    assert_eq!(items[0]["deploymentIds"], json!(["deployment-1"]));

    // The URL is good once.
    let (again, _) = platform.register(&url).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.body["code"], "invalid_state");
    // Without an invitation, or with a made-up one: refused before the platform is called.
    let base = url.split_once('?').map(|(b, _)| b).unwrap_or(&url).to_owned();
    let (none, _) = platform.register(&base).await;
    assert_eq!((none.status, none.body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_lti_request")));
    let (forged, _) = platform.register(&format!("{base}?invite=made-up")).await;
    assert_eq!(forged.body["code"], "invalid_state");
}

#[tokio::test]
async fn an_issuer_registers_again_only_with_the_same_keys() {
    let (app, _admin, platform) = registered().await;
    let first = platform.get("/_test/registration").await["client_id"].clone();
    // The same issuer naming other keys (a second LMS claiming the first one's issuer): refused
    // before the platform is asked, so no second client exists there.
    let put = platform.browser.put(format!("{}/_test/jwks-path", platform.base)).json(&json!({"path": "/keys-moved"}));
    assert!(put.send().await.expect("platform reached").status().is_success());
    let (moved, _) = platform.register(&app.lti_invitation().await).await;
    assert_eq!((moved.status, moved.body["code"].as_str()), (StatusCode::CONFLICT, Some("issuer_key_conflict")));
    assert_eq!(platform.get("/_test/registration").await["client_id"], first);
    // The same keys again (Canvas Cloud: one issuer, a client per institution): a second client.
    let put = platform.browser.put(format!("{}/_test/jwks-path", platform.base)).json(&json!({"path": "/jwks"}));
    assert!(put.send().await.expect("platform reached").status().is_success());
    let (again, client) = platform.register(&app.lti_invitation().await).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_ne!(client.map(Value::from), Some(first));
}

#[tokio::test]
async fn only_the_tools_administrators_make_urls_and_manage_registrations() {
    let (app, admin) = stack().await;
    let someone = app.user("Someone").await;
    for (method, path) in [
        (Method::POST, "/lti/registration-invitations"),
        (Method::GET, "/lti/registrations"),
        (Method::DELETE, &*format!("/lti/registrations/{}", "a".repeat(64))),
    ] {
        let anon = app.call(method.clone(), path, None, None).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        let other = app.call(method.clone(), path, Some(&someone.token), None).await;
        assert_eq!((other.status, other.code()), (StatusCode::FORBIDDEN, "lti_admins_only"), "{method} {path}");
    }
    let unknown =
        app.call(Method::DELETE, &format!("/lti/registrations/{}", "a".repeat(64)), Some(&admin.token), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = app.call(Method::DELETE, "/lti/registrations/nope", Some(&admin.token), None).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_jwks_is_public_and_cacheable() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/lti/jwks", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let key = &r.body["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert_eq!(key["e"], "AQAB");
    assert!(r.header("cache-control").unwrap_or_default().contains("max-age"));
}

#[tokio::test]
async fn an_instructors_first_launch_makes_the_course_space_and_a_learner_joins_it() {
    let (app, _admin, platform) = registered().await;
    let launched = platform.launch("i1", person("teacher-1", &[INSTRUCTOR])).await;
    assert_eq!(launched.reply.status, StatusCode::FOUND, "{:?}", launched.reply.body);
    let code = launched.code.expect("a one-time code in the fragment");
    let s = session(&app, &code).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    assert_eq!(s.header("cache-control"), Some("no-store"));
    let teacher = s.body["accessToken"].as_str().expect("access token").to_owned();
    assert!(s.body["refreshToken"].as_str().is_some(), "the refresh token travels in the body");
    let space = s.body["launch"]["spaceId"].as_str().expect("space").to_owned();
    assert_eq!(role_in(&app, &teacher, &space).await, "host");
    let got = app.get(&format!("/spaces/{space}"), &teacher).await;
    assert_eq!(got.body["name"], "Physics 101");

    // The code is good once.
    let again = session(&app, &code).await;
    assert_eq!((again.status, again.code()), (StatusCode::BAD_REQUEST, "invalid_code"));

    // A learner with no account anywhere: made a user by (iss, sub), a participant.
    let learner = platform.launch("l1", person("student-1", &[LEARNER])).await;
    let s = session(&app, &code_of(learner)).await;
    let student = s.body["accessToken"].as_str().expect("token").to_owned();
    assert_eq!(s.body["launch"]["spaceId"], json!(space));
    assert_eq!(role_in(&app, &student, &space).await, "participant");
    // Launching again is the same user.
    let again = platform.launch("l2", person("student-1", &[LEARNER])).await;
    let s2 = session(&app, &code_of(again)).await;
    assert_eq!(s2.body["user"]["userId"], s.body["user"]["userId"]);
    // A teaching assistant manages it: co-host.
    let ta = platform.launch("t1", person("ta-1", &[TA])).await;
    let s = session(&app, &code_of(ta)).await;
    assert_eq!(role_in(&app, s.body["accessToken"].as_str().expect("token"), &space).await, "co-host");
    // The refresh token of the body rotates in the body.
    let r =
        app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": s2.body["refreshToken"] }))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn a_learner_the_host_removed_does_not_launch_back_in() {
    let (app, _admin, platform) = registered().await;
    let s = session(&app, &code_of(platform.launch("i1", person("teacher-1", &[INSTRUCTOR])).await)).await;
    let teacher = s.body["accessToken"].as_str().expect("token").to_owned();
    let space = s.body["launch"]["spaceId"].as_str().expect("space").to_owned();
    let s = session(&app, &code_of(platform.launch("l1", person("student-1", &[LEARNER])).await)).await;
    let student = s.body["user"]["userId"].as_str().expect("user").to_owned();
    let removed = app.call(Method::DELETE, &format!("/spaces/{space}/members/{student}"), Some(&teacher), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    // The LMS still lists them: their launch is refused, and they are not a member again.
    let again = platform.launch("l2", person("student-1", &[LEARNER])).await;
    assert_eq!((again.reply.status, again.reply.code()), (StatusCode::FORBIDDEN, "removed_from_space"));
    let members = app.get(&format!("/spaces/{space}/members"), &teacher).await;
    assert!(!members.body.to_string().contains(&student), "{:?}", members.body);
    // A browser's launch (the LMS's form post in the course page) lands on the front end, which
    // says why, instead of a JSON document inside the LMS's frame.
    let (id_token, state, action) = platform.authenticate("l3", person("student-1", &[LEARNER])).await;
    let body = format!("id_token={}&state={}", enc(&id_token), enc(&state));
    let resp = platform
        .browser
        .post(&action)
        .header("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("tool reached");
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().expect("location").to_owned();
    assert!(location.contains("#error=removed_from_space&error_description="), "{location}");
    assert!(!location.contains("ltiCode"), "{location}");
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn a_learner_of_a_course_no_instructor_opened_gets_a_clear_problem() {
    let (_app, _admin, platform) = registered().await;
    let launched = platform.launch("l1", person("student-1", &[LEARNER])).await;
    assert_eq!(launched.reply.status, StatusCode::CONFLICT);
    assert_eq!(launched.reply.code(), "course_not_linked");
    assert!(launched.reply.body["detail"].as_str().unwrap_or_default().contains("instructor"));
}

#[tokio::test]
async fn a_replayed_or_tampered_launch_is_refused() {
    let (_app, _admin, platform) = registered().await;
    // State (and with it the nonce) used once.
    let (token, state, action) = platform.authenticate("i1", person("teacher-1", &[INSTRUCTOR])).await;
    let first = platform.post_launch(&action, &token, &state).await;
    assert_eq!(first.reply.status, StatusCode::FOUND);
    let replay = platform.post_launch(&action, &token, &state).await;
    assert_eq!((replay.reply.status, replay.reply.code()), (StatusCode::BAD_REQUEST, "invalid_state"));
    // The same ID token with another login's state: its nonce is not that login's.
    let (_, fresh_state, _) = platform.authenticate("i2", person("teacher-1", &[INSTRUCTOR])).await;
    let nonce = platform.post_launch(&action, &token, &fresh_state).await;
    assert_eq!(nonce.reply.status, StatusCode::UNAUTHORIZED, "{:?}", nonce.reply.body);
    // Made-up state.
    let made_up = platform.post_launch(&action, &token, "made-up").await;
    assert_eq!(made_up.reply.code(), "invalid_state");

    for (i, tamper) in [
        json!({ "aud": "another-tool" }),
        json!({ "iss": "https://evil.example" }),
        json!({ "exp": 1_000_000_000 }),
        json!({ "kid": "unknown" }),
    ]
    .into_iter()
    .enumerate()
    {
        let mut spec = person("teacher-1", &[INSTRUCTOR]);
        spec["tamper"] = tamper.clone();
        let r = platform.launch(&format!("t{i}"), spec).await;
        assert_eq!(r.reply.status, StatusCode::UNAUTHORIZED, "{tamper}: {:?}", r.reply.body);
        assert!(r.code.is_none());
    }
    let mut spec = person("teacher-1", &[INSTRUCTOR]);
    spec["tamper"] = json!({ "deployment": "deployment-2" });
    let r = platform.launch("dep", spec).await;
    assert_eq!((r.reply.status, r.reply.code()), (StatusCode::BAD_REQUEST, "unknown_platform"));
}

#[tokio::test]
async fn the_login_and_launch_refuse_bad_input() {
    let (app, _admin, platform) = registered().await;
    let browser = &platform.browser;
    let login = |q: String| browser.get(format!("{}/lti/login?{q}", app.base)).send();
    let unknown =
        login(format!("iss=https%3A%2F%2Fnope.example&login_hint=u&target_link_uri={}", "x")).await.expect("sent");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let missing = TestApp::reply(login("login_hint=u".into()).await.expect("sent")).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::BAD_REQUEST, "invalid_lti_request"));
    // POST login: a form.
    let form = format!("iss={}&login_hint=u&target_link_uri=t", percent(&platform.base));
    let posted = browser
        .post(format!("{}/lti/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(posted.status(), StatusCode::FOUND);
    let json_login = app.call(Method::POST, "/lti/login", None, Some(json!({ "iss": platform.base }))).await;
    assert_eq!(json_login.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Launch without fields.
    for body in ["", "state=s", "id_token=x", "error=&state=s"] {
        let r = browser
            .post(format!("{}/lti/launch", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("sent");
        let r = TestApp::reply(r).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_lti_request"), "{body}");
    }
    // The LMS's error response: back to the front end, which says what happened.
    let refused = browser
        .post(format!("{}/lti/launch", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("error=login_required&error_description=no")
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), StatusCode::FOUND);
    let location = refused.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(location.contains("#error=lti_launch_refused&error_description="), "{location}");
    assert!(location.contains("login_required"), "{location}");
    // A session without a code, or with a made-up one.
    let none = app.call(Method::POST, "/lti/session", None, Some(json!({}))).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    let made_up = app.call(Method::POST, "/lti/session", None, Some(json!({ "code": "made-up" }))).await;
    assert_eq!(made_up.code(), "invalid_code");
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
