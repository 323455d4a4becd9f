//! Registering an LMS by hand (`POST /lti/registrations`, for an LMS without LTI Dynamic
//! Registration: Open edX's LTI Consumer, Canvas's or Moodle's manual entry) and adding a
//! deployment to a registration (`POST /lti/registrations/{registrationId}/deployments`: Canvas
//! gives a new deployment id each time the key is installed in another account or course).
//! Launches go through the real platform, `tests/lti/platform.py` (PyPI `lti1p3platform`): it
//! launches only a tool it registered dynamically, so a manual registration here replaces the
//! dynamic one with the platform's own values, typed in as an operator would.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{LTI_DEPLOYMENT, LtiPlatform, TestApp, TestUser};

use crate::lti_launch::{code_of, person, registered, session, stack};

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";

/// A registration an operator types in for an LMS at `issuer` (https, not registered anywhere).
fn by_hand(issuer: &str, client: &str) -> Value {
    json!({
        "issuer": issuer,
        "clientId": client,
        "deploymentIds": ["1"],
        "authUrl": format!("{issuer}/api/lti_consumer/v1/launch/"),
        "tokenUrl": format!("{issuer}/api/lti_consumer/v1/token/block-v1:Org+C1+2026+type@lti_consumer+block@abc"),
        "jwksUrl": format!("{issuer}/api/lti_consumer/v1/public_keysets/block-v1:Org+C1+2026+type@lti_consumer+block@abc"),
        "name": "Open edX",
    })
}

/// The platform stand-in's own values (its OpenID configuration, the client id it gave the tool),
/// as an operator copies them from the LMS's admin pages.
async fn platform_values(platform: &LtiPlatform) -> Value {
    let config = platform.get("/.well-known/openid-configuration").await;
    let client = platform.get("/_test/registration").await["client_id"].clone();
    json!({
        "issuer": config["issuer"],
        "clientId": client,
        "deploymentIds": [LTI_DEPLOYMENT],
        "authUrl": config["authorization_endpoint"],
        "tokenUrl": config["token_endpoint"],
        "jwksUrl": config["jwks_uri"],
        "name": "The platform stand-in",
    })
}

/// The id of `issuer`'s registration in the operators' list (the index settled first).
async fn registration_id(app: &TestApp, admin: &TestUser, issuer: &str) -> String {
    app.indexes_settled().await;
    let list = app.get("/lti/registrations", &admin.token).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    let item = items.iter().find(|i| i["issuer"] == json!(issuer)).expect("the registration is listed");
    item["registrationId"].as_str().expect("registrationId").to_owned()
}

fn deployments_of(id: &str) -> String {
    format!("/lti/registrations/{id}/deployments")
}

