//! LTI Advantage roster sync against an LMS: the course's roster read from the NRPS of the PyPI
//! platform library `lti1p3platform` (tests/lti/services.py, which checks the tool's signed
//! client assertion at its token endpoint) and applied to a space of the local stack through the
//! domain's `sync_roster` and the DynamoDB store; the space's members read back over HTTP, as its
//! host sees them.
//!
//! Not here yet: the route `POST /spaces/{spaceId}/lti/roster-sync` (and its auth levels) and
//! grade passback on completion (see the services section of docs/lti-services.md).

use std::{collections::HashMap, sync::Arc};

use serde_json::{Value, json};
use vivid_domain::{
    lti::{
        roster::{RosterSource, SyncCounts, sync_roster},
        services::RosterBounds,
    },
    types::{SpaceId, now_rfc3339},
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
    let (items, _) = app.all_pages(&format!("/spaces/{space}/members"), &host.token, 2).await;
    items
        .iter()
        .map(|m| (m["name"].as_str().unwrap_or("").to_owned(), m["role"].as_str().unwrap_or("").to_owned()))
        .collect()
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
        client: platform.client(),
        memberships_url: platform.memberships_url(COURSE, 2),
    };
    let space_id: SpaceId = space.parse().expect("a space id");
    let table = app.stack.table.clone();
    let sync = || async {
        let counts = sync_roster(
            &tool,
            table.as_ref(),
            &source,
            &space_id,
            &host.user.user_id,
            RosterBounds::default(),
            &now_rfc3339(),
        )
        .await
        .expect("synced");
        app.indexes_settled().await;
        counts
    };

    assert_eq!(sync().await, SyncCounts { added: 4, removed: 0, updated: 0 });
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
    assert_eq!(sync().await, SyncCounts { added: 0, removed: 2, updated: 1 });
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
