//! LTI Advantage services against an LMS: the platform library `lti1p3platform` (PyPI;
//! tests/lti/services.py, which checks the tool's signed client assertion at its token endpoint)
//! serves NRPS and AGS, and the domain's `sync_roster` and `pass_back` run against the local
//! stack's table through the DynamoDB store.
//!
//! - Roster sync: the course's roster applied to a space; the members read back over HTTP, as
//!   its host sees them.
//! - Grade passback: a student's completion (their watched coverage, reported by their player
//!   through `POST /videos/{videoId}/watching`; 100 once 90 % was watched), the score read back on
//!   the platform's side. A progress write's rate is the client's claim, never a grade.
//!
//! Not here yet: the route `POST /spaces/{spaceId}/lti/roster-sync` (and its auth levels) and the
//! worker that `put-progress` would start (docs/lti-services.md).

use std::{collections::HashMap, sync::Arc};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::{
    lti::{
        grades::{GradeTarget, pass_back},
        roster::{RosterSource, SyncCounts, sync_roster},
        services::RosterBounds,
    },
    types::{SpaceId, UserId, VideoId, now_rfc3339},
    video::ProgressStore,
};
use vivid_lti_services::LtiHttp;
use vivid_testkit::lti::{LtiPlatform, RsaToolSigner};
use vivid_tests::{TestApp, TestUser};

const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const COURSE: &str = "course-1";

fn member(sub: &str, name: &str, role: &str, status: &str) -> Value {
    json!({ "user_id": sub, "name": name, "roles": [role], "status": status })
}

/// The space's members as its host lists them: name → role.
async fn members(app: &TestApp, space: &str, host: &TestUser) -> HashMap<String, String> {
    listed(app, space, host).await.into_iter().map(|(name, (role, _))| (name, role)).collect()
}

/// The space's members as its host lists them: name → (role, user id).
async fn listed(app: &TestApp, space: &str, host: &TestUser) -> HashMap<String, (String, String)> {
    let (items, _) = app.all_pages(&format!("/spaces/{space}/members"), &host.token, 2).await;
    let text = |m: &Value, k: &str| m[k].as_str().unwrap_or("").to_owned();
    items.iter().map(|m| (text(m, "name"), (text(m, "role"), text(m, "userId")))).collect()
}

/// The counts of a sync that added, removed and updated these.
fn counts(added: u32, removed: u32, updated: u32) -> SyncCounts {
    SyncCounts { added, removed, updated, ..SyncCounts::default() }
}

