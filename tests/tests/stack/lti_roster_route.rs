//! `POST /spaces/{spaceId}/lti/roster-sync` over HTTP: a course linked to a space (its
//! registration and link seeded in the table as a launch leaves them), the course's roster served
//! by the LMS stand-in on `lti1p3platform` (tests/lti/services.py), which checks the client
//! assertion the function signs with the local stack's KMS tool key against that key's JWKS.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::{
    lti::model::{ContextKey, ContextLink, LinkStore, NrpsEndpoint, Registration, RegistrationStore},
    spaces::{Membership, Role, Space},
    types::{Description, SpaceId, SpaceName, now_rfc3339},
};
use vivid_kms::signer::KmsToolSigner;
use vivid_testkit::lti::{CLIENT_ID, LtiPlatform};
use vivid_tests::{TestApp, TestUser};

const ISSUER: &str = "https://lms.vivid.test";
pub(crate) const COURSE: &str = "course-sync";
const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";

/// The LMS stand-in, trusting the local stack's tool key.
pub async fn lms(app: &TestApp) -> LtiPlatform {
    let arn = app
        .stack
        .environments
        .values()
        .find_map(|env| env.get("VIVID_LTI_KEY_ARN"))
        .expect("a function with the tool key")
        .clone();
    let signer = KmsToolSigner::new(aws_sdk_kms::Client::new(&app.stack.sdk), arn);
    LtiPlatform::start(&signer).await
}

/// A space `host` hosts, linked to the platform's course `COURSE` (with NRPS, two members a
/// page), as an instructor's first launch leaves it: the registration, the space, its host and
/// the link. Answers the space's id.
pub async fn linked_space(app: &TestApp, platform: &LtiPlatform, host: &TestUser) -> String {
    let now = now_rfc3339();
    let registration = Registration {
        issuer: ISSUER.into(),
        client_id: CLIENT_ID.into(),
        deployment_ids: vec!["1".into()],
        auth_url: format!("{}/authorize", platform.base),
        token_url: platform.client().token_url,
        jwks_url: format!("{}/jwks", platform.base),
        name: "LMS".into(),
        created_by: format!("user:{}", host.id()),
        created_at: now.clone(),
    };
    // One registration per issuer and client: a second linked space in a test reuses it.
    let _ = RegistrationStore::put_registration(app.stack.table.as_ref(), &registration).await;
    let name = SpaceName::try_from("Course".to_owned()).expect("name");
    let space = Space::new(name, Description::default(), host.user.user_id.clone(), false, &now);
    let membership = Membership {
        space_id: space.space_id.clone(),
        user_id: host.user.user_id.clone(),
        role: Role::Host,
        personal: false,
        joined_at: now.clone(),
    };
    let link = ContextLink {
        context: ContextKey {
            issuer: ISSUER.into(),
            client_id: CLIENT_ID.into(),
            deployment_id: "1".into(),
            context_id: format!("{COURSE}-{}", space.space_id),
        },
        space_id: space.space_id.clone(),
        title: "Course".into(),
        nrps: Some(NrpsEndpoint {
            context_memberships_url: platform.memberships_url(COURSE, 2),
            service_versions: vec!["2.0".into()],
        }),
        ags: None,
        created_at: now.clone(),
        updated_at: now,
    };
    LinkStore::link_new_space(app.stack.table.as_ref(), &link, &space, &membership, "sub-host", None)
        .await
        .expect("linked");
    app.indexes_settled().await;
    space.space_id.to_string()
}

/// The course a space is linked to, found as the API finds it: by the space, through GSI1, once the
/// index has the launch's write.
pub(crate) async fn course_of(app: &TestApp, space: &str) -> ContextLink {
    let space: SpaceId = space.parse().expect("space id");
    app.indexes_settled().await;
    LinkStore::context_of_space(app.stack.table.as_ref(), &space).await.expect("read").expect("linked")
}

