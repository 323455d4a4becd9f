//! Rotating the LTI tool key (docs/lti-key-rotation.md), its three deployments side by side in
//! one account (one emulator, one KMS): the local stack cannot update itself in place, so each
//! step is a deployment of its own with the step's parameters, the first one's own `LtiToolKey`
//! being the key that goes. A second RSA 2048 key is made with the AWS SDK as an operator makes
//! it (`aws kms create-key --key-spec RSA_2048 --key-usage SIGN_VERIFY`).
//!
//! 1. Announce (`LtiPreviousToolKeyArn` = the new key): `/lti/jwks` lists the stack's key, then
//!    the new one; the stack's key still signs.
//! 2. Switch (`LtiToolKeyArn` = the new key, `LtiPreviousToolKeyArn` = the stack's key): the
//!    set lists the new key, then the old one; a deep-linking response is signed by the new key,
//!    carries its `kid` and verifies with its public half (and not with the old key's), with the
//!    key set a platform kept from step 1 and, at the platform (`lti1p3platform`), with the set it
//!    fetches now; what the old key signed in step 1 still verifies with the step-2 set.
//! 3. Retire (`LtiToolKeyArn` = the new key alone): the set lists the new key only.
//!
//! In every step each function stays within its grants: the key-set function may read the public
//! half of both keys, the signing functions sign with the signing key.

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::types::UserId;
use vivid_local::infra::{
    account::Account,
    emulator::{Moto, emulator_sdk_config, moto_server_path},
};
use vivid_tests::{LtiPlatform, TestApp, TestUser, repo_root};

use crate::lti_launch::{code_of, person, session};

const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
/// The functions that sign with the tool key (`kms:Sign`).
const SIGNERS: [&str; 4] = ["lti-deep-link", "lti-roster-sync", "lti-roster-worker", "lti-grade-worker"];

/// A deployment of the rotation, in `account`, with `parameters` (the test defaults besides).
async fn deploy(account: &Account, parameters: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_in(account, |config| {
        config.pipeline = false;
        for (name, value) in parameters {
            config.parameters.insert((*name).to_owned(), (*value).to_owned());
        }
    })
    .await
}

/// A function's environment variable in this deployment.
fn env<'a>(app: &'a TestApp, function: &str, name: &str) -> Option<&'a str> {
    app.stack.environments.get(function).and_then(|env| env.get(name)).map(String::as_str)
}

/// `GET /lti/jwks`: the key set and its `max-age` in seconds.
async fn key_set(app: &TestApp) -> (Value, u64) {
    let r = app.call(Method::GET, "/lti/jwks", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let cache = r.header("cache-control").unwrap_or_default().to_owned();
    let max_age = cache
        .split(',')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no max-age in {cache:?}"));
    (r.body, max_age)
}

fn kids(set: &Value) -> Vec<&str> {
    set["keys"].as_array().into_iter().flatten().filter_map(|k| k["kid"].as_str()).collect()
}

/// A compact JWS's header.
fn header(jwt: &str) -> Value {
    let part = jwt.split('.').next().unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url header")).expect("JSON header")
}

/// Whether `jwt` (RS256, for `audience`) verifies with `key`.
fn verifies(jwt: &str, key: &DecodingKey, audience: &str) -> bool {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(jwt, key, &validation).is_ok()
}

/// Whether `jwt` verifies with the key of `set` its header names, as a platform that kept `set`
/// verifies it without fetching again.
fn verifies_with_set(jwt: &str, set: &Value, audience: &str) -> bool {
    let set: JwkSet = serde_json::from_value(set.clone()).expect("a JWK set");
    let kid = header(jwt)["kid"].as_str().unwrap_or_default().to_owned();
    set.find(&kid).and_then(|jwk| DecodingKey::from_jwk(jwk).ok()).is_some_and(|key| verifies(jwt, &key, audience))
}

/// A KMS key's public half as KMS gives it (`GetPublicKey`), not as the key set publishes it.
async fn public_half(kms: &aws_sdk_kms::Client, arn: &str) -> DecodingKey {
    let out = kms.get_public_key().key_id(arn).send().await.expect("GetPublicKey");
    let der = out.public_key.expect("a public key");
    let (n, e) = vivid_kms::signer::rsa_public_numbers(der.as_ref()).expect("an RSA key");
    DecodingKey::from_rsa_raw_components(&n, &e)
}

/// A deep-linking response the deployment signs now: a platform registers the tool, an
/// instructor's deep-linking launch makes the course's space, a lecture is added, the instructor
/// picks it, and the page's `JWT` is posted back to the platform, which verifies it with the
/// tool's key set (fetched from this deployment's `/lti/jwks`). `(the JWT, the platform's issuer)`.
async fn deep_linking_response(app: &TestApp) -> (String, String) {
    let platform = LtiPlatform::start();
    let (page, client) = platform.register(&app.lti_invitation().await).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert!(client.is_some(), "the platform registered the tool");

    let mut spec = person("teacher-1", &[INSTRUCTOR]);
    spec["deep_linking"] = json!(true);
    let s = session(app, &code_of(platform.launch("dl1", spec).await)).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    let id: UserId = s.body["user"]["userId"].as_str().expect("user").parse().expect("a user id");
    let user = app.users().get_user(&id).await.expect("read").expect("the instructor");
    let teacher = TestUser { user, token: s.body["accessToken"].as_str().expect("token").to_owned() };
    let space = s.body["launch"]["spaceId"].as_str().expect("the course's space").to_owned();
    let deep_link = s.body["launch"]["deepLinkId"].as_str().expect("a deep-linking request").to_owned();
    let video = app.new_video(&space, &teacher, 1024).await["videoId"].as_str().expect("videoId").to_owned();

    let pick = json!({ "deepLinkId": deep_link, "videoIds": [video] });
    let resp = app.http.post(format!("{}/lti/deep-link", app.base)).bearer_auth(&teacher.token).json(&pick);
    let resp = resp.send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.expect("the page");
    let jwt = page
        .split("name=\"JWT\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no JWT field in {page}"))
        .to_owned();

    let back = platform.browser.post(format!("{}/deep-link-return", platform.base)).form(&[("JWT", &jwt)]);
    let back = back.send().await.expect("platform reached");
    assert_eq!(back.status(), StatusCode::OK, "the platform verified the response: {:?}", back.text().await);
    let received = platform.get("/_test/deep-links").await;
    assert_eq!(received[0]["items"][0]["custom"]["vivid_video"], json!(video));
    (jwt, platform.base.clone())
}