#[tokio::test]
async fn a_roster_sync_applies_the_course_and_leaves_the_host_and_hand_added_members_alone() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let by_hand = app.user("ByHand").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &by_hand).await;
    let signer = Arc::new(RsaToolSigner::new("tool-key"));
    let platform = LtiPlatform::start(signer.as_ref()).await;
    platform
        .set_roster(
            COURSE,
            json!([
                member("sub-a", "Ada", LEARNER, "Active"),
                member("sub-b", "Ben", LEARNER, "Active"),
                member("sub-c", "Cleo", INSTRUCTOR, "Active"),
                member("sub-d", "Dan", LEARNER, "Inactive"),
                // The hand-added member's address, under another subject: a new account, never
                // theirs (users are matched by (issuer, sub), not by e-mail).
                { "user_id": "sub-e", "name": "Eve", "roles": [LEARNER], "email": by_hand.email() },
            ]),
        )
        .await;
    let tool = LtiHttp::new(signer, true);
    let source = RosterSource {
        issuer: "https://lms.vivid.test".into(),
        context: format!("hash-of-{COURSE}"),
        client: platform.client(),
        memberships_url: platform.memberships_url(COURSE, 2),
    };
    // Another course of the same platform, linked to the same space (or a Moodle whose subjects
    // are small integers): its subjects overlap the first's.
    let other = RosterSource {
        context: "hash-of-course-2".into(),
        memberships_url: platform.memberships_url("course-2", 2),
        ..source.clone()
    };
    let space_id: SpaceId = space.parse().expect("a space id");
    let table = app.stack.table.clone();
    let sync_from = |source: &RosterSource| {
        let (app, tool, table, source, space_id, host) = (&app, &tool, &table, source.clone(), &space_id, &host);
        async move {
            let counts = sync_roster(
                tool,
                table.as_ref(),
                &source,
                space_id,
                &host.user.user_id,
                RosterBounds::default(),
                &now_rfc3339(),
            )
            .await
            .expect("synced");
            app.indexes_settled().await;
            counts
        }
    };
    let sync = || sync_from(&source);

    assert_eq!(sync().await, counts(4, 0, 0));
    assert_eq!(platform.read("stats").await["membership_pages"], 3, "five members, two a page: three pages");
    let seen = members(&app, &space, &host).await;
    let expected: HashMap<String, String> = [
        ("Host", "host"),
        ("ByHand", "participant"),
        ("Ada", "participant"),
        ("Ben", "participant"),
        ("Cleo", "co-host"),
        ("Eve", "participant"),
    ]
    .into_iter()
    .map(|(n, r)| (n.to_owned(), r.to_owned()))
    .collect();
    assert_eq!(seen, expected);

    assert_eq!(sync().await, SyncCounts::default(), "a second sync changes nothing");

    // The other course lists Ben as a learner and nobody else: it neither removes the first
    // course's members nor changes their roles (memberships are marked with their course).
    platform.set_roster("course-2", json!([member("sub-b", "Ben", LEARNER, "Active")])).await;
    assert_eq!(sync_from(&other).await, SyncCounts::default(), "another course's members are not its own");
    assert_eq!(members(&app, &space, &host).await, expected);

    // The host removes Ada by hand: a sync does not bring her back while the course lists her.
    let ada = listed(&app, &space, &host).await["Ada"].1.clone();
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{ada}"), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_eq!(sync().await, SyncCounts { skipped: 1, ..SyncCounts::default() }, "the removal sticks");
    assert!(!members(&app, &space, &host).await.contains_key("Ada"), "still removed");

    // Ada leaves, Ben is made an instructor, Eve is deactivated; the host and ByHand are in no
    // roster at all.
    platform
        .set_roster(
            COURSE,
            json!([
                member("sub-b", "Ben", INSTRUCTOR, "Active"),
                member("sub-c", "Cleo", INSTRUCTOR, "Active"),
                member("sub-e", "Eve", LEARNER, "Inactive"),
            ]),
        )
        .await;
    assert_eq!(sync().await, counts(0, 1, 1), "Eve leaves (Ada is gone already), Ben is promoted");
    let seen = members(&app, &space, &host).await;
    let expected: HashMap<String, String> =
        [("Host", "host"), ("ByHand", "participant"), ("Ben", "co-host"), ("Cleo", "co-host")]
            .into_iter()
            .map(|(n, r)| (n.to_owned(), r.to_owned()))
            .collect();
    assert_eq!(seen, expected);
    let space_now = app.get(&format!("/spaces/{space}"), &host.token).await;
    assert_eq!(space_now.body["memberCount"], 4, "the count follows every change");
    assert_eq!(sync().await, SyncCounts::default());
}

