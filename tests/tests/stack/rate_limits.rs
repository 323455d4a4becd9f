//! Abuse capped per caller, not per API: every route counts each request against its caller —
//! the user of a verified access token, else the address it came from — and a caller past their
//! limit a minute gets 429 `rate_limited` with `Retry-After` while everyone else is served
//! (`docs/quotas.md`, "Per-caller rate limits").
//!
//! The windows are whole minutes of the wall clock, so a burst may straddle two of them: a burst
//! of `3 × limit` requests lets through at least `limit` and at most `2 × limit`, never all. The
//! local gateway gives each request the TCP peer's address as `sourceIp`, as API Gateway does; a
//! test speaks from another address by binding its client to 127.0.0.x.

use std::{collections::HashMap, net::IpAddr};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use vivid_domain::sessions::AccessTokenIssuer;
use vivid_local::{
    infra::faults::{Fault, FaultRule},
    infra::template::Template,
};
use vivid_tests::{Reply, TestApp, repo_root};
use vivid_tokens::TokenAudience;

const LIMIT: usize = 5;

/// A stack whose callers may each send `per_user` (signed in) or `per_ip` (not) requests a
/// minute.
async fn stack(per_user: usize, per_ip: usize) -> TestApp {
    TestApp::spawn_configured(|c| {
        c.parameters.insert("RateLimitPerUser".into(), per_user.to_string());
        c.parameters.insert("RateLimitPerIp".into(), per_ip.to_string());
    })
    .await
}

/// A client whose requests come from `ip` (a loopback address), redirects not followed.
fn client_at(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(ip))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn send(app: &TestApp, client: &reqwest::Client, method: Method, path: &str, token: Option<&str>) -> Reply {
    let mut req = client.request(method, format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    TestApp::reply(req.send().await.expect("request sent")).await
}

/// Every refusal is the documented problem: 429 `rate_limited`, the limit, and a `Retry-After`
/// within the minute.
fn assert_rate_limited(r: &Reply, limit: usize) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(r.body["status"], 429);
    assert_eq!(r.body["limit"], limit as u64);
    let wait: u64 = r.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
}

/// Of a burst of `3 × limit` requests, how many passed: at least `limit` (one window's worth),
/// at most `2 × limit` (a burst straddling two windows); every other one refused as documented.
fn passed_of_burst(replies: &[Reply], ok: StatusCode, limit: usize) -> usize {
    let passed = replies.iter().filter(|r| r.status == ok).count();
    for r in replies.iter().filter(|r| r.status != ok) {
        assert_rate_limited(r, limit);
    }
    assert!((limit..=2 * limit).contains(&passed), "{passed} of {} passed, limit {limit}", replies.len());
    passed
}

