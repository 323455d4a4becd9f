//! Two LMSs registered side by side, each `tests/lti/platform.py` (on the PyPI library
//! `lti1p3platform`) in a process of its own: two issuers, two client ids, two key sets whose
//! keys carry the same `kid`. Their courses with the same `context.id`, and their people with the
//! same `sub`, are two spaces and two users; a token signed by one platform's key and claiming
//! the other's issuer is refused.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vivid_tests::{LtiPlatform, TestApp};

use crate::lti_launch::{code_of, person, session, stack};

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";

async fn platform(app: &TestApp) -> LtiPlatform {
    let platform = LtiPlatform::start();
    let (page, client) = platform.register(&app.lti_invitation().await).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert!(client.is_some());
    platform
}

/// A launch's session: `(user id, access token, space id)`.
async fn signed_in(
    app: &TestApp,
    platform: &LtiPlatform,
    hint: &str,
    user: &str,
    role: &str,
) -> (Value, String, String) {
    let s = session(app, &code_of(platform.launch(hint, person(user, &[role])).await)).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    let token = s.body["accessToken"].as_str().expect("token").to_owned();
    (s.body["user"]["userId"].clone(), token, s.body["launch"]["spaceId"].as_str().expect("space").to_owned())
}

/// A JWT's part `i` (0 the header, 1 the claims), decoded.
fn part(jwt: &str, i: usize) -> Value {
    let raw = jwt.split('.').nth(i).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(raw).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn the_same_course_id_on_two_platforms_is_two_spaces_and_one_platform_s_key_signs_nothing_for_the_other() {
    let (app, _admin) = stack().await;
    let (a, b) = (platform(&app).await, platform(&app).await);
    assert_ne!(a.base, b.base, "two issuers");

    // A's instructor opens A's course-1 (person() launches course-1 on both platforms).
    let (a_teacher, a_token, a_space) = signed_in(&app, &a, "i1", "teacher-1", INSTRUCTOR).await;
    // B's learner of B's course-1: no instructor opened B's course, so there is no space for it,
    // whatever A's course of the same id has.
    let r = b.launch("l1", person("student-1", &[LEARNER])).await;
    assert_eq!((r.reply.status, r.reply.code()), (StatusCode::CONFLICT, "course_not_linked"), "{:?}", r.reply.body);
    // B's instructor, of the same subject as A's: another user, hosting another space.
    let (b_teacher, b_token, b_space) = signed_in(&app, &b, "i1", "teacher-1", INSTRUCTOR).await;
    assert_ne!(b_space, a_space);
    assert_ne!(b_teacher, a_teacher);
    for (token, space) in [(&a_token, &b_space), (&b_token, &a_space)] {
        let r = app.get(&format!("/spaces/{space}"), token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "the other platform's space: {:?}", r.body);
    }
    for (token, space) in [(&a_token, &a_space), (&b_token, &b_space)] {
        let r = app.get(&format!("/spaces/{space}"), token).await;
        assert_eq!((r.status, r.body["role"].as_str()), (StatusCode::OK, Some("host")), "{:?}", r.body);
    }
    // Learners of the same subject on both land each in their own platform's space.
    let (a_learner, a_learner_token, landed) = signed_in(&app, &a, "l2", "student-1", LEARNER).await;
    assert_eq!(landed, a_space);
    let (b_learner, _, landed) = signed_in(&app, &b, "l2", "student-1", LEARNER).await;
    assert_eq!(landed, b_space);
    assert_ne!(a_learner, b_learner);
    let r = app.get(&format!("/spaces/{b_space}"), &a_learner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);

    // A token A signs claiming B's issuer, for B's login (B's client id and nonce): everything
    // B's own token says, but not B's signature. Both platforms name their key `platform-key-1`,
    // so the tool looks it up in B's set and finds B's key of that name.
    let (b_id_token, b_state, action) = b.authenticate("x1", person("teacher-1", &[INSTRUCTOR])).await;
    let claims = part(&b_id_token, 1);
    assert_eq!(claims["iss"], json!(b.base));
    let mut spec = person("teacher-1", &[INSTRUCTOR]);
    spec["tamper"] =
        json!({ "iss": claims["iss"], "aud": claims["aud"], "azp": claims["azp"], "nonce": claims["nonce"] });
    let (a_id_token, a_state, a_action) = a.authenticate("x2", spec).await;
    assert_eq!(part(&a_id_token, 0)["kid"], part(&b_id_token, 0)["kid"], "one kid, two keys");
    for name in ["iss", "aud", "azp", "nonce", "sub"] {
        assert_eq!(part(&a_id_token, 1)[name], claims[name], "{name}");
    }
    let forged = b.post_launch(&action, &a_id_token, &b_state).await;
    assert_eq!(
        (forged.reply.status, forged.reply.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated"),
        "{:?}",
        forged.reply.body
    );
    assert!(forged.reply.body["detail"].as_str().unwrap_or_default().contains("signature"), "{:?}", forged.reply.body);
    assert!(forged.code.is_none());
    // Posted with A's own login (A's issuer in the state): verified by A's key, refused on its
    // issuer.
    let other = a.post_launch(&a_action, &a_id_token, &a_state).await;
    assert_eq!(other.reply.status, StatusCode::UNAUTHORIZED, "{:?}", other.reply.body);
    assert!(other.reply.body["detail"].as_str().unwrap_or_default().contains("iss"), "{:?}", other.reply.body);
    assert!(other.code.is_none());
    // B's own token for a login of its own goes through, to B's space.
    let (_, _, landed) = signed_in(&app, &b, "x3", "teacher-1", INSTRUCTOR).await;
    assert_eq!(landed, b_space);
}
