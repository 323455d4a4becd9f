//! The course roster synced on launch (issue 28, LTI NRPS), against the local stack and the LMS
//! stand-ins on `lti1p3platform`:
//!
//! - the trigger: launches from tests/lti/platform.py. A launch by someone who manages the course
//!   starts `lti-roster-worker` (an asynchronous invocation the local stack runs as Lambda does),
//!   at most once per course in ten minutes (`LTISYNC#`, one conditional write); a second
//!   instructor's launch within the window, and a learner's, start none; another course's
//!   instructor starts its own; once the window is over, the next managing launch starts one.
//!   platform.py's launches name a roster service it does not serve (404 at its
//!   `context_memberships_url`): the worker ends that run without a retry.
//! - end to end: platform.py registered with services.py's token endpoint, its launches' NRPS
//!   claim naming services.py's roster of the course: the instructor's FIRST launch, the one that
//!   makes the course's space and its link, brings the learners in (marked with their subject) at
//!   the worker's first attempt — the worker reads the link by its own key, consistently, where
//!   the index (GSI1, lagging as AWS's does in the local stack) does not have it yet —, the
//!   roster is not read again within the ten minutes, and a learner dropped at the platform is
//!   removed by the next sync after them.
//! - the worker: its event (`{spaceId, context}`, as the launch sends it) run by the stack's
//!   function (the template's environment and grants) on a space linked to a course whose roster
//!   tests/lti/services.py serves: joiners added, leavers removed, roles updated, exactly as the
//!   host's route applies it; a second run changes nothing; an event naming a course linked to
//!   another space, or no linked course, ends; an older event without the course (`{spaceId}`)
//!   still syncs, and on a space made in the last two minutes with no link in the index fails,
//!   for Lambda to retry.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::{
    lti::roster::LINK_INDEX_GRACE_SECS,
    types::{SpaceId, rfc3339_at, unix_now},
};
use vivid_local::infra::emulator::async_invoke::AsyncCounts;
use vivid_tests::TestApp;

use crate::{
    lti_launch::{code_of, person, registered, session},
    lti_roster_route::{COURSE, course_of, linked_space, lms},
};

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const TEACHING_ASSISTANT: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant";
const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";

/// The roster worker's asynchronous runs so far.
fn runs(app: &TestApp) -> AsyncCounts {
    app.stack.async_invocations().counts("lti-roster-worker")
}

/// Waits (30 s at most) until the roster worker has been started `started` times in all and every
/// run has ended (with Lambda's retries); answers its counts.
pub(crate) async fn roster_runs_settled(app: &TestApp, started: u64) -> AsyncCounts {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let counts = runs(app);
        if counts.in_flight == 0 && counts.succeeded + counts.exhausted >= started {
            return counts;
        }
        assert!(std::time::Instant::now() < deadline, "after 30 s: {counts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs started so far: running, or ended.
fn started(counts: AsyncCounts) -> u64 {
    counts.in_flight + counts.succeeded + counts.exhausted
}

/// A launch by `user` with `roles` in the platform's course `course`: `(access token, space id)`.
async fn launch(
    app: &TestApp,
    launcher: &vivid_tests::LtiPlatform,
    hint: &str,
    user: &str,
    roles: &[&str],
    course: &str,
) -> (String, String) {
    let mut spec = person(user, roles);
    spec["context"] = course.into();
    let s = session(app, &code_of(launcher.launch(hint, spec).await)).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    let token = s.body["accessToken"].as_str().expect("access token").to_owned();
    (token, s.body["launch"]["spaceId"].as_str().expect("the course's space").to_owned())
}

/// The course's record of its last launch-started sync: `(startedAt, expiresAt)`.
async fn sync_record(app: &TestApp, space: &str) -> Option<(u64, u64)> {
    let link = course_of(app, space).await;
    let item = app.item(&format!("LTISYNC#{}", link.context.hash()), "LTI").await?;
    let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok());
    Some((number("startedAt")?, number("expiresAt")?))
}

/// Sets when the course's last launch-started sync began, behind the API's back: what some minutes'
/// wait leaves.
async fn set_sync_started(app: &TestApp, space: &str, started: u64) {
    let link = course_of(app, space).await;
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("LTISYNC#{}", link.context.hash())))
        .key("SK", AttributeValue::S("LTI".into()))
        .update_expression("SET startedAt = :t")
        .expression_attribute_values(":t", AttributeValue::N(started.to_string()))
        .send()
        .await
        .expect("backdate the sync");
}

