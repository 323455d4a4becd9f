//! Sessions (issue 14, account edges): the refresh grace window for two tabs without weakening
//! reuse detection, the absolute session lifetime, `GET`/`DELETE /users/me/sessions`, and a
//! deleted account's still-valid access token connecting nothing.
//!
//! Time is moved by editing the table (a token's `usedAt`, a family's `endsAt`) where waiting
//! would make a test slow; one test waits the real grace out.
mod deleted_account;
mod grace;
mod lifetime;
mod listing;
mod sign_out;

use std::{collections::HashMap, time::Duration};

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_domain::{
    sessions::{REFRESH_GRACE_SECS, SESSION_LIFETIME_SECS, hash_secret},
    types::unix_now,
};
use vivid_tests::{Reply, TestApp, cookie_value, pk, query_param, set_cookies};

pub(super) const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub(super) const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// One sign-in (a session): its tokens and its user.
#[derive(Debug, Clone)]
pub(super) struct Signed {
    pub(super) access: String,
    pub(super) refresh: String,
    pub(super) user_id: String,
}

/// `POST /auth/google` for `email` from a client announcing `agent`.
pub(super) async fn sign_in(app: &TestApp, email: &str, agent: &str) -> Signed {
    let token = app.stack.google.id_token(&app.stack.google.claims_for(email, "Someone"));
    let resp = app
        .http
        .post(format!("{}/auth/google", app.base))
        .header("user-agent", agent)
        .json(&json!({ "idToken": token }))
        .send()
        .await
        .expect("sign-in");
    let r = TestApp::reply(resp).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    Signed {
        access: r.body["accessToken"].as_str().expect("access").to_owned(),
        refresh: r.body["refreshToken"].as_str().expect("refresh").to_owned(),
        user_id: r.body["user"]["userId"].as_str().expect("userId").to_owned(),
    }
}

/// `POST /auth/refresh` with the token in the body.
pub(super) async fn refresh(app: &TestApp, token: &str) -> Reply {
    app.call(Method::POST, "/auth/refresh", None, Some(json!({ "refreshToken": token }))).await
}

/// `POST /auth/refresh` with the token in the cookie, as a browser tab: the status and the
/// rotated cookie.
pub(super) async fn refresh_by_cookie(app: &TestApp, token: &str) -> (StatusCode, Option<String>, Value) {
    let resp = app
        .http
        .post(format!("{}/auth/refresh", app.base))
        .header("cookie", format!("__Host-vivid_refresh={token}"))
        .send()
        .await
        .expect("refresh");
    let cookie = cookie_value(&set_cookies(resp.headers()), "__Host-vivid_refresh");
    let r = TestApp::reply(resp).await;
    (r.status, cookie, r.body)
}

pub(super) fn new_refresh(r: &Reply) -> String {
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["refreshToken"].as_str().expect("refresh token").to_owned()
}

/// The claims of a JWT (unverified: the server verified it).
pub(super) fn claims(jwt: &str) -> Value {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

pub(super) fn number(item: &HashMap<String, AttributeValue>, attr: &str) -> Option<u64> {
    item.get(attr).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

/// `SET attr = value` (or `REMOVE attr` with `None`) on one item, behind the API's back.
pub(super) async fn edit(app: &TestApp, pk: &str, sk: &str, attr: &str, value: Option<AttributeValue>) {
    let key = HashMap::from([
        ("PK".to_owned(), AttributeValue::S(pk.into())),
        ("SK".to_owned(), AttributeValue::S(sk.into())),
    ]);
    let req = app
        .dynamo()
        .update_item()
        .table_name(&app.table)
        .set_key(Some(key))
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#a", attr);
    let req = match value {
        Some(v) => req.update_expression("SET #a = :v").expression_attribute_values(":v", v),
        None => req.update_expression("REMOVE #a"),
    };
    req.send().await.expect("edit");
}

pub(super) fn token_pk(token: &str) -> String {
    format!("REFRESH#{}", hash_secret(token))
}

/// The session (family) id of a sign-in, from its access token's `sid`.
pub(super) fn session_of(s: &Signed) -> String {
    claims(&s.access)["sid"].as_str().expect("sid").to_owned()
}

pub(super) async fn sessions(app: &TestApp, access: &str) -> Vec<Value> {
    // Sessions are listed from an index: a sign-in shows there once the index caught up.
    app.indexes_settled().await;
    let r = app.get("/users/me/sessions", access).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

pub(super) async fn end_sessions(app: &TestApp, access: Option<&str>, query: &str) -> (Reply, Vec<String>) {
    let mut req = app.http.delete(format!("{}/users/me/sessions{query}", app.base));
    if let Some(t) = access {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("delete sessions");
    let cookies = set_cookies(resp.headers());
    (TestApp::reply(resp).await, cookies)
}
