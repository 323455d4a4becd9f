//! Each problem's `detail` says what went wrong and, where there is something to do, what to do
//! next (docs/openapi, `Problem.detail`): every code the edge's one mapping answers by itself has
//! a detail, the ones with a next step name it, no cause behind a 500, 502 or 503 shows, and the
//! examples docs/openapi/examples/problems.yaml shows for these codes are what the edge sends.

use std::collections::BTreeMap;

use serde_json::Value;
use vivid_domain::{
    access::Denied,
    connectors::{ConnectorError, Provider},
    error::{Guard, StoreError},
    identity::IdentityError,
    invitations::{InviteRefused, InviteRuleError},
    quota::{Exceeded, Quota},
    sessions::SessionError,
    step_up::SignInTooOld,
};
use vivid_edge::{ApiError, problem::connector_problem};
use vivid_tokens::Unverified;

const REQUEST: &str = "01M8E8H2G0ZCEFEP6KJASZHTG1";

fn quota(quota: Quota, limit: u64) -> ApiError {
    ApiError::QuotaExceeded(Exceeded { quota, limit })
}

/// The words of a quota's next step: a count frees room when something is deleted, a daily
/// budget at midnight UTC, a memo's checkpoints never (the memo itself still saves).
fn quota_next(q: Quota) -> &'static [&'static str] {
    match q {
        Quota::StorageBytes => &["delete some first"],
        Quota::CheckpointsPerVideo => &["still saves"],
        q if q.resets_daily() => &["midnight UTC"],
        _ => &["delete one first"],
    }
}

/// One problem: the error, its code, and the words its detail must hold to say what to do next
/// (none: nothing to do but read it — a rule the detail states, a role the caller lacks, a
/// resource that is not there).
struct Case {
    error: ApiError,
    code: String,
    next: Vec<String>,
}

fn case(error: impl Into<ApiError>, code: &str, next: &[&str]) -> Case {
    Case { error: error.into(), code: code.to_owned(), next: next.iter().map(|w| (*w).to_owned()).collect() }
}