#[tokio::test]
async fn an_instructor_s_launch_starts_one_roster_sync_per_course_in_ten_minutes_and_a_learner_s_none() {
    let (app, _admin, launcher) = registered().await;

    // The instructor's first launch makes the course's space and starts the worker: accepted
    // before the launch answered.
    let before = unix_now();
    let (_, space) = launch(&app, &launcher, "i1", "teacher-1", &[INSTRUCTOR], "course-1").await;
    assert_eq!(started(runs(&app)), 1, "the launch started the worker: {:?}", runs(&app));
    let counts = roster_runs_settled(&app, 1).await;
    assert_eq!(
        (counts.succeeded, counts.failed_runs, counts.exhausted),
        (1, 0, 0),
        "a roster service the platform does not serve ends the run, without a retry: {counts:?}"
    );
    let (at, expires) = sync_record(&app, &space).await.expect("the course's sync recorded");
    assert!((before..=unix_now()).contains(&at), "{at}");
    assert_eq!(expires, at + 600, "the record expires with the window");

    // A second instructor (a teaching assistant) and a learner, within the ten minutes: none.
    let (_, joined) = launch(&app, &launcher, "t1", "assistant-1", &[TEACHING_ASSISTANT], "course-1").await;
    assert_eq!(joined, space);
    let (_, joined) = launch(&app, &launcher, "l1", "student-1", &[LEARNER], "course-1").await;
    assert_eq!(joined, space);
    let (_, joined) = launch(&app, &launcher, "i2", "teacher-1", &[INSTRUCTOR], "course-1").await;
    assert_eq!(joined, space);
    assert_eq!(started(runs(&app)), 1, "no second sync of the course: {:?}", runs(&app));
    assert_eq!(sync_record(&app, &space).await.map(|(at, _)| at), Some(at), "the record is the first launch's");

    // Another course's instructor starts that course's own.
    let (_, other) = launch(&app, &launcher, "i3", "teacher-2", &[INSTRUCTOR], "course-2").await;
    assert_ne!(other, space);
    assert_eq!(started(runs(&app)), 2, "{:?}", runs(&app));

    // Nine and a half minutes on (the record moved back), a managing launch still starts none;
    // past ten minutes the next one starts one again; a learner's still none.
    set_sync_started(&app, &space, unix_now() - 570).await;
    let (_, joined) = launch(&app, &launcher, "t2", "assistant-1", &[TEACHING_ASSISTANT], "course-1").await;
    assert_eq!(joined, space);
    assert_eq!(started(runs(&app)), 2, "within the ten minutes: {:?}", runs(&app));
    set_sync_started(&app, &space, unix_now() - 601).await;
    launch(&app, &launcher, "l3", "student-3", &[LEARNER], "course-1").await;
    assert_eq!(started(runs(&app)), 2, "a learner's launch never starts one: {:?}", runs(&app));
    launch(&app, &launcher, "t3", "assistant-1", &[TEACHING_ASSISTANT], "course-1").await;
    let counts = roster_runs_settled(&app, 3).await;
    assert_eq!((counts.succeeded, counts.failed_runs, counts.exhausted), (3, 0, 0), "{counts:?}");
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the functions' template policies");
}

fn member(sub: &str, name: &str, role: &str) -> Value {
    json!({ "user_id": sub, "name": name, "roles": [role], "status": "Active" })
}

/// The space's members as `(name, role)`, sorted.
async fn members_of(app: &TestApp, space: &str, token: &str) -> Vec<(String, String)> {
    app.indexes_settled().await;
    let (items, _) = app.all_pages(&format!("/spaces/{space}/members"), token, 10).await;
    let mut seen: Vec<(String, String)> = items
        .iter()
        .map(|m| (m["name"].as_str().unwrap_or("").to_owned(), m["role"].as_str().unwrap_or("").to_owned()))
        .collect();
    seen.sort();
    seen
}

fn named(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, r)| ((*n).to_owned(), (*r).to_owned())).collect()
}