#[tokio::test]
async fn only_the_tools_administrators_register_by_hand_and_add_deployments() {
    let (app, admin) = stack().await;
    let someone = app.user("Someone").await;
    let unknown = deployments_of(&"a".repeat(64));
    let deployment = json!({ "deploymentId": "2" });
    for (path, body) in
        [("/lti/registrations", by_hand("https://lms.example.edu", "c1")), (&*unknown, deployment.clone())]
    {
        let anon = app.call(Method::POST, path, None, Some(body.clone())).await;
        assert_eq!((anon.status, anon.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{path}");
        let other = app.call(Method::POST, path, Some(&someone.token), Some(body)).await;
        assert_eq!((other.status, other.code()), (StatusCode::FORBIDDEN, "lti_admins_only"), "{path}");
    }
    // Nothing was registered by the refused calls.
    app.indexes_settled().await;
    assert_eq!(app.get("/lti/registrations", &admin.token).await.body["items"], json!([]));

    let made = app.post("/lti/registrations", &admin.token, by_hand("https://lms.example.edu", "c1")).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let id = made.body["registrationId"].as_str().expect("registrationId").to_owned();
    assert_eq!(made.header("location"), Some(&*format!("/lti/registrations/{id}")));
    assert_eq!(made.body["createdBy"], json!(format!("user:{}", admin.id())));
    assert_eq!(made.body["deploymentIds"], json!(["1"]));
    assert_eq!(made.body["name"], "Open edX");
    // As the list shows it.
    app.indexes_settled().await;
    let list = app.get("/lti/registrations", &admin.token).await;
    assert_eq!(list.body["items"], json!([made.body]));

    let added = app.post(&deployments_of(&id), &admin.token, deployment.clone()).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
    assert_eq!(added.body["deploymentIds"], json!(["1", "2"]));
    // An unknown registration, and an id that is none.
    let none = app.post(&unknown, &admin.token, deployment.clone()).await;
    assert_eq!((none.status, none.code()), (StatusCode::NOT_FOUND, "not_found"));
    let malformed = app.post(&deployments_of("nope"), &admin.token, deployment).await;
    assert_eq!((malformed.status, malformed.code()), (StatusCode::BAD_REQUEST, "malformed_id"));
}

#[tokio::test]
async fn a_registration_by_hand_refuses_bad_input_and_writes_nothing() {
    let (app, admin) = stack().await;
    let post = |body: Value| app.post("/lti/registrations", &admin.token, body);
    let raw = |ct: &'static str, body: &'static str| {
        app.call_raw(Method::POST, "/lti/registrations", Some(&admin.token), ct, body.as_bytes().to_vec())
    };
    let r = raw("application/json", "{\"issuer\": ").await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "malformed_json"), "{:?}", r.body);
    let r = raw("text/plain", "{}").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let good = by_hand("https://lms.example.edu", "c1");
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let mut unknown = good.clone();
    unknown["publicKey"] = json!("-----BEGIN PUBLIC KEY-----");
    let mut missing = good.clone();
    missing.as_object_mut().map(|o| o.remove("jwksUrl"));
    for (case, body) in [
        ("an unknown field", unknown),
        ("a missing field", missing),
        // Plain HTTP is fetched on loopback only, and only because the local stack allows it: a
        // platform elsewhere is refused as it is in AWS.
        ("an http issuer", with("issuer", json!("http://lms.example.edu"))),
        ("an http endpoint", with("authUrl", json!("http://lms.example.edu/auth"))),
        ("an endpoint that is no URL", with("jwksUrl", json!("keys please"))),
        ("an issuer that is no URL", with("issuer", json!("lms.example.edu"))),
        ("an issuer with a query", with("issuer", json!("https://lms.example.edu/?tenant=1"))),
        ("an issuer with a fragment", with("issuer", json!("https://lms.example.edu/#x"))),
        ("a file URL", with("tokenUrl", json!("file:///etc/passwd"))),
        ("no deployment", with("deploymentIds", json!([]))),
        ("21 deployments", with("deploymentIds", json!((0..21).map(|i| i.to_string()).collect::<Vec<_>>()))),
        ("a deployment twice", with("deploymentIds", json!(["1", "1"]))),
        ("a deployment with a control character", with("deploymentIds", json!(["1\n"]))),
        ("an empty client id", with("clientId", json!(""))),
        ("a client id of 256 characters", with("clientId", json!("c".repeat(256)))),
        ("a blank name", with("name", json!("  "))),
        ("a number for a URL", with("tokenUrl", json!(42))),
    ] {
        let r = post(body).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{case}: {:?}", r.body);
    }
    // The local stand-ins' loopback http is accepted on the local stack.
    let local = json!({ "issuer": "http://127.0.0.1:9", "clientId": "c1", "deploymentIds": ["1"],
        "authUrl": "http://127.0.0.1:9/auth", "tokenUrl": "http://localhost:9/token", "jwksUrl": "http://127.0.0.1:9/jwks" });
    let r = post(local).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["name"], "http://127.0.0.1:9", "the issuer names a registration given no name");
    app.indexes_settled().await;
    let list = app.get("/lti/registrations", &admin.token).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1), "only the valid one was written");

    // The deployments route's body.
    let id = r.body["registrationId"].as_str().expect("registrationId").to_owned();
    let path = deployments_of(&id);
    let r = app.call_raw(Method::POST, &path, Some(&admin.token), "application/json", b"{".to_vec()).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "malformed_json"));
    for body in [
        json!({}),
        json!({ "deploymentId": "" }),
        json!({ "deploymentId": "2\u{7}" }),
        json!({ "deploymentId": "d".repeat(256) }),
        json!({ "deploymentId": 2 }),
        json!({ "deploymentId": "2", "clientId": "c2" }),
    ] {
        let r = app.post(&path, &admin.token, body.clone()).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{body}: {:?}", r.body);
    }
    let r = app.post(&path, &admin.token, json!({ "deploymentId": "d".repeat(255) })).await;
    assert_eq!(r.status, StatusCode::OK, "255 characters are a deployment id: {:?}", r.body);
    assert_eq!(r.body["deploymentIds"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_platform_registered_by_hand_launches_and_its_issuer_keeps_one_key_set() {
    // The platform registered the tool (it launches only a tool it registered); the operator
    // deletes that registration and types the platform's values in instead.
    let (app, admin, platform) = registered().await;
    let values = platform_values(&platform).await;
    let dynamic = registration_id(&app, &admin, &platform.base).await;
    let deleted = app.call(Method::DELETE, &format!("/lti/registrations/{dynamic}"), Some(&admin.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    // Its login initiation is refused (the launch never starts).
    let refused = platform.launch_in_deployment("before", person("teacher-1", &[INSTRUCTOR]), LTI_DEPLOYMENT).await;
    assert_eq!((refused.reply.status, refused.reply.code()), (StatusCode::BAD_REQUEST, "unknown_platform"));

    let made = app.post("/lti/registrations", &admin.token, values.clone()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["registrationId"], json!(dynamic), "the same (issuer, client id), the same id");
    for field in ["issuer", "clientId", "deploymentIds", "authUrl", "tokenUrl", "jwksUrl", "name"] {
        assert_eq!(made.body[field], values[field], "{field}");
    }
    let launched = platform.launch("after", person("teacher-1", &[INSTRUCTOR])).await;
    let s = session(&app, &code_of(launched)).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    assert!(s.body["launch"]["spaceId"].as_str().is_some(), "the course's space: {:?}", s.body);

    // The same (issuer, client id) again.
    let again = app.post("/lti/registrations", &admin.token, values.clone()).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "already_registered"), "{:?}", again.body);
    // Another client of the issuer naming other keys: it could sign launches as the first one's
    // users. Refused, whichever client id.
    let mut other_keys = values.clone();
    other_keys["clientId"] = json!("client-other");
    other_keys["jwksUrl"] = json!(format!("{}/keys-elsewhere", platform.base));
    let r = app.post("/lti/registrations", &admin.token, other_keys.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "issuer_key_conflict"), "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap_or_default().contains("/keys-elsewhere"), "{:?}", r.body);
    // Unless the administrator vouches for a key set per client (Open edX's components).
    let mut vouched = other_keys.clone();
    vouched["clientId"] = json!("client-component-2");
    vouched["separateKeySet"] = json!(true);
    let r = app.post("/lti/registrations", &admin.token, vouched).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["jwksUrl"], json!(format!("{}/keys-elsewhere", platform.base)), "{:?}", r.body);
    // Another client of the issuer with the same keys (Canvas Cloud: one issuer, a client per
    // institution): registered.
    let mut same_keys = values.clone();
    same_keys["clientId"] = json!("client-other");
    let r = app.post("/lti/registrations", &admin.token, same_keys).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_ne!(r.body["registrationId"], json!(dynamic));
}

#[tokio::test]
async fn a_deployment_added_to_a_registration_launches_and_is_added_once() {
    let (app, admin, platform) = registered().await;
    let id = registration_id(&app, &admin, &platform.base).await;
    // A launch from a second installation of the tool: its deployment is unknown.
    let refused = platform.launch_in_deployment("d2-before", person("teacher-1", &[INSTRUCTOR]), "deployment-2").await;
    assert_eq!((refused.reply.status, refused.reply.code()), (StatusCode::BAD_REQUEST, "unknown_platform"));
    // The platform's own deployment with an ID token naming the other: refused at the launch too.
    let mut spec = person("teacher-1", &[INSTRUCTOR]);
    spec["tamper"] = json!({ "deployment": "deployment-2" });
    let tampered = platform.launch("d2-token", spec).await;
    assert_eq!((tampered.reply.status, tampered.reply.code()), (StatusCode::BAD_REQUEST, "unknown_platform"));

    let body = json!({ "deploymentId": "deployment-2" });
    for _ in 0..2 {
        let r = app.post(&deployments_of(&id), &admin.token, body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["registrationId"], json!(id));
        assert_eq!(r.body["deploymentIds"], json!([LTI_DEPLOYMENT, "deployment-2"]), "added once");
    }
    let launched = platform.launch_in_deployment("d2-after", person("teacher-2", &[INSTRUCTOR]), "deployment-2").await;
    let s = session(&app, &code_of(launched)).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    // The platform's own deployment still launches.
    let own = platform.launch("d1", person("teacher-1", &[INSTRUCTOR])).await;
    assert_eq!(own.reply.status, StatusCode::FOUND, "{:?}", own.reply.body);
    app.indexes_settled().await;
    let list = app.get("/lti/registrations", &admin.token).await;
    assert_eq!(list.body["items"][0]["deploymentIds"], json!([LTI_DEPLOYMENT, "deployment-2"]));
}

#[tokio::test]
async fn a_registration_holds_at_most_100_deployments_and_concurrent_additions_all_land() {
    let (app, admin) = stack().await;
    let mut body = by_hand("https://canvas.example.edu", "10000000000042");
    body["deploymentIds"] = json!((0..20).map(|i| format!("d{i}")).collect::<Vec<_>>());
    let made = app.post("/lti/registrations", &admin.token, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let id = made.body["registrationId"].as_str().expect("registrationId").to_owned();
    app.indexes_settled().await;
    let path = deployments_of(&id);
    // Ten at once: each one's append is one conditional write, none lost to another.
    let adds = (20..30).map(|i| app.post(&path, &admin.token, json!({ "deploymentId": format!("d{i}") })));
    for r in futures::future::join_all(adds).await {
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    for i in 30..100 {
        let r = app.post(&path, &admin.token, json!({ "deploymentId": format!("d{i}") })).await;
        assert_eq!(r.status, StatusCode::OK, "d{i}: {:?}", r.body);
    }
    let full = app.post(&path, &admin.token, json!({ "deploymentId": "d100" })).await;
    assert_eq!((full.status, full.code()), (StatusCode::CONFLICT, "too_many_deployments"), "{:?}", full.body);
    // One it holds is still answered as held.
    let held = app.post(&path, &admin.token, json!({ "deploymentId": "d25" })).await;
    assert_eq!(held.status, StatusCode::OK, "{:?}", held.body);
    let mut ids: Vec<String> = held.body["deploymentIds"]
        .as_array()
        .expect("deploymentIds")
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 100);
    ids.sort_by_key(|d| d[1..].parse::<u32>().unwrap_or(u32::MAX));
    assert_eq!(ids, (0..100).map(|i| format!("d{i}")).collect::<Vec<_>>());
}