async fn put_progress(app: &TestApp, video: &str, who: &TestUser, rate: u8) {
    let body = json!({ "progressRate": rate, "positionSeconds": f64::from(rate) });
    let r = app.call(Method::PUT, &format!("/videos/{video}/progress"), Some(&who.token), Some(body)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}

#[tokio::test]
async fn a_score_is_posted_when_completion_rises_and_only_then() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let student = app.user("Student").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &student).await;
    // 200 s: 100 coverage buckets of 2 s, one per percent watched.
    let video = app.lecture(&space, &host, 200).await;
    let signer = Arc::new(RsaToolSigner::new("tool-key"));
    let platform = LtiPlatform::start(signer.as_ref()).await;
    let tool = LtiHttp::new(signer, true);
    let target = GradeTarget {
        client: platform.client(),
        lineitems_url: platform.lineitems_url(COURSE),
        platform_user: "sub-student".into(),
        label: "Lecture 1".into(),
        resource_link_id: Some("link-1".into()),
    };
    let (video_id, user_id): (VideoId, UserId) = (video.parse().expect("id"), student.id().parse().expect("id"));
    let table = app.stack.table.clone();
    // The student's player reports `[start, end)` watched (at 4×, a session of its own), then the
    // student's progress as it now is is passed back.
    let pass = |start: f64, end: f64| {
        let (app, table, tool, target, video_id, user_id, video, student) =
            (&app, &table, &tool, &target, &video_id, &user_id, &video, &student);
        async move {
            app.watched(video, &student.token, start, end).await;
            let progress = table.progress_by(video_id, std::slice::from_ref(user_id)).await.expect("read");
            let progress = progress.first().expect("the student's progress");
            pass_back(tool, table.as_ref(), target, progress).await.expect("passed back")
        }
    };
    // The client's claim alone: a progress item with a rate of 100, its coverage 0.
    put_progress(&app, &video, &student, 100).await;
    let claimed = table.progress_by(&video_id, std::slice::from_ref(&user_id)).await.expect("read");
    let claimed = claimed.first().expect("the student's progress");
    assert_eq!((claimed.progress_rate, claimed.completed_at.as_deref()), (100, None), "{claimed:?}");
    assert_eq!(
        pass_back(&tool, table.as_ref(), &target, claimed).await.expect("passed back"),
        Some(0),
        "a progress write of 100 completes nothing: the score is what was watched, 0"
    );
    assert_eq!(pass(0.0, 80.0).await, Some(40), "[0, 80): 40 %");
    assert_eq!(pass(20.0, 60.0).await, None, "the same value is not posted again: [20, 60) was watched already");
    assert_eq!(pass(80.0, 160.0).await, Some(80));
    // A rewind before completing: the client's rate goes down to 30, the player plays [0, 60)
    // again.
    put_progress(&app, &video, &student, 30).await;
    assert_eq!(pass(0.0, 60.0).await, None, "a grade never goes down: rewinding before completing posts nothing");
    // The instructor deletes the gradebook column: the platform answers 404 and the next score
    // goes to a new one.
    let first = platform.read("lineitems").await;
    let first = first.as_object().and_then(|o| o.keys().next().cloned()).expect("the first line item");
    platform.delete_line_item(&first).await;
    // [160, 180): 90 % watched, completed: 100.
    assert_eq!(pass(160.0, 180.0).await, Some(100));
    put_progress(&app, &video, &student, 30).await;
    assert_eq!(pass(0.0, 60.0).await, None, "completion is sticky: rewinding does not lower the score");

    let items = platform.read("lineitems").await;
    let items = items.as_object().expect("line items");
    assert_eq!(items.len(), 1, "one line item for the video, found again for later scores");
    let (item_id, item) = items.iter().next().expect("the line item");
    assert_ne!(item_id, &first, "a new column for the deleted one");
    assert_eq!(item["resourceId"], video.as_str());
    assert_eq!(item["label"], "Lecture 1");
    let scores = platform.read("scores").await;
    let earlier = scores[&first].as_array().expect("scores");
    let given: Vec<f64> = earlier.iter().filter_map(|s| s["scoreGiven"].as_f64()).collect();
    assert_eq!(given, [0.0, 40.0, 80.0], "{earlier:?}");
    assert!(
        earlier.iter().all(|s| s["userId"] == "sub-student" && s["activityProgress"] == "InProgress"),
        "{earlier:?}"
    );
    let posted = scores[item_id].as_array().expect("scores");
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0]["scoreGiven"], 100.0);
    assert_eq!(posted[0]["scoreMaximum"], 100.0);
    assert_eq!(posted[0]["activityProgress"], "Completed");
    assert_eq!(posted[0]["gradingProgress"], "FullyGraded");
}