/// An error of every code the edge's mapping answers by itself (the handlers' own codes and
/// texts are checked over HTTP, in tests/tests/stack).
fn cases() -> Vec<Case> {
    let mut cases = vec![
        // 401: how to get credentials that pass.
        case(
            Unverified("the access token is missing, invalid or expired"),
            "unauthenticated",
            &["POST /auth/refresh", "sign in again"],
        ),
        case(SessionError::Refused, "unauthenticated", &["sign in again"]),
        case(
            IdentityError::InvalidToken("the ID token is invalid or expired"),
            "unauthenticated",
            &["sign in with Google again"],
        ),
        case(IdentityError::Unverified, "unauthenticated", &["verify it with Google", "another Google account"]),
        case(StoreError::Condition(Guard::Account), "account_deleted", &["sign in again"]),
        case(SignInTooOld { max_age: 600 }, "reauthentication_required", &["sign in again", "600 seconds"]),
        // Sign-in meets an address or an account that is taken.
        case(
            SessionError::EmailTaken,
            "email_taken",
            &["sign in with the Google account it was created with", "DELETE /users/me"],
        ),
        case(SessionError::AccountDeleting, "account_deleting", &["sign in again"]),
        case(IdentityError::BadCode, "invalid_code", &["start the sign-in again (GET /auth/google/login)"]),
        case(
            IdentityError::Unavailable("Google said 500: secret-cause".into()),
            "google_unavailable",
            &["try again later"],
        ),
        // Invitations.
        case(InviteRefused::Expired, "invitation_expired", &["ask the space's host for a new one"]),
        case(InviteRefused::Revoked, "invitation_revoked", &["ask the space's host for a new one"]),
        case(InviteRefused::UsedUp, "invitation_used_up", &["ask the space's host for a new one"]),
        case(InviteRefused::OtherAccount, "invitation_for_another_email", &["sign in with that address"]),
        case(InviteRefused::Removed, "removed_from_space", &["invite you again"]),
        case(StoreError::Condition(Guard::Removed), "removed_from_space", &["invite you again"]),
        case(InviteRuleError::HostRole, "invalid_role", &[]),
        case(InviteRuleError::Expiry, "invalid_expiry", &[]),
        case(InviteRuleError::MaxUses, "invalid_max_uses", &[]),
        case(InviteRuleError::EmailCount, "invalid_emails", &[]),
        // Roles, and what is not there.
        case(Denied::HostOnly, "host_only", &[]),
        case(Denied::ManagersOnly, "managers_only", &[]),
        case(Denied::Unknown, "not_found", &[]),
        case(StoreError::Condition(Guard::Grant), "not_found", &[]),
        case(ApiError::no_route(), "not_found", &["docs/openapi.yaml"]),
        case(ApiError::MethodNotAllowed, "method_not_allowed", &["the Allow header lists"]),
        // Lists, writes that met another one, bodies.
        case(StoreError::ForeignStart, "invalid_cursor", &["list again from the start, without cursor"]),
        case(StoreError::Condition(Guard::Drawing), "conflict", &["read it again and retry"]),
        case(ApiError::UnsupportedMediaType("application/json"), "unsupported_media_type", &["Content-Type"]),
        case(ApiError::PayloadTooLarge { limit: 65_536 }, "payload_too_large", &["65536"]),
        case(ApiError::UploadTooLarge { limit: 10_737_418_240 }, "upload_too_large", &["10737418240"]),
        case(ApiError::RateLimited { limit: 600, retry_after_secs: 17 }, "rate_limited", &["try again in 17 seconds"]),
        // Failures of a service or of ours: retry, or quote the request id; never the cause.
        case(StoreError::unavailable("ThrottlingException: secret-cause"), "service_unavailable", &["try again"]),
        case(StoreError::backend("table vivid-prod: secret-cause"), "internal", &["quote the request id"]),
    ];
    for provider in [Provider::Webex, Provider::Zoom] {
        let (p, name) = (provider.as_str(), provider.title());
        let (login, again) = (format!("(GET /{p}/login)"), format!("connect {name} again"));
        let problem = |e| connector_problem(provider, e);
        for (e, code, next) in [
            (
                ConnectorError::NotConnected(provider),
                format!("{p}_not_connected"),
                vec!["connect it first", login.as_str()],
            ),
            (
                ConnectorError::ReconnectRequired,
                format!("{p}_reconnect_required"),
                vec![again.as_str(), login.as_str()],
            ),
            (ConnectorError::Unauthorized, format!("{p}_reconnect_required"), vec![again.as_str(), login.as_str()]),
            (ConnectorError::BadCode, "invalid_code".into(), vec![again.as_str(), login.as_str()]),
            (ConnectorError::BadState, "invalid_state".into(), vec![again.as_str(), login.as_str()]),
            (ConnectorError::RateLimited(None), format!("{p}_rate_limited"), vec!["try again shortly"]),
            (ConnectorError::Rejected("401: secret-cause".into()), format!("{p}_unavailable"), vec!["try again later"]),
            (
                ConnectorError::Unavailable("timeout: secret-cause".into()),
                format!("{p}_unavailable"),
                vec!["try again later"],
            ),
            (
                ConnectorError::UnsupportedFormat("ARF".into()),
                "unsupported_recording_format".into(),
                vec!["record as MP4", "upload it"],
            ),
            (ConnectorError::NotFound, "not_found".into(), vec![]),
        ] {
            cases.push(case(problem(e), &code, &next));
        }
    }
    for q in Quota::ALL {
        let error = quota(q, 7);
        let code = error.code();
        cases.push(case(error, code, quota_next(q)));
    }
    cases
}

