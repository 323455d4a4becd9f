//! LTI grade passback against the local stack and the LMS stand-ins on `lti1p3platform`
//! (tests/lti/platform.py launches; tests/lti/services.py serves the token endpoint and the
//! gradebook, checking the client assertion signed by the local stack's KMS tool key):
//!
//! - end to end: an instructor's and a learner's launches, the learner's watching reported by
//!   their player (`POST /videos/{videoId}/watching`), which starts `lti-grade-worker` (an
//!   asynchronous invocation the local stack runs as Lambda does) when their completion rose, and
//!   the scores read back on the platform's side;
//! - the worker's outcomes, its event handled directly.
//!
//! Completion is watched coverage (issue 29): the coverage percent, 100 once 90 % was watched.
//! A progress write's rate is the client's claim: it is never a grade and starts nothing.

use std::{sync::Arc, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::{
    lti::model::{AgsEndpoint, LinkStore, RegistrationStore},
    spaces::{Membership, Role},
    types::{SpaceId, UserId, now_rfc3339},
};
use vivid_events::{EventHandler, LtiGradeWorker};
use vivid_kms::signer::KmsToolSigner;
use vivid_local::infra::{
    emulator::async_invoke::AsyncCounts,
    faults::{Fault, FaultRule},
};
use vivid_lti_services::LtiHttp;
use vivid_testkit::lti::LtiPlatform;
use vivid_tests::{TestApp, TestUser};

use crate::{
    lti_launch::{code_of, person, registered, session},
    lti_roster_route::{course_of, linked_space, lms},
};

const GRADEBOOK: &str = "course-grades";

/// The worker as the function wires it: the table, and the tool key of the local stack's KMS.
fn worker(app: &TestApp) -> LtiGradeWorker {
    let arn = app
        .stack
        .environments
        .values()
        .find_map(|env| env.get("VIVID_LTI_KEY_ARN"))
        .expect("a function with the tool key")
        .clone();
    let signer = Arc::new(KmsToolSigner::new(aws_sdk_kms::Client::new(&app.stack.sdk), arn));
    let table = app.stack.table.clone();
    LtiGradeWorker {
        progress: table.clone(),
        catalog: table.clone(),
        links: table.clone(),
        registrations: table.clone(),
        grades: table,
        services: Arc::new(LtiHttp::new(signer, true)),
    }
}

/// A space linked to a course whose launches offered a gradebook (AGS line items).
async fn graded_space(app: &TestApp, platform: &LtiPlatform, host: &TestUser) -> String {
    let space = linked_space(app, platform, host).await;
    let mut link = course_of(app, &space).await;
    link.ags = Some(AgsEndpoint {
        lineitems: Some(platform.lineitems_url(GRADEBOOK)),
        lineitem: None,
        scope: vec!["https://purl.imsglobal.org/spec/lti-ags/scope/score".into()],
    });
    LinkStore::update_context_services(app.stack.table.as_ref(), &link).await.expect("services recorded");
    app.indexes_settled().await;
    space
}

/// `who` joins the course's space as their launch adds them (`LinkStore::join_from_context`): a
/// participant marked as the course's platform subject `sub`, whom the worker grades.
async fn from_the_course(app: &TestApp, space: &str, who: &TestUser, sub: &str) {
    let table = app.stack.table.as_ref();
    let space_id: SpaceId = space.parse().expect("space id");
    let link = course_of(app, space).await;
    let membership = Membership {
        space_id,
        user_id: who.user.user_id.clone(),
        role: Role::Participant,
        personal: false,
        joined_at: now_rfc3339(),
    };
    LinkStore::join_from_context(table, &membership, &link.context.hash(), sub).await.expect("joined");
    app.indexes_settled().await;
}

async fn put_progress(app: &TestApp, video: &str, who: &TestUser, rate: u8) {
    put_progress_as(app, video, &who.token, rate).await;
}

async fn put_progress_as(app: &TestApp, video: &str, token: &str, rate: u8) {
    let body = json!({ "progressRate": rate, "positionSeconds": f64::from(rate) });
    let r = app.call(Method::PUT, &format!("/videos/{video}/progress"), Some(token), Some(body)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}

/// The scores the platform took, over every line item.
async fn scores(platform: &LtiPlatform) -> Vec<Value> {
    let all = platform.read("scores").await;
    all.as_object()
        .map(|o| o.values().flat_map(|v| v.as_array().cloned().unwrap_or_default()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_grade_worker_posts_a_rising_completion_once_and_never_a_lower_one() {
    let app = TestApp::spawn().await;
    let platform = lms(&app).await;
    let host = app.user("Host").await;
    let student = app.user("Student").await;
    let space = graded_space(&app, &platform, &host).await;
    from_the_course(&app, &space, &student, "sub-student").await;
    // 200 s: 100 coverage buckets of 2 s, one per percent watched.
    let video = app.lecture(&space, &host, 200).await;
    // The worker runs only as this test hands it its event: report-watching's own start of it
    // fails here (logged, never answered to the player).
    let faults = app.stack.faults();
    let refused = faults.add(FaultRule::lambda_invoke(Fault::ServerError).on("lti-grade-worker"));
    let worker = worker(&app);
    let job = json!({ "videoId": video, "userId": student.id(), "ltiSub": "sub-student" });
    let handled = || {
        let (worker, job) = (&worker, &job);
        async move { worker.handle(job.clone()).await.expect("the worker succeeds") }
    };

    // The player reports [0, 80) watched: 40 %.
    let r = app.watched(&video, &student.token, 0.0, 80.0).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(40), json!(false)), "{r}");
    assert!(faults.fired(refused) > 0, "report-watching started the worker for a rise");
    assert_eq!(handled().await, json!({ "outcome": "posted", "value": 40 }));
    assert_eq!(handled().await, json!({ "outcome": "unchanged" }), "a repeated or replayed event posts nothing");
    // A rewind: the client writes its rate down to 20, the player plays [0, 40) again.
    put_progress(&app, &video, &student, 20).await;
    let r = app.watched(&video, &student.token, 0.0, 40.0).await;
    assert_eq!(r["percent"], 40, "{r}");
    assert_eq!(handled().await, json!({ "outcome": "unchanged" }), "a rewind posts nothing");
    // The client claims 100 without watching more: no grade.
    put_progress(&app, &video, &student, 100).await;
    assert_eq!(handled().await, json!({ "outcome": "unchanged" }), "a progress write of 100 completes nothing");
    // The player reports [80, 180): 90 % watched, completed: 100.
    let r = app.watched(&video, &student.token, 80.0, 180.0).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(90), json!(true)), "{r}");
    assert_eq!(handled().await, json!({ "outcome": "posted", "value": 100 }));
    let counts = runs(&app);
    assert_eq!((counts.in_flight, counts.succeeded), (0, 0), "the route's starts were refused: {counts:?}");

    let posted = scores(&platform).await;
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert_eq!(posted[0]["userId"], "sub-student");
    assert_eq!(posted[0]["scoreGiven"], 40.0);
    assert_eq!(posted[1]["scoreGiven"], 100.0);
    assert_eq!(posted[1]["activityProgress"], "Completed");
    let items = platform.read("lineitems").await;
    let items = items.as_object().expect("line items");
    assert_eq!(items.len(), 1, "one gradebook column for the video");
    assert_eq!(items.values().next().expect("the column")["resourceId"], video.as_str());
}

#[tokio::test]
async fn the_grade_worker_posts_nothing_for_a_space_with_no_course_or_no_gradebook() {
    let app = TestApp::spawn().await;
    let platform = lms(&app).await;
    let host = app.user("Host").await;
    let student = app.user("Student").await;
    let worker = worker(&app);

    let plain = app.space(&host, "Plain").await;
    app.join(&plain, &host, &student).await;
    let video = app.ready_video(&plain, &host).await;
    put_progress(&app, &video, &student, 60).await;
    let job = json!({ "videoId": video, "userId": student.id(), "ltiSub": "sub-student" });
    assert_eq!(worker.handle(job).await.expect("handled"), json!({ "outcome": "not_linked" }));

    // A course whose launches offered no gradebook: linked, with no AGS.
    let course = linked_space(&app, &platform, &host).await;
    from_the_course(&app, &course, &student, "sub-student").await;
    let video = app.ready_video(&course, &host).await;
    put_progress(&app, &video, &student, 60).await;
    let job = json!({ "videoId": video, "userId": student.id(), "ltiSub": "sub-student" });
    assert_eq!(worker.handle(job).await.expect("handled"), json!({ "outcome": "no_gradebook" }));

    let nobody = json!({ "videoId": video, "userId": host.id(), "ltiSub": "sub-host" });
    assert_eq!(worker.handle(nobody).await.expect("handled"), json!({ "outcome": "no_progress" }));
    let malformed = worker.handle(json!({ "videoId": "nope" })).await;
    assert!(malformed.is_err(), "a malformed event fails");
    assert!(scores(&platform).await.is_empty(), "nothing posted");
}

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";

/// The grade worker's asynchronous runs so far.
fn runs(app: &TestApp) -> AsyncCounts {
    app.stack.async_invocations().counts("lti-grade-worker")
}

/// Waits (30 s at most) until the grade worker has run `started` times in all and none is left
/// running, and the platform holds `scores` scores.
async fn passed_back(app: &TestApp, platform: &LtiPlatform, started: u64, scores_held: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (counts, held) = (runs(app), scores(platform).await);
        if counts.in_flight == 0 && counts.succeeded + counts.exhausted >= started && held.len() >= scores_held {
            assert_eq!((counts.succeeded, counts.failed_runs, counts.exhausted), (started, 0, 0), "{counts:?}");
            assert_eq!(held.len(), scores_held, "{held:?}");
            return held;
        }
        assert!(std::time::Instant::now() < deadline, "after 30 s: {counts:?}, scores {held:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_course_student_s_watching_posts_their_rising_completion_to_the_gradebook() {
    let (app, _admin, launcher) = registered().await;
    // The instructor's first launch makes the course's space (its AGS claim: the gradebook);
    // a learner's launch joins it.
    let teacher = session(&app, &code_of(launcher.launch("i1", person("teacher-1", &[INSTRUCTOR])).await)).await;
    assert_eq!(teacher.status, StatusCode::OK, "{:?}", teacher.body);
    let space = teacher.body["launch"]["spaceId"].as_str().expect("the course's space").to_owned();
    let teacher_id: UserId = teacher.body["user"]["userId"].as_str().expect("userId").parse().expect("id");
    let host = TestUser {
        user: app.users().get_user(&teacher_id).await.expect("read").expect("the instructor's user"),
        token: teacher.body["accessToken"].as_str().expect("token").to_owned(),
    };
    let learner = session(&app, &code_of(launcher.launch("l1", person("student-1", &[LEARNER])).await)).await;
    assert_eq!(learner.body["launch"]["spaceId"], json!(space), "{:?}", learner.body);
    let student = learner.body["accessToken"].as_str().expect("token").to_owned();
    let bystander = app.user("ByHand").await;
    app.join(&space, &host, &bystander).await;
    let video = app.lecture(&space, &host, 200).await;

    // The launch platform serves no token endpoint or gradebook: the course's services are
    // services.py's, at the URLs the launches left in the registration and the link.
    let gradebook = lms(&app).await;
    let table = app.stack.table.as_ref();
    let mut link = course_of(&app, &space).await;
    let ags = link.ags.clone().expect("the launches offered AGS");
    let offered = ags.lineitems.clone().expect("a line-item container");
    assert!(offered.starts_with(&launcher.base), "{offered}");
    link.ags = Some(AgsEndpoint { lineitems: Some(gradebook.lineitems_url("course-1")), ..ags });
    LinkStore::update_context_services(table, &link).await.expect("the gradebook moved");
    let mut registration = RegistrationStore::registration(table, &link.context.issuer, &link.context.client_id)
        .await
        .expect("read")
        .expect("the registration");
    assert!(RegistrationStore::delete_registration(table, &registration.id()).await.expect("deleted"));
    registration.token_url = gradebook.client().token_url;
    RegistrationStore::put_registration(table, &registration).await.expect("the token endpoint moved");
    let jwks = app.call(Method::GET, "/lti/jwks", None, None).await.body;
    let tool = json!({ "clientId": link.context.client_id, "jwks": jwks });
    let told = reqwest::Client::new().post(format!("{}/_test/tool", gradebook.base)).json(&tool).send().await;
    assert!(told.expect("the gradebook reached").status().is_success(), "the tool's client id known");
    app.indexes_settled().await;

    // The learner's client says 100 before any watching: its claim, which starts no worker.
    put_progress_as(&app, &video, &student, 100).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = runs(&app);
    assert_eq!((counts.in_flight, counts.succeeded), (0, 0), "a progress write starts nothing: {counts:?}");
    assert!(scores(&gradebook).await.is_empty(), "nothing posted");

    // The player's first report (the coverage made) posts its percent, and every rise after it:
    // [0, 60) is 30 % of the 200 s lecture, [60, 120) makes 60 %, [120, 180) 90 %: completed, 100.
    for (start, end, percent, started) in [(0.0, 60.0, 30, 1), (60.0, 120.0, 60, 2), (120.0, 180.0, 90, 3)] {
        let r = app.watched(&video, &student, start, end).await;
        assert_eq!(r["percent"], percent, "{r}");
        passed_back(&app, &gradebook, started, started as usize).await;
    }
    let posted = passed_back(&app, &gradebook, 3, 3).await;
    let given: Vec<f64> = posted.iter().filter_map(|s| s["scoreGiven"].as_f64()).collect();
    assert_eq!(given, [30.0, 60.0, 100.0]);
    assert!(posted.iter().all(|s| s["userId"] == "student-1" && s["scoreMaximum"] == 100.0), "{posted:?}");
    assert_eq!(
        (posted[0]["activityProgress"].as_str(), posted[0]["gradingProgress"].as_str()),
        (Some("InProgress"), Some("Pending"))
    );
    assert_eq!(
        (posted[2]["activityProgress"].as_str(), posted[2]["gradingProgress"].as_str()),
        (Some("Completed"), Some("FullyGraded"))
    );
    let items = gradebook.read("lineitems").await;
    let items = items.as_object().expect("line items");
    assert_eq!(items.len(), 1, "one gradebook column for the video: {items:?}");
    assert_eq!(items.values().next().expect("the column")["resourceId"], video.as_str());

    // A rewind after completing (completion is sticky), the rest watched (coverage 100 %: the
    // completion is 100 already), progress writes, the instructor's own watching and a member who
    // did not come from the course: the worker is not even started.
    put_progress_as(&app, &video, &student, 50).await;
    app.watched(&video, &student, 0.0, 60.0).await;
    let r = app.watched(&video, &student, 180.0, 200.0).await;
    assert_eq!((r["percent"].clone(), r["completed"].clone()), (json!(100), json!(true)), "{r}");
    put_progress_as(&app, &video, &student, 100).await;
    app.watched(&video, &host.token, 0.0, 140.0).await;
    app.watched(&video, &bystander.token, 0.0, 160.0).await;
    let r = app.watched(&video, &bystander.token, 160.0, 200.0).await;
    assert_eq!(r["completed"], true, "{r}");
    let counts = runs(&app);
    assert_eq!((counts.in_flight, counts.succeeded), (0, 3), "nothing started: {counts:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(scores(&gradebook).await.len(), 3, "nothing posted");
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the functions' template policies");
}
