//! The LTI grade worker (`LtiGradeWorker`, shared/events) against the local stack's table and the
//! LMS stand-in on `lti1p3platform` (tests/lti/services.py, which checks the client assertion
//! signed by the local stack's KMS tool key): a student of a linked course records progress over
//! HTTP, the worker's event is handled, and the score is read back on the platform's side.
//!
//! Not here yet: `put-progress` invoking the worker itself, and the worker as a function of the
//! template (docs/lti-services.md, "Not built yet").

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::lti::model::{AgsEndpoint, LinkStore};
use vivid_events::{EventHandler, LtiGradeWorker};
use vivid_kms::signer::KmsToolSigner;
use vivid_lti_services::LtiHttp;
use vivid_testkit::lti::LtiPlatform;
use vivid_tests::{TestApp, TestUser};

use crate::lti_roster_route::{linked_space, lms};

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
    let id = space.parse().expect("space id");
    let mut link = LinkStore::context_of_space(app.stack.table.as_ref(), &id).await.expect("read").expect("linked");
    link.ags = Some(AgsEndpoint {
        lineitems: Some(platform.lineitems_url(GRADEBOOK)),
        lineitem: None,
        scope: vec!["https://purl.imsglobal.org/spec/lti-ags/scope/score".into()],
    });
    LinkStore::update_context_services(app.stack.table.as_ref(), &link).await.expect("services recorded");
    app.indexes_settled().await;
    space
}

async fn put_progress(app: &TestApp, video: &str, who: &TestUser, rate: u8) {
    let body = json!({ "progressRate": rate, "positionSeconds": f64::from(rate) });
    let r = app.call(Method::PUT, &format!("/videos/{video}/progress"), Some(&who.token), Some(body)).await;
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
    app.join(&space, &host, &student).await;
    let video = app.ready_video(&space, &host).await;
    let worker = worker(&app);
    let job = json!({ "videoId": video, "userId": student.id(), "ltiSub": "sub-student" });
    let run = |rate: u8| {
        let (app, worker, job, video, student) = (&app, &worker, &job, &video, &student);
        async move {
            put_progress(app, video, student, rate).await;
            worker.handle(job.clone()).await.expect("the worker succeeds")
        }
    };

    assert_eq!(run(40).await, json!({ "outcome": "posted", "value": 40 }));
    assert_eq!(
        worker.handle(job.clone()).await.expect("a repeated event"),
        json!({ "outcome": "unchanged" }),
        "a repeated or replayed event posts nothing"
    );
    assert_eq!(run(20).await, json!({ "outcome": "unchanged" }), "a rewind posts nothing");
    assert_eq!(run(100).await, json!({ "outcome": "posted", "value": 100 }));

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
    app.join(&course, &host, &student).await;
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