/// The rate counters in the table: `(PK, SK) -> n`.
async fn rate_counters(app: &TestApp) -> HashMap<(String, String), u64> {
    let mut out = HashMap::new();
    let mut start = None;
    loop {
        let page = app
            .dynamo()
            .scan()
            .table_name(&app.table)
            .filter_expression("begins_with(PK, :rate)")
            .expression_attribute_values(":rate", AttributeValue::S("RATE#".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in page.items() {
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let n = item.get("n").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
            out.insert((text("PK"), text("SK")), n);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}

/// The requests counted for `key` (`USER#{id}`, `IP#{address}`), all windows together.
fn counted(counters: &HashMap<(String, String), u64>, key: &str) -> u64 {
    counters.iter().filter(|((pk, _), _)| *pk == format!("RATE#{key}")).map(|(_, n)| *n).sum()
}

#[tokio::test]
async fn a_user_past_the_limit_gets_429_with_retry_after_while_another_user_and_anonymous_callers_are_served() {
    let app = stack(LIMIT, 1000).await;
    let (ana, bob) = (app.user("Ana").await, app.user("Bob").await);
    let anonymous = client_at([127, 0, 0, 1]);
    // At the same time: Ana sends three times her limit, Bob all but one of his, a stranger
    // signs in.
    let ana_burst = join_all((0..3 * LIMIT).map(|_| app.get("/users/me", &ana.token)));
    let bob_calls = join_all((1..LIMIT).map(|_| app.get("/users/me", &bob.token)));
    let anonymous_calls = join_all((0..LIMIT).map(|_| send(&app, &anonymous, Method::GET, "/auth/google/login", None)));
    let (ana_replies, bob_replies, anonymous_replies) = tokio::join!(ana_burst, bob_calls, anonymous_calls);

    let passed = passed_of_burst(&ana_replies, StatusCode::OK, LIMIT);
    assert!(bob_replies.iter().all(|r| r.status == StatusCode::OK), "Bob is served: {bob_replies:?}");
    let statuses: Vec<StatusCode> = anonymous_replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == StatusCode::FOUND), "sign-in is served: {statuses:?}");
    // Right after Ana's refusals, the others are still served.
    assert_eq!(app.get("/users/me", &bob.token).await.status, StatusCode::OK);
    assert_eq!(send(&app, &anonymous, Method::GET, "/auth/google/login", None).await.status, StatusCode::FOUND);

    // One count a request, none past the limit in any window: a refused request is not counted.
    let counters = rate_counters(&app).await;
    assert_eq!(counted(&counters, &format!("USER#{}", ana.id())), passed as u64);
    assert_eq!(counted(&counters, &format!("USER#{}", bob.id())), LIMIT as u64);
    let mut users = counters.iter().filter(|((pk, _), _)| pk.starts_with("RATE#USER#"));
    assert!(users.all(|(_, n)| *n <= LIMIT as u64), "{counters:?}");
    eprintln!("figures: Ana's burst of {}: {passed} served, {} refused", 3 * LIMIT, 3 * LIMIT - passed);
}

#[tokio::test]
async fn an_address_hammering_sign_in_gets_429_while_another_address_and_users_signed_in_there_are_served() {
    let app = stack(1000, LIMIT).await;
    let ana = app.user("Ana").await;
    let hammer = client_at([127, 0, 0, 2]);
    let burst = join_all((0..3 * LIMIT).map(|_| send(&app, &hammer, Method::GET, "/auth/google/login", None))).await;
    passed_of_burst(&burst, StatusCode::FOUND, LIMIT);

    let neighbour = client_at([127, 0, 0, 3]);
    assert_eq!(send(&app, &neighbour, Method::GET, "/auth/google/login", None).await.status, StatusCode::FOUND);
    // A signed-in user behind the hammering address (a shared NAT) is counted as themselves.
    let me = send(&app, &hammer, Method::GET, "/users/me", Some(&ana.token)).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);

    let counters = rate_counters(&app).await;
    assert_eq!(counted(&counters, "IP#127.0.0.3"), 1);
    assert_eq!(counted(&counters, &format!("USER#{}", ana.id())), 1);
}

#[tokio::test]
async fn a_token_that_does_not_verify_is_counted_against_its_address_never_against_the_user_it_names() {
    let app = stack(1, 1000).await;
    let ana = app.user("Ana").await;
    // Ana's id and e-mail, signed with the stack's own key, for another audience: it does not
    // verify here, so it cannot spend Ana's allowance (her limit is a single request).
    let forger = app.issuer_with(TokenAudience { issuer: "https://evil.example".into(), audience: "vivid-api".into() });
    let forged = forger.issue_access(&ana.user.user_id, &ana.user.email).expect("token").token;
    let client = client_at([127, 0, 0, 4]);
    let calls = app.stack.dynamodb_calls();
    for token in [forged.as_str(), "not-a-token"] {
        let r = send(&app, &client, Method::GET, "/users/me", Some(token)).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{:?}", r.body);
    }
    // The route read nothing; the limiter's counts are no round trip of the route's.
    assert_eq!(app.stack.dynamodb_calls() - calls, 0);
    let counters = rate_counters(&app).await;
    assert_eq!(counted(&counters, "IP#127.0.0.4"), 2);
    assert_eq!(counted(&counters, &format!("USER#{}", ana.id())), 0);
    assert_eq!(app.get("/users/me", &ana.token).await.status, StatusCode::OK, "Ana's one request is hers");
}

#[tokio::test]
async fn every_route_counts_its_caller_in_one_allowance_and_may_write_its_counter() {
    // One request a minute per address: a route called right after another request from the
    // same address in the same minute answers 429 — only if its function counted the request
    // (a function whose grant missed the counter's write would fail open and answer otherwise).
    let app = stack(1000, 1).await;
    let client = client_at([127, 0, 0, 5]);
    let routes = Template::load(&repo_root().join("template.yaml")).expect("template").routes().expect("routes");
    const ID: &str = "01JD6Q5C7B8D9E0F1G2H3J4K5M";
    let mut checked = 0;
    for route in routes.iter().filter(|r| !r.is_default()) {
        let path: String =
            route.path.split('/').map(|seg| if seg.starts_with('{') { ID } else { seg }).collect::<Vec<_>>().join("/");
        let method = Method::from_bytes(route.method.as_bytes()).expect("method");
        let mut answer = None;
        // The spending request and the route's may straddle a minute's end: once more then.
        for _ in 0..2 {
            send(&app, &client, Method::GET, "/auth/google/login", None).await;
            let r = send(&app, &client, method.clone(), &path, None).await;
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                answer = Some(r);
                break;
            }
        }
        let r = answer.unwrap_or_else(|| panic!("{} {path} did not count its caller", route.method));
        assert_rate_limited(&r, 1);
        checked += 1;
    }
    assert!(checked >= 60, "{checked} routes");
    assert_eq!(app.stack.denied_grants(), [], "every function may write its counter, and only that");
    // `$default` (no-route) is not limited: it does no work a count would spare.
    assert_eq!(send(&app, &client, Method::GET, "/nowhere", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_limiter_fails_open_when_the_table_cannot_count() {
    let app = stack(1, 1000).await;
    let ana = app.user("Ana").await;
    assert_eq!(app.get("/users/me", &ana.token).await.status, StatusCode::OK, "her one request");
    // The counter's write is throttled (GET /users/me itself makes no UpdateItem): the limiter
    // cannot count, lets every request through at once, and does not retry.
    let faults = app.stack.faults();
    let rule = faults.add(FaultRule::dynamodb("UpdateItem", Fault::Throttle));
    for _ in 0..3 {
        let r = app.get("/users/me", &ana.token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    faults.clear();
    assert_eq!(faults.fired(rule), 3, "one attempt a request");
    // Healed, the limit holds again: within three requests (two windows at most) one is refused.
    let mut refused = None;
    for _ in 0..3 {
        let r = app.get("/users/me", &ana.token).await;
        if r.status != StatusCode::OK {
            refused = Some(r);
            break;
        }
    }
    assert_rate_limited(&refused.expect("a refusal once the table counts again"), 1);
}
