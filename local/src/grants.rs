//! IAM as the template grants it, enforced on DynamoDB calls: every function's SDK signs with an
//! access key of its own ([`access_key`]), and the emulator proxy refuses a DynamoDB action the
//! function's `Policies` do not list, with the `AccessDeniedException` DynamoDB answers. moto
//! checks no permission at all, so without this a policy that misses an action (an `UpdateItem`
//! inside a transaction, say) passes every local test and fails in AWS on the first request.
//!
//! Actions only: the `Resource` of a statement is not compared, so a `Query` on the table by a
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

/// Each function's DynamoDB actions, by its access key; the refusals so far.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    by_key: Arc<RwLock<ByKey>>,
    denied: Arc<Mutex<Vec<Denial>>>,
}

/// The `dynamodb:` actions a function's `Policies` statements allow (inline statements; a
/// wildcard action allows everything).
fn dynamodb_actions(function: &Function) -> BTreeSet<String> {
    let statements = function
        .resource
        .get("Properties")
        .and_then(|p| p.get("Policies"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|policy| policy.get("Statement").and_then(Value::as_sequence))
        .flatten();
    let mut actions = BTreeSet::new();
    for st in statements.filter(|st| st.get("Effect").and_then(Value::as_str) == Some("Allow")) {
        let listed: Vec<&str> = match st.get("Action") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Sequence(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for a in listed {
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
fn signing_key(authorization: &str) -> Option<&str> {
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