fn member(sub: &str, name: &str, role: &str) -> Value {
    json!({ "user_id": sub, "name": name, "roles": [role], "status": "Active" })
}

async fn sync(app: &TestApp, space: &str, token: Option<&str>) -> vivid_tests::Reply {
    app.call(Method::POST, &format!("/spaces/{space}/lti/roster-sync"), token, None).await
}

#[tokio::test]
async fn the_host_syncs_the_course_roster_and_only_the_host() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let co_host = app.user("CoHost").await;
    let participant = app.user("Participant").await;
    let stranger = app.user("Stranger").await;
    let platform = lms(&app).await;
    let space = linked_space(&app, &platform, &host).await;
    app.join(&space, &host, &co_host).await;
    app.promote(&space, &host, &co_host).await;
    app.join(&space, &host, &participant).await;
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

    let anon = sync(&app, &space, None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{:?}", anon.body);
    let r = sync(&app, &space, Some(&stranger.token)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a stranger does not learn of the space: {:?}", r.body);
    for who in [&participant, &co_host] {
        let r = sync(&app, &space, Some(&who.token)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
        assert_eq!(r.body["code"], "host_only");
    }
    assert_eq!(platform.read("stats").await["membership_pages"], 0, "nobody but the host reached the LMS");

    let r = sync(&app, &space, Some(&host.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body, json!({ "added": 3, "removed": 0, "updated": 0, "skipped": 0, "failed": 0 }));
    app.indexes_settled().await;
    let (items, _) = app.all_pages(&format!("/spaces/{space}/members"), &host.token, 2).await;
    let mut seen: Vec<(String, String)> = items
        .iter()
        .map(|m| (m["name"].as_str().unwrap_or("").to_owned(), m["role"].as_str().unwrap_or("").to_owned()))
        .collect();
    seen.sort();
    let expected = [
        ("Ada", "participant"),
        ("Ben", "participant"),
        ("Cleo", "co-host"),
        ("CoHost", "co-host"),
        ("Host", "host"),
        ("Participant", "participant"),
    ]
    .map(|(n, r)| (n.to_owned(), r.to_owned()));
    assert_eq!(seen, expected);

    // Ada leaves the course, Ben becomes an instructor.
    platform.set_roster(COURSE, json!([member("sub-b", "Ben", INSTRUCTOR), member("sub-c", "Cleo", INSTRUCTOR)])).await;
    let r = sync(&app, &space, Some(&host.token)).await;
    assert_eq!(r.body, json!({ "added": 0, "removed": 1, "updated": 1, "skipped": 0, "failed": 0 }), "{:?}", r.body);
    app.indexes_settled().await;
    let r = sync(&app, &space, Some(&host.token)).await;
    assert_eq!(
        r.body,
        json!({ "added": 0, "removed": 0, "updated": 0, "skipped": 0, "failed": 0 }),
        "a second sync changes nothing"
    );

    // The host removes Ben by hand: the course does not bring him back.
    let ben = items.iter().find(|m| m["name"] == "Ben").and_then(|m| m["userId"].as_str()).expect("Ben").to_owned();
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{ben}"), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    app.indexes_settled().await;
    let r = sync(&app, &space, Some(&host.token)).await;
    assert_eq!(r.body, json!({ "added": 0, "removed": 0, "updated": 0, "skipped": 1, "failed": 0 }), "{:?}", r.body);
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

#[tokio::test]
async fn a_space_without_a_course_or_an_lms_that_fails_is_a_problem() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let unlinked = app.space(&host, "Plain").await;
    let r = sync(&app, &unlinked, Some(&host.token)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap_or("").contains("no LMS course"), "{:?}", r.body);

    let r = sync(&app, "not-a-space", Some(&host.token)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);

    // The course's LMS is gone (its process ended): 502, and the space is as it was.
    let platform = lms(&app).await;
    let space = linked_space(&app, &platform, &host).await;
    drop(platform);
    let r = sync(&app, &space, Some(&host.token)).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{:?}", r.body);
    assert_eq!(r.body["code"], "platform_unavailable");
    let members = app.get(&format!("/spaces/{space}/members"), &host.token).await;
    assert_eq!(members.body["items"].as_array().map(Vec::len), Some(1));
}

/// A launch's session: `(access token, space id)`.
async fn launched(app: &TestApp, launch: vivid_tests::Launched) -> (String, String) {
    let s = super::lti_launch::session(app, &super::lti_launch::code_of(launch)).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    let token = s.body["accessToken"].as_str().expect("access token").to_owned();
    (token, s.body["launch"]["spaceId"].as_str().expect("space").to_owned())
}

#[tokio::test]
async fn members_who_joined_by_launch_are_the_courses_and_a_sync_removes_its_leavers() {
    use super::lti_launch::{person, registered};
    let (app, _admin, launcher) = registered().await;
    let (teacher, space) = launched(&app, launcher.launch("i1", person("teacher-1", &[INSTRUCTOR])).await).await;
    let (_, joined) = launched(&app, launcher.launch("l1", person("student-1", &[LEARNER])).await).await;
    assert_eq!(joined, space);
    // A learner's sub-role named Instructor manages nothing: a participant.
    let hostile = "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Instructor";
    let (student2, _) = launched(&app, launcher.launch("l2", person("student-2", &[hostile])).await).await;
    let got = app.get(&format!("/spaces/{space}"), &student2).await;
    assert_eq!(got.body["role"], "participant", "{:?}", got.body);
    // The instructor's launch started the roster worker (it ends at the launching platform, which
    // serves no roster): done before the course's services move to the stand-in below.
    crate::lti_roster_launch::roster_runs_settled(&app, 1).await;

    // The launching platform's roster and token endpoint: the LMS stand-in's, trusting the tool
    // as the launching platform's client (its published JWKS).
    let lms = lms(&app).await;
    let client = launcher.get("/_test/registration").await["client_id"].as_str().expect("client").to_owned();
    let jwks = app.call(Method::GET, "/lti/jwks", None, None).await.body;
    let http = reqwest::Client::new();
    let tool = http.post(format!("{}/_test/tool", lms.base)).json(&json!({ "clientId": client, "jwks": jwks }));
    assert!(tool.send().await.expect("lms reached").status().is_success());
    let table = app.stack.table.as_ref();
    let mut reg = RegistrationStore::registration(table, &launcher.base, &client).await.expect("read").expect("reg");
    assert!(RegistrationStore::delete_registration(table, &reg.id()).await.expect("deleted"));
    reg.token_url = lms.client().token_url;
    RegistrationStore::put_registration(table, &reg).await.expect("registered again");
    let mut link = course_of(&app, &space).await;
    link.nrps = Some(NrpsEndpoint {
        context_memberships_url: lms.memberships_url("course-1", 10),
        service_versions: vec!["2.0".into()],
    });
    LinkStore::update_context_services(table, &link).await.expect("services");
    app.indexes_settled().await; // the route finds the course by GSI1

    // student-1 left the course; the instructor is not listed either, and stays the host.
    lms.set_roster("course-1", json!([member("student-2", "S2", LEARNER)])).await;
    let r = sync(&app, &space, Some(&teacher)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body, json!({ "added": 0, "removed": 1, "updated": 0, "skipped": 0, "failed": 0 }));
    app.indexes_settled().await;
    let members = app.get(&format!("/spaces/{space}/members"), &teacher).await;
    let mut seen: Vec<(String, String)> = members.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| (m["name"].as_str().unwrap_or("").to_owned(), m["role"].as_str().unwrap_or("").to_owned()))
        .collect();
    seen.sort();
    let expected = [("student-2 person", "participant"), ("teacher-1 person", "host")];
    assert_eq!(seen, expected.map(|(n, r)| (n.to_owned(), r.to_owned())));
}
