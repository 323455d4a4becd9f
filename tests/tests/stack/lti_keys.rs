//! A platform's keys as the launch uses them, against `tests/lti/platform.py` (an LMS on the PyPI
//! library `lti1p3platform`):
//!
//! - an ID token signed by another RSA key under the `kid` of the platform's published key is
//!   refused on its signature (401), whether the platform's key set was cached yet or not, and the
//!   refusal leaves the cache as it was: a launch signed by the right key goes through after it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vivid_tests::{LtiPlatform, TestApp};

use crate::lti_launch::{code_of, person, registered, session};

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";

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
