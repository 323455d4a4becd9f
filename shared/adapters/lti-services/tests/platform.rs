//! The services client against a real platform implementation: `tests/lti/services.py`, an LMS's
//! NRPS, AGS and token endpoint built on the PyPI library `lti1p3platform` (0.1.8), run from the
//! repository's `.venv` (scripts/venv.sh installs it). The platform verifies the client assertion
//! against the tool's JWKS, so a test passing here means the signature really is checked.

use std::sync::Arc;

use serde_json::{Value, json};
use vivid_domain::lti::services::{
    LineItemSpec, LtiServices, MemberStatus, RosterBounds, Score, ServiceClient, ServiceError,
};
use vivid_lti_services::LtiHttp;
use vivid_testkit::lti::{LtiPlatform as Platform, RsaToolSigner};

fn signer(kid: &str) -> Arc<RsaToolSigner> {
    Arc::new(RsaToolSigner::new(kid))
}

fn roster(n: usize) -> Value {
    let mut members: Vec<Value> = (0..n)
        .map(|i| json!({ "user_id": format!("sub-{i}"), "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"] }))
        .collect();
    members.push(json!({ "user_id": "sub-gone", "roles": ["Learner"], "status": "Inactive" }));
    Value::Array(members)
}

#[tokio::test]
async fn a_roster_is_read_across_pages_with_one_cached_token() {
    let signer = signer("tool-key-1");
    let platform = Platform::start(signer.as_ref()).await;
    platform.set_roster("c1", roster(4)).await;
    let tool = LtiHttp::new(signer, true);
    let url = platform.memberships_url("c1", 2);

    let members = tool.members(&platform.client(), &url, RosterBounds::default()).await.expect("the roster");
    assert_eq!(members.len(), 5, "three pages of two, followed through Link: rel=next");
    assert_eq!(members[0].user_id, "sub-0");
    assert_eq!(members[4].status, MemberStatus::Inactive);
    tool.members(&platform.client(), &url, RosterBounds::default()).await.expect("again");
    let stats = platform.read("stats").await;
    assert_eq!(stats["membership_pages"], 6);
    assert_eq!(stats["token"], 1, "the second sync reuses the cached token");

    let small = RosterBounds { max_pages: 2, max_members: 100 };
    let over = tool.members(&platform.client(), &url, small).await;
    assert!(matches!(over, Err(ServiceError::TooLarge(_))), "{over:?}");
    let few = RosterBounds { max_pages: 10, max_members: 3 };
    assert!(matches!(tool.members(&platform.client(), &url, few).await, Err(ServiceError::TooLarge(_))));
}

#[tokio::test]
async fn a_line_item_is_found_or_created_and_its_scores_read_back() {
    let signer = signer("tool-key-1");
    let platform = Platform::start(signer.as_ref()).await;
    let tool = LtiHttp::new(signer, true);
    let container = platform.lineitems_url("c1");
    let spec = LineItemSpec {
        resource_id: "01JVIDEO000000000000000000".into(),
        resource_link_id: Some("rl-1".into()),
        label: "Lecture 1".into(),
        score_maximum: 100.0,
    };
    let item = tool.line_item(&platform.client(), &container, &spec).await.expect("created");
    let again = tool.line_item(&platform.client(), &container, &spec).await.expect("found");
    assert_eq!(item, again, "found by resourceId, not created twice");
    let other = LineItemSpec { resource_id: "01JVIDEO000000000000000001".into(), ..spec.clone() };
    assert_ne!(tool.line_item(&platform.client(), &container, &other).await.expect("a second"), item);
    let items = platform.read("lineitems").await;
    assert_eq!(items.as_object().map(|o| o.len()), Some(2));
    assert_eq!(items[&item.id]["label"], "Lecture 1");
    assert_eq!(items[&item.id]["resourceLinkId"], "rl-1");
    assert_eq!(items[&item.id]["scoreMaximum"], 100.0);

    let score = vivid_domain::lti::grades::score_to_post("sub-7", 100, Some(40), "2026-12-07T12:00:00Z")
        .expect("a changed value is posted");
    tool.post_score(&platform.client(), &item, &score).await.expect("posted");
    let scores = platform.read("scores").await;
    let posted: Score = serde_json::from_value(scores[&item.id][0].clone()).expect("a score as AGS says");
    assert_eq!(posted, score);
}

#[tokio::test]
async fn the_platform_refuses_an_assertion_it_cannot_verify() {
    let registered = signer("tool-key-1");
    let platform = Platform::start(registered.as_ref()).await;
    platform.set_roster("c1", roster(1)).await;
    let url = format!("{}/contexts/c1/memberships", platform.base);

    // Another key under the registered key's kid: the signature does not verify.
    let forger = LtiHttp::new(signer("tool-key-1"), true);
    let refused = forger.members(&platform.client(), &url, RosterBounds::default()).await;
    assert!(matches!(refused, Err(ServiceError::Refused(_))), "{refused:?}");
    // The right key, for another audience.
    let tool = LtiHttp::new(registered, true);
    let elsewhere = ServiceClient { audience: Some("https://elsewhere.example/token".into()), ..platform.client() };
    assert!(matches!(tool.members(&elsewhere, &url, RosterBounds::default()).await, Err(ServiceError::Refused(_))));
    assert_eq!(platform.read("stats").await["token_refused"], 2);
    assert_eq!(tool.members(&platform.client(), &url, RosterBounds::default()).await.expect("accepted").len(), 2);
}

#[tokio::test]
async fn only_https_is_called_outside_the_local_stack() {
    let tool = LtiHttp::new(signer("k"), false);
    let client = ServiceClient { token_url: "http://lms.example/token".into(), client_id: "c".into(), audience: None };
    let refused = tool.members(&client, "http://lms.example/members", RosterBounds::default()).await;
    assert!(matches!(refused, Err(ServiceError::Unreadable(_))), "{refused:?}");
}
