//! IAM as the template grants it, enforced on DynamoDB calls: every function's SDK signs with an
//! access key of its own ([`access_key`]), and the emulator proxy refuses a DynamoDB action the
//! function's `Policies` do not list, with the `AccessDeniedException` DynamoDB answers. moto
//! checks no permission at all, so without this a policy that misses an action (an `UpdateItem`
//! inside a transaction, say) passes every local test and fails in AWS on the first request.
//!
//! S3 calls are checked too, action **and resource**: a function's S3 statements with their
//! resources resolved (`arn:aws:s3:::{bucket}/{key}`, IAM's `*` and `?` wildcards), for the calls
//! it signs and for the presigned URLs it hands out (S3 authorizes those with the signer's
//! policy). A `GetObject` or `HeadObject` of an object that is not there answers 403, as S3 does,
//! unless the function may `s3:ListBucket` the bucket (then 404).
//!
//! For DynamoDB, actions only: the `Resource` of a statement is not compared, so a `Query` on the table by a
//! function granted it on an index only (or the reverse) passes here and fails in AWS; policy
//! templates, wildcards such as `dynamodb:Get*`, `Deny` and PartiQL are not read either (the
//! template uses none of them). A transaction needs the action of each of its items, as IAM wants.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, RwLock},
};

use serde_yaml::Value;

use crate::template::Function;

/// The access key a function's SDK signs with in the local stack.
pub fn access_key(function: &str) -> String {
    format!("VIVIDLOCAL{}", function.to_ascii_uppercase().replace('-', "_"))
}

/// A DynamoDB action refused to a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub function: String,
    pub action: String,
}

/// A function's name and the DynamoDB actions its policies allow, by its access key.
type ByKey = HashMap<String, (String, BTreeSet<String>)>;

/// One `Allow` statement's S3 actions and resolved resources.
#[derive(Debug, Clone, Default)]
struct S3Statement {
    actions: BTreeSet<String>,
    resources: Vec<String>,
}

/// A function's name and its S3 statements, by its access key.
type S3ByKey = HashMap<String, (String, Vec<S3Statement>)>;

/// Each function's DynamoDB actions and S3 statements, by its access key; the refusals so far.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    by_key: Arc<RwLock<ByKey>>,
    s3_by_key: Arc<RwLock<S3ByKey>>,
    denied: Arc<Mutex<Vec<Denial>>>,
}

