use serde_json::json;

use super::*;

fn reg() -> Registration {
    Registration {
        issuer: "https://lms.example".into(),
        client_id: "tool-1".into(),
        deployment_ids: vec!["dep-1".into()],
        auth_url: "https://lms.example/auth".into(),
        token_url: "https://lms.example/token".into(),
        jwks_url: "https://lms.example/jwks".into(),
        name: "LMS".into(),
        created_by: "user:x".into(),
        created_at: "2026-12-07T00:00:00Z".into(),
    }
}

fn state() -> LaunchState {
    LaunchState {
        state: "s".into(),
        nonce: "n-1".into(),
        issuer: "https://lms.example".into(),
        client_id: "tool-1".into(),
        deployment_id: None,
        target_link_uri: "https://api/lti/launch".into(),
        expires_at: 2000,
    }
}

fn claims() -> Map<String, Value> {
    let v = json!({
        "iss": "https://lms.example", "sub": "u-1", "aud": "tool-1", "exp": 1100, "iat": 1000, "nonce": "n-1",
        "name": "Ada",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "dep-1",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        "https://purl.imsglobal.org/spec/lti/claim/context": {"id": "c-1", "title": "Physics"},
        "https://purl.imsglobal.org/spec/lti/claim/custom": {"vivid_video": "V1"},
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {"context_memberships_url": "https://lms.example/m", "service_versions": ["2.0"]},
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn with(key: &str, value: Value) -> Map<String, Value> {
    let mut c = claims();
    c.insert(key.to_owned(), value);
    c
}

#[test]
fn a_good_launch_is_read_with_its_course_video_and_services() {
    let l = check_claims(&claims(), &reg(), &state(), 1010).expect("valid");
    assert_eq!((l.subject.as_str(), l.deployment_id.as_str()), ("u-1", "dep-1"));
    assert_eq!(l.context_id.as_deref(), Some("c-1"));
    assert_eq!(l.context_title, "Physics");
    assert_eq!(l.video.as_deref(), Some("V1"));
    assert_eq!(l.nrps.map(|n| n.context_memberships_url).as_deref(), Some("https://lms.example/m"));
}

#[test]
fn each_claim_that_does_not_hold_refuses_the_launch() {
    let r = reg();
    let s = state();
    let refused = |c: Map<String, Value>, now: u64| check_claims(&c, &r, &s, now).is_err();
    assert!(refused(with("iss", json!("https://evil.example")), 1010));
    assert!(refused(with("aud", json!("other")), 1010));
    assert!(refused(with("aud", json!(["tool-1", "other"])), 1010), "several audiences need azp");
    assert!(!refused(
        with("aud", json!(["tool-1", "other"])).into_iter().chain([("azp".to_owned(), json!("tool-1"))]).collect(),
        1010
    ));
    assert!(refused(with("azp", json!("other")), 1010));
    assert!(refused(claims(), 1100 + LEEWAY_SECS), "expired");
    assert!(refused(with("iat", json!(5000)), 1010), "issued in the future");
    assert!(refused(with("nonce", json!("n-2")), 1010));
    assert!(refused(with("https://purl.imsglobal.org/spec/lti/claim/version", json!("1.1")), 1010));
    assert!(refused(
        with("https://purl.imsglobal.org/spec/lti/claim/message_type", json!("LtiSubmissionReviewRequest")),
        1010
    ));
    assert!(refused(with("https://purl.imsglobal.org/spec/lti/claim/roles", json!("Learner")), 1010));
    assert_eq!(
        check_claims(&with("https://purl.imsglobal.org/spec/lti/claim/deployment_id", json!("dep-2")), &r, &s, 1010),
        Err(LaunchError::UnknownDeployment)
    );
    let mut no_sub = claims();
    no_sub.remove("sub");
    assert!(refused(no_sub, 1010));
    // An exp at the end of time neither overflows nor passes for expired.
    assert!(!refused(with("exp", json!(u64::MAX)), 1010));
}

#[test]
fn the_token_is_for_the_deployment_the_login_named() {
    let r = Registration { deployment_ids: vec!["dep-1".into(), "dep-2".into()], ..reg() };
    let named = LaunchState { deployment_id: Some("dep-1".into()), ..state() };
    let dep2 = with("https://purl.imsglobal.org/spec/lti/claim/deployment_id", json!("dep-2"));
    assert!(check_claims(&dep2, &r, &named, 1010).is_err(), "another deployment than the login's");
    assert!(check_claims(&dep2, &r, &state(), 1010).is_ok(), "a login that named none");
    // The target is not compared (LMSs re-encode it): what opens comes from the signed claims.
    let target = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri";
    assert!(check_claims(&with(target, json!("https://api/lti/launch/?x=%41")), &r, &named, 1010).is_ok());
}

#[test]
fn a_deep_linking_request_needs_its_return_url() {
    let dl = with("https://purl.imsglobal.org/spec/lti/claim/message_type", json!(DEEP_LINKING_REQUEST));
    assert!(check_claims(&dl, &reg(), &state(), 1010).is_err());
    let mut ok = dl.clone();
    ok.insert(
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings".into(),
        json!({"deep_link_return_url": "https://lms.example/dl", "data": "opaque"}),
    );
    let l = check_claims(&ok, &reg(), &state(), 1010).expect("valid");
    assert_eq!(l.deep_link_return_url.as_deref(), Some("https://lms.example/dl"));
    assert_eq!(l.deep_link_data.as_deref(), Some("opaque"));
    // The data goes back verbatim in the signed response: longer than 16 KiB, refused, not cut.
    let mut long = dl.clone();
    long.insert(
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings".into(),
        json!({"deep_link_return_url": "https://lms.example/dl", "data": "d".repeat(MAX_DEEP_LINK_DATA + 1)}),
    );
    assert!(check_claims(&long, &reg(), &state(), 1010).is_err());
    let mut edge = dl;
    edge.insert(
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings".into(),
        json!({"deep_link_return_url": "https://lms.example/dl", "data": "d".repeat(MAX_DEEP_LINK_DATA)}),
    );
    assert!(check_claims(&edge, &reg(), &state(), 1010).is_ok());
    let mut object = edge;
    object.insert(
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings".into(),
        json!({"deep_link_return_url": "https://lms.example/dl", "data": {"not": "a string"}}),
    );
    assert!(check_claims(&object, &reg(), &state(), 1010).is_err(), "data that cannot go back as is");
}

#[test]
fn roles_map_to_managers_and_participants() {
    let r = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(manages(&r(&["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"])));
    assert!(manages(&r(&["Instructor"])));
    assert!(manages(&r(&["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"])));
    assert!(manages(&r(&["http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"])));
    assert!(manages(&r(&["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"])));
    assert!(!manages(&r(&["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"])));
    assert!(!manages(&r(&["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner", "Mentor"])));
    assert!(!manages(&r(&[])));
    assert_eq!(joining_role(&r(&["Learner"])), Role::Participant);
    assert_eq!(joining_role(&r(&["Instructor"])), Role::CoHost);
}

#[test]
fn a_launch_reads_hostile_instructor_uris_as_a_sync_does_participant() {
    let hostile = [
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",
        "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Instructor",
        "http://example.org/other/vocab#Instructor",
    ];
    for uri in hostile {
        let roles = vec![uri.to_owned()];
        assert_eq!(joining_role(&roles), Role::Participant, "{uri}");
        assert!(!manages(&roles), "{uri}: a participant cannot deep-link or create the course's space");
        assert_eq!(joining_role(&roles), crate::lti::roster::role_for(&roles), "{uri}: one reading");
    }
    let ta = vec!["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant".to_owned()];
    assert_eq!(joining_role(&ta), Role::CoHost);
    // Where the launch's own reading was looser than the sync's: now participants at both.
    for uri in [
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#SysAdmin",
        "http://purl.imsglobal.org/vocab/lis/v2/membership#TeachingAssistant",
        "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#",
    ] {
        assert_eq!(joining_role(&[uri.to_owned()]), Role::Participant, "{uri}");
    }
}

#[test]
fn a_target_link_can_name_the_video() {
    assert_eq!(video_of_target("https://api/lti/launch?video=V9").as_deref(), Some("V9"));
    assert_eq!(video_of_target("https://app/videos/V8?x=1").as_deref(), Some("V8"));
    assert_eq!(video_of_target("https://api/lti/launch"), None);
}
