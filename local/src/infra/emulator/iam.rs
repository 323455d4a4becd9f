//! The proxy's IAM for the services besides DynamoDB and S3 (see [`crate::infra::grants`]): KMS, Secrets
//! Manager, SES v2, Lambda `Invoke` and EventBridge. A call a function signs is refused, in the
//! service's own error shape, unless the template grants what it needs; references only the
//! service can resolve (a KMS alias, a secret's name, SES's verified identities) are asked of the
//! emulator directly, unsigned by any function.

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};

use super::state::ProxyState;
use crate::infra::grants::{self, Context, Need, needs};

/// The refusal of a call the template does not grant its signer; `None` lets it through (not a
/// function's, granted, a service not checked here, or an audit).
pub(super) async fn refusal(s: &ProxyState, parts: &http::request::Parts, body: &[u8]) -> Option<Response> {
    let authorization = parts.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let key = grants::signing_key(authorization)?;
    s.grants.function(key)?;
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let operation = needs::operation(target);
    if target.starts_with("TrentService.") {
        let mut list = Vec::new();
        for (action, reference) in needs::kms_keys(operation, body) {
            let resource = match reference {
                Some(r) => kms_key_arn(s, &r).await,
                None => "*".to_owned(),
            };
            list.push(Need::new(action, resource));
        }
        let denial = s.grants.check_needs(key, &list, &needs::kms_context(body))?;
        return Some(grants::json_error("AccessDeniedException", &denial.message()));
    }
    if target.starts_with("secretsmanager.") {
        let (action, reference) = needs::secret(operation, body);
        let resource = match reference {
            Some(r) => secret_arn(s, &r).await,
            None => "*".to_owned(),
        };
        let denial = s.grants.check_needs(key, &[Need::new(action, resource)], &Context::default())?;
        return Some(grants::json_error("AccessDeniedException", &denial.message()));
    }
    if target.starts_with("AWSEvents.") {
        let denial = s.grants.check_needs(key, &needs::events(operation, body), &Context::default())?;
        return Some(grants::json_error("AccessDeniedException", &denial.message()));
    }
    if parts.method == http::Method::POST {
        if let Some(need) = needs::lambda_invoke(parts.uri.path(), parts.uri.query()) {
            let denial = s.grants.check_needs(key, &[need], &Context::default())?;
            return Some(grants::rest_json_error(StatusCode::FORBIDDEN, "AccessDeniedException", &denial.message()));
        }
        if parts.uri.path() == "/v2/email/outbound-emails" {
            return ses_send(s, key, body).await;
        }
    }
    None
}

/// SES v2 `SendEmail`: `ses:SendEmail` on the sender's identity (and, in the sandbox, on each
/// recipient's), then the sandbox's rule that every address is a verified identity.
async fn ses_send(s: &ProxyState, key: &str, body: &[u8]) -> Option<Response> {
    let send = needs::ses_send(body)?;
    let sandbox = s.grants.ses_sandbox();
    let mut unverified = Vec::new();
    let sender = match ses_identity(s, &send.from).await {
        Some(identity) => identity,
        None => {
            unverified.push(send.from.clone());
            needs::ses_identity_candidates(&send.from).pop().unwrap_or_else(|| send.from.clone())
        }
    };
    let mut list = vec![Need::new("ses:SendEmail", needs::ses_identity_arn(&sender))];
    if sandbox {
        for recipient in &send.recipients {
            match ses_identity(s, recipient).await {
                Some(identity) => list.push(Need::new("ses:SendEmail", needs::ses_identity_arn(&identity))),
                None => unverified.push(recipient.clone()),
            }
        }
    }
    list.sort();
    list.dedup();
    if let Some(denial) = s.grants.check_needs(key, &list, &needs::ses_context(&send)) {
        return Some(grants::rest_json_error(StatusCode::FORBIDDEN, "AccessDeniedException", &denial.message()));
    }
    if unverified.is_empty() {
        return None;
    }
    let message = format!(
        "Email address is not verified. The following identities failed the check in region {}: {}",
        grants::LOCAL_REGION.to_ascii_uppercase(),
        unverified.join(", ")
    );
    Some(grants::rest_json_error(StatusCode::BAD_REQUEST, "MessageRejected", &message))
}

/// A JSON 1.1 call straight to the emulator, as the stack (not a function); its answer when 2xx.
async fn ask(s: &ProxyState, service: &str, target: &str, body: Value) -> Option<Value> {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=local/20260101/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
        grants::LOCAL_REGION
    );
    let resp = s
        .http
        .post(format!("{}/", s.upstream))
        .header("x-amz-target", target)
        .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
        .header(http::header::AUTHORIZATION, authorization)
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

/// A KMS key reference's key ARN (an id or an alias asked of the emulator; itself when unknown).
async fn kms_key_arn(s: &ProxyState, reference: &str) -> String {
    if let Some(arn) = needs::kms_key_arn(reference) {
        return arn.to_owned();
    }
    let described = ask(s, "kms", "TrentService.DescribeKey", json!({ "KeyId": reference })).await;
    described.and_then(|d| d["KeyMetadata"]["Arn"].as_str().map(str::to_owned)).unwrap_or_else(|| reference.to_owned())
}

/// A secret reference's full ARN (asked of the emulator; a guess when it has no such secret).
async fn secret_arn(s: &ProxyState, reference: &str) -> String {
    let described = ask(s, "secretsmanager", "secretsmanager.DescribeSecret", json!({ "SecretId": reference })).await;
    described.and_then(|d| d["ARN"].as_str().map(str::to_owned)).unwrap_or_else(|| needs::secret_arn_guess(reference))
}

/// The verified SES identity `address` sends or receives as (its own, else its domain's), asked
/// of the emulator (moto verifies an identity when it is created).
async fn ses_identity(s: &ProxyState, address: &str) -> Option<String> {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=local/20260101/{}/ses/aws4_request, SignedHeaders=host, Signature=0",
        grants::LOCAL_REGION
    );
    for candidate in needs::ses_identity_candidates(address) {
        let name = percent_encoding::utf8_percent_encode(&candidate, percent_encoding::NON_ALPHANUMERIC);
        let url = format!("{}/v2/email/identities/{name}", s.upstream);
        let Ok(resp) = s.http.get(url).header(http::header::AUTHORIZATION, &authorization).send().await else {
            continue;
        };
        if !resp.status().is_success() {
            continue;
        }
        let identity: Value = resp.json().await.unwrap_or_default();
        if identity["VerificationStatus"].as_str().is_none_or(|v| v == "SUCCESS") {
            return Some(candidate);
        }
    }
    None
}
