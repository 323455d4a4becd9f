//! LTI Deep Linking 2.0 against the real platform (`tests/lti/platform.py`, `lti1p3platform`
//! 0.1.8): an instructor's deep-linking launch, their pick answered as a signed
//! `LtiDeepLinkingResponse` that the platform verifies against the tool's JWKS, and a student's
//! launch of the link opening that video.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::types::UserId;
use vivid_tests::{Launched, LtiPlatform, Reply, TestApp, TestUser};

use crate::lti_launch::registered;

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";

fn person(user: &str, roles: &[&str]) -> Value {
    json!({ "user": user, "roles": roles, "name": user, "context": "course-7", "title": "Optics" })
}

/// The session of a launch that went through, as the signed-in person.
async fn signed_in(app: &TestApp, launched: Launched) -> (TestUser, Value) {
    assert_eq!(launched.reply.status, StatusCode::FOUND, "{:?}", launched.reply.body);
    let code = launched.code.expect("code");
    let s = app.call(Method::POST, "/lti/session", None, Some(json!({ "code": code }))).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    let id: UserId = s.body["user"]["userId"].as_str().expect("user").parse().expect("id");
    let user = app.users().get_user(&id).await.expect("read").expect("user");
    let token = s.body["accessToken"].as_str().expect("token").to_owned();
    (TestUser { user, token }, s.body["launch"].clone())
}

/// The page's form: its action and its `JWT` field.
fn form_of(page: &str) -> (String, String) {
    let attr = |name: &str| {
        let start = page.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        page[start..].split('"').next().unwrap_or_default().replace("&amp;", "&")
    };
    (attr("action"), attr("value"))
}

/// The page's form posted to the platform (`JWT`), which verifies it with the tool's JWKS.
async fn return_to_platform(platform: &LtiPlatform, action: &str, jwt: &str) {
    let resp = platform
        .browser
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("JWT={jwt}"))
        .send()
        .await
        .expect("platform reached");
    assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
}

async fn pick(app: &TestApp, token: Option<&str>, body: Value) -> (StatusCode, String, Reply) {
    let mut req = app.http.post(format!("{}/lti/deep-link", app.base)).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let reply = Reply { status, headers: Default::default(), body: serde_json::from_str(&text).unwrap_or(Value::Null) };
    (status, text, reply)
}

async fn deep_linking_launch(app: &TestApp, platform: &LtiPlatform, hint: &str) -> (TestUser, Value) {
    let mut spec = person("teacher-7", &[INSTRUCTOR]);
    spec["deep_linking"] = json!(true);
    spec["data"] = json!("opaque-platform-data");
    signed_in(app, platform.launch(hint, spec).await).await
}

#[tokio::test]
async fn a_deep_link_round_trip_puts_a_video_in_the_course_and_a_student_launch_opens_it() {
    let (app, _admin, platform) = registered().await;
    let (teacher, first) = signed_in(&app, platform.launch("i1", person("teacher-7", &[INSTRUCTOR])).await).await;
    let space = first["spaceId"].as_str().expect("space").to_owned();
    let video = app.ready_video(&space, &teacher).await;

    let (teacher, launch) = deep_linking_launch(&app, &platform, "dl1").await;
    assert_eq!(launch["spaceId"], json!(space));
    let deep_link = launch["deepLinkId"].as_str().expect("a deep-linking request").to_owned();
    let (status, page, _) =
        pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link, "videoIds": [video] })).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (action, jwt) = form_of(&page);
    assert_eq!(action, format!("{}/deep-link-return", platform.base));

    // The platform verifies the response with the tool's JWKS (fetched from /lti/jwks).
    return_to_platform(&platform, &action, &jwt).await;
    let received = platform.get("/_test/deep-links").await;
    let item = received[0]["items"][0].clone();
    assert_eq!(item["type"], "ltiResourceLink");
    assert_eq!(item["custom"]["vivid_video"], json!(video));
    let claims = &received[0]["claims"];
    assert_eq!(claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"], "opaque-platform-data");
    assert_eq!(claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"], "deployment-1");

    // A forged response (the JWT's signature changed) is refused by the platform.
    let forged = format!("{}x", &jwt[..jwt.len() - 1]);
    let resp = platform.browser.post(&action).body(format!("JWT={forged}")).send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // The request is good once.
    let (again, _, reply) =
        pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link, "videoIds": [video] })).await;
    assert_eq!((again, reply.code()), (StatusCode::BAD_REQUEST, "invalid_state"));

    // A student launches the link: it opens the video.
    let mut spec = person("student-7", &[LEARNER]);
    spec["custom"] = item["custom"].clone();
    spec["target"] = item["url"].clone();
    let (student, launch) = signed_in(&app, platform.launch("s1", spec).await).await;
    assert_eq!(launch["videoId"], json!(video));
    let got = app.get(&format!("/videos/{video}"), &student.token).await;
    assert_eq!(got.status, StatusCode::OK, "{:?}", got.body);
}