#[tokio::test]
async fn the_roster_worker_applies_the_course_roster_as_the_host_s_sync_does() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let by_hand = app.user("ByHand").await;
    let platform = lms(&app).await;
    let space = linked_space(&app, &platform, &host).await;
    app.join(&space, &host, &by_hand).await;
    platform
        .set_roster(
            COURSE,
            json!([
                member("sub-a", "Ada", LEARNER),
                member("sub-b", "Ben", LEARNER),
                member("sub-c", "Cleo", INSTRUCTOR)
            ]),
        )
        .await;
    let link = course_of(&app, &space).await;
    let job = json!({ "spaceId": space, "context": link.context });

    // As Lambda runs it after a launch: asynchronously, through the function the template wires.
    let lambda = aws_sdk_lambda::Client::new(&app.stack.sdk);
    let accepted = lambda
        .invoke()
        .function_name("lti-roster-worker")
        .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
        .payload(aws_sdk_lambda::primitives::Blob::new(job.to_string()))
        .send()
        .await
        .expect("invoke");
    assert_eq!(accepted.status_code(), 202);
    let counts = roster_runs_settled(&app, 1).await;
    assert_eq!((counts.succeeded, counts.failed_runs), (1, 0), "{counts:?}");
    let expected = [
        ("Ada", "participant"),
        ("Ben", "participant"),
        ("ByHand", "participant"),
        ("Cleo", "co-host"),
        ("Host", "host"),
    ];
    assert_eq!(members_of(&app, &space, &host.token).await, named(&expected));

    // Ada leaves the course, Ben becomes an instructor; a second run changes nothing.
    platform.set_roster(COURSE, json!([member("sub-b", "Ben", INSTRUCTOR), member("sub-c", "Cleo", INSTRUCTOR)])).await;
    let r = app.invoke("lti-roster-worker", job.clone()).await.expect("the worker succeeds");
    assert_eq!(r, json!({ "outcome": "synced", "added": 0, "removed": 1, "updated": 1, "skipped": 0, "failed": 0 }));
    let expected = [("Ben", "co-host"), ("ByHand", "participant"), ("Cleo", "co-host"), ("Host", "host")];
    assert_eq!(members_of(&app, &space, &host.token).await, named(&expected));
    let r = app.invoke("lti-roster-worker", job.clone()).await.expect("the worker succeeds");
    assert_eq!(r, json!({ "outcome": "synced", "added": 0, "removed": 0, "updated": 0, "skipped": 0, "failed": 0 }));
    // The host's route agrees: nothing left to change.
    let r = app.call(Method::POST, &format!("/spaces/{space}/lti/roster-sync"), Some(&host.token), None).await;
    assert_eq!(r.body, json!({ "added": 0, "removed": 0, "updated": 0, "skipped": 0, "failed": 0 }), "{:?}", r.body);
    // An event sent before the course was in it (`{spaceId}`): the link found through the space.
    let r = app.invoke("lti-roster-worker", json!({ "spaceId": space })).await.expect("the worker succeeds");
    assert_eq!(r, json!({ "outcome": "synced", "added": 0, "removed": 0, "updated": 0, "skipped": 0, "failed": 0 }));

    // Nothing to sync from: the run ends, without an error to retry. The course's link names
    // another space (this event's space was replaced), or no course is linked by that key.
    let plain = app.space(&host, "Plain").await;
    let r = app.invoke("lti-roster-worker", json!({ "spaceId": plain, "context": link.context })).await;
    assert_eq!(r.expect("ends"), json!({ "outcome": "not_linked" }));
    let mut unlinked = link.context.clone();
    unlinked.context_id = "never-linked".into();
    let r = app.invoke("lti-roster-worker", json!({ "spaceId": space, "context": unlinked })).await;
    assert_eq!(r.expect("ends"), json!({ "outcome": "not_linked" }));
    // An older event on a space made a moment ago whose link the index has not shown yet: failed,
    // for Lambda to retry; once the space is older than that, the run ends.
    let young = app.invoke("lti-roster-worker", json!({ "spaceId": plain })).await;
    assert!(young.as_ref().is_err_and(|e| e.contains("unavailable")), "a retryable failure: {young:?}");
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("SPACE#{plain}")))
        .key("SK", AttributeValue::S("META".into()))
        .update_expression("SET createdAt = :t")
        .expression_attribute_values(":t", AttributeValue::S(rfc3339_at(unix_now() - LINK_INDEX_GRACE_SECS - 1)))
        .send()
        .await
        .expect("make the space older");
    let r = app.invoke("lti-roster-worker", json!({ "spaceId": plain })).await.expect("ends");
    assert_eq!(r, json!({ "outcome": "not_linked" }));
    let gone = SpaceId::generate();
    let r = app.invoke("lti-roster-worker", json!({ "spaceId": gone })).await.expect("ends");
    assert_eq!(r, json!({ "outcome": "no_space" }));
    assert!(app.invoke("lti-roster-worker", json!({ "spaceId": "nope" })).await.is_err(), "malformed");

    // The LMS down: the run fails, for Lambda to retry; the space is as it was.
    drop(platform);
    let down = app.invoke("lti-roster-worker", job).await;
    assert!(down.is_err_and(|e| e.contains("roster sync")), "a retryable failure");
    assert_eq!(members_of(&app, &space, &host.token).await, named(&expected));
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