#[test]
fn every_code_the_edge_answers_has_a_detail_and_names_its_next_step_where_there_is_one() {
    for Case { error, code, next } in cases() {
        let problem = error.to_problem(Some(REQUEST));
        assert_eq!(problem.code, code, "{error:?}");
        assert!(!problem.detail.trim().is_empty(), "{code}: an empty detail");
        assert_eq!(problem.detail, problem.detail.trim(), "{code}: stray white space");
        assert!(!problem.detail.contains("secret-cause"), "{code}: a cause shows: {}", problem.detail);
        for w in &next {
            assert!(problem.detail.contains(w.as_str()), "{code}: {:?} does not say {w:?}", problem.detail);
        }
        if let ApiError::QuotaExceeded(e) = &error {
            assert_eq!(problem.limit, Some(e.limit), "{code}: the limit beside the detail");
            assert!(problem.detail.contains(&e.limit.to_string()), "{code}: the detail names the limit");
        }
    }
}

/// The examples of docs/openapi/examples/problems.yaml by code (each value one line of JSON).
fn documented() -> BTreeMap<String, Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi/examples/problems.yaml");
    let text = std::fs::read_to_string(path).expect("docs/openapi/examples/problems.yaml");
    let mut examples = BTreeMap::new();
    let mut name = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            name = Some(line.trim_end_matches(':').to_owned());
        } else if let (Some(json), Some(key)) = (line.strip_prefix("  value: "), &name) {
            let value: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("example {key}: {e}"));
            examples.insert(key.clone(), value);
        }
    }
    examples
}

#[test]
fn the_documented_examples_of_the_edges_own_problems_are_what_it_sends() {
    let examples = documented();
    assert!(examples.len() > 80, "{} examples read", examples.len());
    // The errors the examples document, as the edge maps them (a quota's limit and the size
    // limit of an upload are the example's; the other texts are fixed).
    let limit = |code: &str| examples.get(code).and_then(|e| e["limit"].as_u64()).unwrap_or(1);
    let mut errors: Vec<ApiError> = vec![
        StoreError::Condition(Guard::Account).into(),
        SignInTooOld { max_age: 600 }.into(),
        SessionError::EmailTaken.into(),
        SessionError::AccountDeleting.into(),
        IdentityError::BadCode.into(),
        IdentityError::Unavailable("500".into()).into(),
        InviteRefused::Expired.into(),
        InviteRefused::Revoked.into(),
        InviteRefused::UsedUp.into(),
        InviteRefused::OtherAccount.into(),
        InviteRefused::Removed.into(),
        InviteRuleError::HostRole.into(),
        InviteRuleError::Expiry.into(),
        InviteRuleError::EmailCount.into(),
        Denied::HostOnly.into(),
        Denied::ManagersOnly.into(),
        Denied::Unknown.into(),
        StoreError::ForeignStart.into(),
        ApiError::UnsupportedMediaType("application/json"),
        ApiError::PayloadTooLarge { limit: 65_536 },
        ApiError::UploadTooLarge { limit: limit("upload_too_large") },
        ApiError::RateLimited { limit: 600, retry_after_secs: 17 },
        StoreError::unavailable("throttled").into(),
        StoreError::backend("broken").into(),
        connector_problem(Provider::Webex, ConnectorError::UnsupportedFormat("ARF".into())),
    ];
    for provider in [Provider::Webex, Provider::Zoom] {
        for e in [
            ConnectorError::NotConnected(provider),
            ConnectorError::ReconnectRequired,
            ConnectorError::RateLimited(None),
            ConnectorError::Unavailable("down".into()),
        ] {
            errors.push(connector_problem(provider, e));
        }
    }
    for q in Quota::ALL {
        errors.push(quota(q, limit(quota(q, 0).code())));
    }
    let mut compared = 0;
    for error in errors {
        let code = error.code();
        // A code no operation answers (`x-no-operation`) may have no example.
        let Some(example) = examples.get(code) else { continue };
        let sent = serde_json::to_value(error.to_problem(Some(REQUEST))).expect("a problem document");
        for field in ["type", "title", "status", "detail", "code", "limit", "requestId"] {
            assert_eq!(example.get(field), sent.get(field), "examples/{code}: {field}");
        }
        compared += 1;
    }
    assert!(compared >= 40, "only {compared} examples compared");
}