#[tokio::test]
async fn a_deep_link_of_twenty_videos_is_signed_and_verified() {
    // Twenty items and long platform data make a signing input of about 10 KB, past the 4,096
    // bytes KMS signs as a RAW message (the local emulator refuses that as AWS does): the tool
    // signs its digest.
    let (app, _admin, platform) = registered().await;
    let (teacher, first) = signed_in(&app, platform.launch("i1", person("teacher-7", &[INSTRUCTOR])).await).await;
    let space = first["spaceId"].as_str().expect("space").to_owned();
    let video = app.ready_video(&space, &teacher).await;
    let mut spec = person("teacher-7", &[INSTRUCTOR]);
    spec["deep_linking"] = json!(true);
    spec["data"] = json!("d".repeat(3000));
    let (teacher, launch) = signed_in(&app, platform.launch("dl20", spec).await).await;
    let deep_link = launch["deepLinkId"].as_str().expect("a deep-linking request").to_owned();
    let twenty: Vec<&str> = std::iter::repeat_n(video.as_str(), 20).collect();
    let (status, page, _) =
        pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link, "videoIds": twenty })).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (action, jwt) = form_of(&page);
    let signed = jwt.rsplit_once('.').map_or(0, |(input, _)| input.len());
    assert!(signed > 4096, "the signing input is {signed} bytes");
    return_to_platform(&platform, &action, &jwt).await;
    let received = platform.get("/_test/deep-links").await;
    assert_eq!(received[0]["items"].as_array().map(Vec::len), Some(20));
    assert_eq!(received[0]["claims"]["https://purl.imsglobal.org/spec/lti-dl/claim/data"], json!("d".repeat(3000)));
}

#[tokio::test]
async fn a_co_host_demoted_since_the_deep_linking_launch_cannot_pick() {
    let (app, _admin, platform) = registered().await;
    let (teacher, first) = signed_in(&app, platform.launch("i1", person("teacher-7", &[INSTRUCTOR])).await).await;
    let space = first["spaceId"].as_str().expect("space").to_owned();
    let video = app.ready_video(&space, &teacher).await;
    let ta_role = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant";
    let mut spec = person("ta-7", &[ta_role]);
    spec["deep_linking"] = json!(true);
    let (ta, launch) = signed_in(&app, platform.launch("ta1", spec).await).await;
    let deep_link = launch["deepLinkId"].as_str().expect("a deep-linking request").to_owned();
    let demoted = app
        .call(
            Method::PATCH,
            &format!("/spaces/{space}/members/{}", ta.user.user_id),
            Some(&teacher.token),
            Some(json!({ "role": "participant" })),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{:?}", demoted.body);
    let (s, _, r) = pick(&app, Some(&ta.token), json!({ "deepLinkId": deep_link, "videoIds": [video] })).await;
    assert_eq!((s, r.code()), (StatusCode::FORBIDDEN, "managers_only"));
    assert!(platform.get("/_test/deep-links").await.as_array().is_none_or(Vec::is_empty));
}

#[tokio::test]
async fn a_deep_linking_request_is_its_instructors_and_takes_only_the_courses_videos() {
    let (app, _admin, platform) = registered().await;
    let (teacher, first) = signed_in(&app, platform.launch("i1", person("teacher-7", &[INSTRUCTOR])).await).await;
    let space = first["spaceId"].as_str().expect("space").to_owned();
    let video = app.ready_video(&space, &teacher).await;
    let (teacher, launch) = deep_linking_launch(&app, &platform, "dl1").await;
    let deep_link = launch["deepLinkId"].as_str().expect("request").to_owned();

    // A learner cannot make a deep-linking request.
    let mut spec = person("student-7", &[LEARNER]);
    spec["deep_linking"] = json!(true);
    let refused = platform.launch("s0", spec).await;
    assert_eq!((refused.reply.status, refused.reply.code()), (StatusCode::FORBIDDEN, "managers_only"));

    // Nobody else answers the instructor's request: a student manages nothing (403), another
    // manager of the course holds no such request (400); without a token, 401.
    let (student, _) = signed_in(&app, platform.launch("s1", person("student-7", &[LEARNER])).await).await;
    let (s, _, r) = pick(&app, Some(&student.token), json!({ "deepLinkId": deep_link, "videoIds": [video] })).await;
    assert_eq!((s, r.code()), (StatusCode::FORBIDDEN, "managers_only"));
    let ta_role = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant";
    let (ta, _) = signed_in(&app, platform.launch("t1", person("ta-7", &[ta_role])).await).await;
    let (s, _, r) = pick(&app, Some(&ta.token), json!({ "deepLinkId": deep_link, "videoIds": [video] })).await;
    assert_eq!((s, r.code()), (StatusCode::BAD_REQUEST, "invalid_state"));
    let (s, _, _) = pick(&app, None, json!({ "deepLinkId": deep_link, "videoIds": [video] })).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Another space's video, an unknown one, too many, a malformed body: refused, and the request
    // is still usable afterwards.
    let other = app.space(&teacher, "Elsewhere").await;
    let foreign = app.ready_video(&other, &teacher).await;
    let (s, _, _) = pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link, "videoIds": [foreign] })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let unknown = "01M8E5QBD0Y703QCJ62VTX0BP0";
    let (s, _, _) = pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link, "videoIds": [unknown] })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let many: Vec<&str> = std::iter::repeat_n(video.as_str(), 21).collect();
    let (s, _, r) = pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link, "videoIds": many })).await;
    assert_eq!((s, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));
    let (s, _, _) = pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, r) = pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link, "videoIds": [] })).await;
    assert_eq!((s, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));
    let (s, page, _) = pick(&app, Some(&teacher.token), json!({ "deepLinkId": deep_link, "videoIds": [video] })).await;
    assert_eq!(s, StatusCode::OK, "{page}");
}