#[tokio::test]
async fn the_tool_key_rotates_announced_then_switched_then_retired_with_every_signature_verifying() {
    if std::env::var_os("RUST_LOG").is_some() {
        vivid_config::telemetry::init();
    }
    // Declared first, dropped last: the emulator, then the account, outlive the deployments.
    let moto = Moto::start(&moto_server_path(&repo_root())).await.expect("the emulator (make venv)");
    let account = Account::start(&moto.endpoint, &repo_root()).await.expect("the account");
    let kms = aws_sdk_kms::Client::new(&emulator_sdk_config(&account.aws_endpoint).await);
    let created = kms
        .create_key()
        .description("VIVID - the LTI tool's signing key (RS256), rotated in")
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .expect("the key's metadata");
    let new_arn = created.arn.clone().expect("the key's ARN");
    let new_kid = created.key_id.clone();

    // 1. Announce: the new key published after the stack's own, which still signs.
    let announce = deploy(&account, &[("LtiPreviousToolKeyArn", &new_arn)]).await;
    let old_arn = env(&announce, "lti-jwks", "VIVID_LTI_KEY_ARN").expect("the stack's own key").to_owned();
    let old_kid = old_arn.rsplit('/').next().unwrap_or_default().to_owned();
    assert_ne!(old_arn, new_arn);
    let (announced, max_age) = key_set(&announce).await;
    assert_eq!(kids(&announced), [old_kid.as_str(), new_kid.as_str()], "{announced}");
    // docs/lti-key-rotation.md waits out at least this long between the steps.
    assert!(max_age <= 3600, "the key set may be kept {max_age} s");
    for function in SIGNERS {
        assert_eq!(env(&announce, function, "VIVID_LTI_KEY_ARN"), Some(old_arn.as_str()), "{function}");
    }
    let (old_jwt, old_audience) = deep_linking_response(&announce).await;
    assert_eq!(header(&old_jwt)["kid"], json!(old_kid));
    assert!(verifies(&old_jwt, &public_half(&kms, &old_arn).await, &old_audience));

    // 2. Switch: the new key signs; the old one is still published.
    let switch = deploy(&account, &[("LtiToolKeyArn", &new_arn), ("LtiPreviousToolKeyArn", &old_arn)]).await;
    let (switched, _) = key_set(&switch).await;
    assert_eq!(kids(&switched), [new_kid.as_str(), old_kid.as_str()], "{switched}");
    for function in SIGNERS {
        assert_eq!(env(&switch, function, "VIVID_LTI_KEY_ARN"), Some(new_arn.as_str()), "{function}");
        assert_eq!(env(&switch, function, "VIVID_LTI_PREVIOUS_KEY_ARN"), None, "{function} only signs");
    }
    let (new_jwt, new_audience) = deep_linking_response(&switch).await;
    assert_eq!(header(&new_jwt)["kid"], json!(new_kid));
    assert!(verifies(&new_jwt, &public_half(&kms, &new_arn).await, &new_audience), "signed by the new key");
    assert!(!verifies(&new_jwt, &public_half(&kms, &old_arn).await, &new_audience), "not by the old one");
    // A platform that kept the step-1 set verifies what the new key signs without fetching it
    // again; what the old key signed before the switch (a page still open) verifies with the
    // step-2 set.
    assert!(verifies_with_set(&new_jwt, &announced, &new_audience));
    assert!(verifies_with_set(&old_jwt, &switched, &old_audience));

    // 3. Retire: the new key alone.
    let retire = deploy(&account, &[("LtiToolKeyArn", &new_arn)]).await;
    let (retired, _) = key_set(&retire).await;
    assert_eq!(kids(&retired), [new_kid.as_str()], "{retired}");
    assert!(verifies_with_set(&new_jwt, &retired, &new_audience));
    assert!(!verifies_with_set(&old_jwt, &retired, &old_audience), "the old key is no longer published");

    for (step, app) in [("announce", &announce), ("switch", &switch), ("retire", &retire)] {
        assert_eq!(app.stack.denied_grants(), [], "{step}: every call within the template's grants");
    }
}