/// The launches' LMS (tests/lti/platform.py) registered by dynamic registration with
/// tests/lti/services.py's token endpoint in its configuration, and services.py told the tool's
/// client id and keys: the roster a launch's NRPS claim names is served, to the tool's own
/// credentials. `(app, launcher, services)`.
async fn registered_with_services() -> (TestApp, vivid_tests::LtiPlatform, vivid_testkit::lti::LtiPlatform) {
    let app = TestApp::spawn().await;
    let services = lms(&app).await;
    let launcher = vivid_tests::LtiPlatform::start();
    let url = format!("{}/_test/token-endpoint", launcher.base);
    let put = launcher.browser.put(url).json(&json!({ "url": services.client().token_url })).send().await;
    assert!(put.expect("platform reached").status().is_success());
    let (page, client) = launcher.register(&app.lti_invitation().await).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    let client = client.expect("the platform kept the tool's registration");
    let jwks = app.call(Method::GET, "/lti/jwks", None, None).await.body;
    let tool = json!({ "clientId": client, "jwks": jwks });
    let told = reqwest::Client::new().post(format!("{}/_test/tool", services.base)).json(&tool).send().await;
    assert!(told.expect("services reached").status().is_success(), "the tool's client id known");
    (app, launcher, services)
}

/// A launch by `user` with `roles` in course-1, its NRPS claim naming `nrps`: the session.
async fn launch_offering(
    app: &TestApp,
    launcher: &vivid_tests::LtiPlatform,
    hint: &str,
    (user, roles): (&str, &[&str]),
    nrps: &str,
) -> vivid_tests::Reply {
    let mut spec = person(user, roles);
    spec["nrps"] = nrps.into();
    let s = session(app, &code_of(launcher.launch(hint, spec).await)).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    s
}

/// The space's member named `name`: its membership item's `(ltiSub, ltiContext)`.
async fn marks_of(app: &TestApp, space: &str, token: &str, name: &str) -> (Option<String>, Option<String>) {
    let (items, _) = app.all_pages(&format!("/spaces/{space}/members"), token, 10).await;
    let user = items.iter().find(|m| m["name"] == name).and_then(|m| m["userId"].as_str()).expect(name).to_owned();
    let item = app.item(&format!("SPACE#{space}"), &format!("MEMBER#{user}")).await.expect("the membership");
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    (text("ltiSub"), text("ltiContext"))
}

/// How often the course's roster service was read and a token granted.
async fn service_calls(services: &vivid_testkit::lti::LtiPlatform) -> (u64, u64) {
    let stats = services.read("stats").await;
    (stats["membership_pages"].as_u64().unwrap_or(0), stats["token"].as_u64().unwrap_or(0))
}