/// Whether `value` matches an IAM resource pattern (`*` any run of characters, `?` one).
pub fn iam_match(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The IAM action and resource an S3 operation needs (`None`: one the functions never make,
/// left to the emulator), and whether it reads one object (for 404 against 403).
pub fn s3_needs(operation: &str, bucket: &str, key: Option<&str>) -> Option<(&'static str, String)> {
    let object = |k: &str| format!("arn:aws:s3:::{bucket}/{k}");
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    Some(match (operation, key) {
        ("GetObject" | "HeadObject", Some(k)) => ("s3:GetObject", object(k)),
        ("PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" | "CopyObject", Some(k)) => {
            ("s3:PutObject", object(k))
        }
        ("AbortMultipartUpload", Some(k)) => ("s3:AbortMultipartUpload", object(k)),
        ("ListParts", Some(k)) => ("s3:ListMultipartUploadParts", object(k)),
        ("DeleteObject", Some(k)) => ("s3:DeleteObject", object(k)),
        ("ListObjectsV2" | "ListObjects", None) => ("s3:ListBucket", bucket_arn),
        ("ListMultipartUploads", None) => ("s3:ListBucketMultipartUploads", bucket_arn),
        _ => return None,
    })
}

/// A function's inline `Allow` statements.
fn allow_statements(function: &Function) -> impl Iterator<Item = &Value> {
    function
        .resource
        .get("Properties")
        .and_then(|p| p.get("Policies"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|policy| policy.get("Statement").and_then(Value::as_sequence))
        .flatten()
        .filter(|st| st.get("Effect").and_then(Value::as_str) == Some("Allow"))
}

/// The actions a statement lists (one, or a list).
fn statement_actions(statement: &Value) -> Vec<&str> {
    match statement.get("Action") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Sequence(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The `dynamodb:` actions a function's `Policies` statements allow (inline statements; a
/// wildcard action allows everything).
fn dynamodb_actions(function: &Function) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for st in allow_statements(function) {
        for a in statement_actions(st) {
            if a == "*" || a == "dynamodb:*" {
                actions.insert("*".to_owned());
            } else if let Some(action) = a.strip_prefix("dynamodb:") {
                actions.insert(action.to_owned());
            }
        }
    }
    actions
}

/// The IAM actions a DynamoDB request needs: its operation, or for a transaction the action of
/// each item (`Put` → `PutItem`, …).
pub fn needed_actions(target: &str, body: &[u8]) -> Vec<String> {
    let operation = target.rsplit('.').next().unwrap_or(target);
    let item_actions = |list: &str| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let mut out: Vec<String> = doc[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item.as_object()?.keys().next().cloned())
            .map(|kind| match kind.as_str() {
                "ConditionCheck" => "ConditionCheckItem".to_owned(),
                "Get" => "GetItem".to_owned(),
                other => format!("{other}Item"),
            })
            .collect();
        out.sort();
        out.dedup();
        out
    };
    match operation {
        "TransactWriteItems" | "TransactGetItems" => item_actions("TransactItems"),
        other => vec![other.to_owned()],
    }
}

/// The access key of a SigV4 `Authorization` header (`Credential=KEY/date/region/service/...`).
pub fn signing_key(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split('/').next()
}

impl Grants {
    /// Grants these functions what their `Policies` allow (and checks their calls from now on).
    pub fn grant(&self, functions: &[Function]) {
        if let Ok(mut by_key) = self.by_key.write() {
            by_key.extend(functions.iter().map(|f| (access_key(&f.name), (f.name.clone(), dynamodb_actions(f)))));
        }
    }

    /// Grants these functions the S3 actions of their `Policies` on the statements' resources,
    /// each resolved by `resolve` (the template's `!Sub`/`!Ref` as the stack resolves them).
    pub fn grant_s3(&self, functions: &[Function], resolve: impl Fn(&Value) -> Option<String>) {
        let mut granted = Vec::new();
        for f in functions {
            let mut list = Vec::new();
            for st in allow_statements(f) {
                let actions: BTreeSet<String> = statement_actions(st)
                    .into_iter()
                    .filter(|a| a.starts_with("s3:") || *a == "*")
                    .map(str::to_owned)
                    .collect();
                if actions.is_empty() {
                    continue;
                }
                let resources = match st.get("Resource") {
                    Some(Value::Sequence(r)) => r.iter().filter_map(&resolve).collect(),
                    Some(r) => resolve(r).into_iter().collect(),
                    None => Vec::new(),
                };
                list.push(S3Statement { actions, resources });
            }
            granted.push((access_key(&f.name), (f.name.clone(), list)));
        }
        if let Ok(mut by_key) = self.s3_by_key.write() {
            by_key.extend(granted);
        }
    }

    /// Whether the function signing with `key` may do `action` on `arn`; `None` when `key` is no
    /// function's (the stack's own set-up, a test's client).
    pub fn s3_allows(&self, key: &str, action: &str, arn: &str) -> Option<bool> {
        let by_key = self.s3_by_key.read().ok()?;
        let (_, statements) = by_key.get(key)?;
        Some(statements.iter().any(|st| {
            (st.actions.contains(action) || st.actions.contains("s3:*") || st.actions.contains("*"))
                && st.resources.iter().any(|r| iam_match(r, arn))
        }))
    }

    /// The refusal of an S3 call signed with `key` (a header's or a presigned URL's credential).
    pub fn check_s3(&self, key: &str, action: &str, arn: &str) -> Option<Denial> {
        if self.s3_allows(key, action, arn)? {
            return None;
        }
        let function = self.s3_by_key.read().ok()?.get(key)?.0.clone();
        let denial = Denial { function, action: format!("{action} on {arn}") };
        tracing::error!(function = %denial.function, action = %denial.action, "not granted by the template");
        if let Ok(mut all) = self.denied.lock() {
            all.push(denial.clone());
        }
        if std::env::var_os("VIVID_GRANTS_AUDIT").is_some() {
            return None;
        }
        Some(denial)
    }

    /// The refusal of a DynamoDB request, when it is a function's and its grants miss an action.
    pub fn check(&self, authorization: Option<&str>, target: &str, body: &[u8]) -> Option<Denial> {
        let (function, missing) = {
            let by_key = self.by_key.read().ok()?;
            let (function, allowed) = by_key.get(signing_key(authorization?)?)?;
            if allowed.contains("*") {
                return None;
            }
            let missing: Vec<String> =
                needed_actions(target, body).into_iter().filter(|a| !allowed.contains(a)).collect();
            (function.clone(), missing)
        };
        let denials: Vec<Denial> =
            missing.iter().map(|a| Denial { function: function.clone(), action: format!("dynamodb:{a}") }).collect();
        let first = denials.first()?.clone();
        for d in &denials {
            tracing::error!(function = %d.function, action = %d.action, "not granted by the template");
        }
        if let Ok(mut all) = self.denied.lock() {
            all.extend(denials.iter().cloned());
        }
        // An audit (`VIVID_GRANTS_AUDIT=<file>`): every missing action is written down and the
        // call goes through, so one run of the tests lists every grant a policy misses.
        if let Some(path) = std::env::var_os("VIVID_GRANTS_AUDIT") {
            use std::io::Write;
            let lines: String = denials.iter().map(|d| format!("{} {}\n", d.function, d.action)).collect();
            let _ = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(lines.as_bytes()));
            return None;
        }
        Some(first)
    }

    /// Every refusal so far.
    pub fn denied(&self) -> Vec<Denial> {
        self.denied.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

/// The object keys a `DeleteObjects` request body names (`<Key>…</Key>`, XML entities decoded).
pub fn xml_keys(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    text.split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>").map(|(k, _)| k))
        .map(|k| {
            k.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

/// S3's answer to a call the signer's role does not grant.
pub fn s3_access_denied() -> axum::response::Response {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>LOCAL</RequestId></Error>";
    let mut resp = axum::response::Response::new(axum::body::Body::from(body));
    *resp.status_mut() = http::StatusCode::FORBIDDEN;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
    resp
}

/// DynamoDB's answer to an action the caller's role does not grant.
pub fn access_denied(denial: &Denial) -> axum::response::Response {
    let body = serde_json::json!({
        "__type": "com.amazon.coral.service#AccessDeniedException",
        "Message": format!(
            "User: arn:aws:sts::000000000000:assumed-role/{0}/{0} is not authorized to perform: {1} \
             because no identity-based policy allows the {1} action",
            denial.function, denial.action
        ),
    });
    let mut resp = axum::response::Response::new(axum::body::Body::from(body.to_string()));
    *resp.status_mut() = http::StatusCode::BAD_REQUEST;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-amz-json-1.0"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_delete_names_its_keys() {
        let body = b"<Delete><Object><Key>media/a/x.ts</Key></Object><Object><Key>raw/b&amp;c</Key></Object></Delete>";
        assert_eq!(xml_keys(body), ["media/a/x.ts", "raw/b&c"]);
    }

    #[test]
    fn iam_resources_match_with_wildcards() {
        assert!(iam_match("arn:aws:s3:::b/media/*/captions/*", "arn:aws:s3:::b/media/01X/captions/en.vtt"));
        assert!(!iam_match("arn:aws:s3:::b/media/*/captions/*", "arn:aws:s3:::b/media/01X/hls/index.m3u8"));
        assert!(iam_match("arn:aws:s3:::b/raw/*", "arn:aws:s3:::b/raw/01X"));
        assert!(!iam_match("arn:aws:s3:::b", "arn:aws:s3:::b/raw/01X"));
        assert!(iam_match("arn:aws:s3:::b?", "arn:aws:s3:::b1"));
        assert!(iam_match("*", "anything"));
    }

    #[test]
    fn a_transaction_needs_the_action_of_each_item() {
        let body = br#"{"TransactItems":[{"Put":{}},{"Update":{}},{"ConditionCheck":{}},{"Update":{}}]}"#;
        assert_eq!(
            needed_actions("DynamoDB_20120810.TransactWriteItems", body),
            ["ConditionCheckItem", "PutItem", "UpdateItem"]
        );
        assert_eq!(
            needed_actions("DynamoDB_20120810.TransactGetItems", br#"{"TransactItems":[{"Get":{}}]}"#),
            ["GetItem"]
        );
        assert_eq!(needed_actions("DynamoDB_20120810.Query", b"{}"), ["Query"]);
    }

    #[test]
    fn only_a_functions_own_key_is_checked_against_its_grants() {
        let resource: Value = serde_yaml::from_str(
            "Properties:\n  Policies:\n    - Statement:\n        - Effect: Allow\n          Action: [dynamodb:PutItem]\n",
        )
        .expect("yaml");
        let grants = Grants::default();
        grants.grant(&[Function { logical_id: "F".into(), name: "create-space".into(), resource }]);
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/20261127/us-east-1/dynamodb/aws4_request",
            access_key("create-space")
        );
        assert_eq!(grants.check(Some(&auth), "DynamoDB_20120810.PutItem", b"{}"), None);
        let body = br#"{"TransactItems":[{"Put":{}},{"Update":{}}]}"#;
        let denial = grants.check(Some(&auth), "DynamoDB_20120810.TransactWriteItems", body);
        assert_eq!(denial.map(|d| d.action), Some("dynamodb:UpdateItem".to_owned()));
        let other = "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/dynamodb/aws4_request";
        assert_eq!(grants.check(Some(other), "DynamoDB_20120810.DeleteTable", b"{}"), None);
        assert_eq!(grants.denied().len(), 1);
    }
}