#[tokio::test]
async fn a_managing_launch_brings_the_course_roster_in_and_a_later_one_takes_a_leaver_out() {
    let (app, launcher, services) = registered_with_services().await;
    services
        .set_roster(
            "course-1",
            json!([
                member("teacher-1", "Teacher", INSTRUCTOR),
                member("student-a", "Ada", LEARNER),
                member("student-b", "Ben", LEARNER)
            ]),
        )
        .await;
    // Two members a page: the worker follows the `Link: rel="next"` header.
    let nrps = services.memberships_url("course-1", 2);
    let teacher = ("teacher-1", &[INSTRUCTOR][..]);

    // The instructor's first launch makes the course's space and its link, and syncs the course's
    // roster, named by the launch's own NRPS claim: the two learners, who never launched, come in
    // from it alone, at the worker's first attempt (it reads the link the launch has just written
    // by the link's own key, not through the index, which has not caught up yet).
    let (pages, _) = service_calls(&services).await;
    let s = launch_offering(&app, &launcher, "i1", teacher, &nrps).await;
    let space = s.body["launch"]["spaceId"].as_str().expect("the course's space").to_owned();
    let token = s.body["accessToken"].as_str().expect("token").to_owned();
    let host_id: vivid_domain::types::UserId = s.body["user"]["userId"].as_str().expect("user").parse().expect("id");
    assert_eq!(started(runs(&app)), 1, "the launch started the worker: {:?}", runs(&app));
    let counts = roster_runs_settled(&app, 1).await;
    assert_eq!((counts.succeeded, counts.failed_runs, counts.exhausted), (1, 0, 0), "{counts:?}");
    let expected = [("Ada", "participant"), ("Ben", "participant"), ("teacher-1 person", "host")];
    assert_eq!(members_of(&app, &space, &token).await, named(&expected));
    for (name, sub) in [("Ada", "student-a"), ("Ben", "student-b")] {
        let (lti_sub, context) = marks_of(&app, &space, &token, name).await;
        assert_eq!(lti_sub.as_deref(), Some(sub), "{name}'s membership is the course's");
        assert!(context.is_some_and(|c| !c.is_empty()), "{name}'s membership names the course");
    }
    let (read, tokens) = service_calls(&services).await;
    assert_eq!(read, pages + 2, "the roster's two pages read");
    assert!(tokens >= 1, "with a token the platform granted");

    // Ada's own launch later is the user the sync made (matched by the platform's subject).
    let ada = launch_offering(&app, &launcher, "l1", ("student-a", &[LEARNER]), &nrps).await;
    assert_eq!(ada.body["launch"]["spaceId"], json!(space));
    let (items, _) = app.all_pages(&format!("/spaces/{space}/members"), &token, 10).await;
    let synced = items.iter().find(|m| m["name"] == "Ada").map(|m| m["userId"].clone());
    assert_eq!(synced, Some(ada.body["user"]["userId"].clone()), "{items:?}");

    // A second instructor launch within the ten minutes: the roster service is not called again.
    launch_offering(&app, &launcher, "i2", teacher, &nrps).await;
    assert_eq!(started(runs(&app)), 1, "no other sync: {:?}", runs(&app));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(started(runs(&app)), 1, "{:?}", runs(&app));
    assert_eq!(service_calls(&services).await.0, read, "the platform's roster was not read again");

    // A member the host added by hand, and Ben dropped from the course at the platform: within
    // the ten minutes nothing changes.
    let host = vivid_tests::TestUser {
        user: app.users().get_user(&host_id).await.expect("read").expect("the instructor's user"),
        token: token.clone(),
    };
    let by_hand = app.user("ByHand").await;
    app.join(&space, &host, &by_hand).await;
    services
        .set_roster(
            "course-1",
            json!([member("teacher-1", "Teacher", INSTRUCTOR), member("student-a", "Ada", LEARNER)]),
        )
        .await;
    launch_offering(&app, &launcher, "i3", teacher, &nrps).await;
    assert_eq!(started(runs(&app)), 1, "{:?}", runs(&app));
    let expected =
        [("Ada", "participant"), ("Ben", "participant"), ("ByHand", "participant"), ("teacher-1 person", "host")];
    assert_eq!(members_of(&app, &space, &token).await, named(&expected));

    // Past the ten minutes, the instructor's next launch syncs again: Ben, a leaver whose
    // membership came from the course, is removed; the host, Ada and the member added by hand
    // stay.
    set_sync_started(&app, &space, unix_now() - 601).await;
    launch_offering(&app, &launcher, "i4", teacher, &nrps).await;
    let counts = roster_runs_settled(&app, 2).await;
    assert_eq!((counts.succeeded, counts.failed_runs, counts.exhausted), (2, 0, 0), "{counts:?}");
    let expected = [("Ada", "participant"), ("ByHand", "participant"), ("teacher-1 person", "host")];
    assert_eq!(members_of(&app, &space, &token).await, named(&expected));
    assert_eq!(service_calls(&services).await.0, read + 1, "the roster read again: one page of two members");

    // A sync's removal is not the host's: re-enrolled at the platform, Ben's launch joins again.
    let ben = launch_offering(&app, &launcher, "l2", ("student-b", &[LEARNER]), &nrps).await;
    assert_eq!(ben.body["launch"]["spaceId"], json!(space));
    let expected =
        [("Ada", "participant"), ("Ben", "participant"), ("ByHand", "participant"), ("teacher-1 person", "host")];
    assert_eq!(members_of(&app, &space, &token).await, named(&expected));
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the functions' template policies");
}
