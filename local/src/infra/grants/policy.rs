//! What a function is granted: its inline `Allow` statements as the stack resolves them, their
//! conditions evaluated on the keys the local stack supplies, and IAM's pattern match.

use std::collections::BTreeMap;

use serde_yaml::Value;

use super::needs;
use crate::infra::template::Function;

/// The condition keys of a request (lower case) and their values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context(BTreeMap<String, Vec<String>>);

impl Context {
    /// This context and `key` with `values`.
    pub fn with(mut self, key: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.0.insert(key.to_ascii_lowercase(), values.into_iter().map(Into::into).collect());
        self
    }

    pub(super) fn get(&self, key: &str) -> Option<&[String]> {
        self.0.get(key).map(Vec::as_slice)
    }
}

/// The condition keys of a DynamoDB call: `dynamodb:LeadingKeys` (the partition key's value) of
/// a single-item call; none for the others (a condition on them is taken as met).
pub(super) fn dynamodb_context(target: &str, body: &[u8]) -> Context {
    let doc: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let key = match needs::operation(target) {
        "GetItem" | "UpdateItem" | "DeleteItem" => &doc["Key"],
        "PutItem" => &doc["Item"],
        _ => return Context::default(),
    };
    match key["PK"]["S"].as_str() {
        Some(pk) => Context::default().with("dynamodb:LeadingKeys", [pk]),
        None => Context::default(),
    }
}

/// Whether the local stack supplies `key` (lower case) on the requests that carry it; a
/// condition on another key is taken as met.
pub(super) fn modelled_key(key: &str) -> bool {
    matches!(
        key,
        "kms:encryptioncontextkeys"
            | "iam:passedtoservice"
            | "ses:fromaddress"
            | "ses:recipients"
            | "dynamodb:leadingkeys"
    ) || key.starts_with("kms:encryptioncontext:")
}

/// One condition of a statement: `operator` (as written), the key (lower case), its values.
#[derive(Debug, Clone)]
pub(super) struct Condition {
    pub(super) operator: String,
    pub(super) key: String,
    pub(super) values: Vec<String>,
}

impl Condition {
    /// Whether the request's context meets it (IAM's evaluation of one operator and key).
    pub(super) fn met(&self, context: &Context) -> bool {
        if !modelled_key(&self.key) {
            return true;
        }
        let (set, operator) = match self.operator.split_once(':') {
            Some((set, op)) => (Some(set), op),
            None => (None, self.operator.as_str()),
        };
        let (operator, if_exists) = match operator.strip_suffix("IfExists") {
            Some(op) => (op, true),
            None => (operator, false),
        };
        let negated = operator.contains("Not");
        let compare: fn(&str, &str) -> bool = match operator {
            "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" => |p, v| p == v,
            "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" | "Bool" => |p, v| p.eq_ignore_ascii_case(v),
            "StringLike" | "StringNotLike" | "ArnLike" | "ArnNotLike" => iam_match,
            _ => return true,
        };
        let matches_one = |v: &str| self.values.iter().any(|p| compare(p, v));
        let given = context.get(&self.key).filter(|v| !v.is_empty());
        match (set, given) {
            (Some("ForAllValues"), None) => true,
            (_, None) => if_exists || negated,
            (Some("ForAnyValue"), Some(vs)) => vs.iter().any(|v| matches_one(v) != negated),
            (Some("ForAllValues"), Some(vs)) => vs.iter().all(|v| matches_one(v) != negated),
            (_, Some(vs)) => vs.first().is_some_and(|v| matches_one(v) != negated),
        }
    }
}

/// One `Allow` statement: its actions (lower case patterns), resolved resources, conditions.
#[derive(Debug, Clone, Default)]
pub(super) struct Statement {
    pub(super) actions: Vec<String>,
    pub(super) resources: Vec<String>,
    pub(super) conditions: Vec<Condition>,
}

impl Statement {
    pub(super) fn allows(&self, action: &str, resource: &str, context: &Context) -> bool {
        let action = action.to_ascii_lowercase();
        self.actions.iter().any(|a| iam_match(a, &action))
            && self.resources.iter().any(|r| iam_match(r, resource))
            && self.conditions.iter().all(|c| c.met(context))
    }
}

/// A function's name and statements.
#[derive(Debug, Clone)]
pub(super) struct Principal {
    pub(super) function: String,
    pub(super) statements: Vec<Statement>,
}

/// Whether `value` matches an IAM pattern (`*` any run of characters, `?` one).
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

/// A function's inline `Allow` statements.
pub(super) fn allow_statements(function: &Function) -> impl Iterator<Item = &Value> {
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

/// One value or a list of them, each resolved by `resolve` (unresolvable ones left out).
pub(super) fn resolved_list(value: Option<&Value>, resolve: &impl Fn(&Value) -> Option<String>) -> Vec<String> {
    match value {
        Some(Value::Sequence(items)) => items.iter().filter_map(resolve).collect(),
        Some(v) => resolve(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// A statement as the local stack reads it.
pub(super) fn statement(st: &Value, resolve: &impl Fn(&Value) -> Option<String>) -> Statement {
    let actions = match st.get("Action") {
        Some(Value::String(a)) => vec![a.to_ascii_lowercase()],
        Some(Value::Sequence(a)) => a.iter().filter_map(Value::as_str).map(str::to_ascii_lowercase).collect(),
        _ => Vec::new(),
    };
    let mut conditions = Vec::new();
    for (operator, keys) in st.get("Condition").and_then(Value::as_mapping).into_iter().flatten() {
        let Some(operator) = operator.as_str() else { continue };
        for (key, values) in keys.as_mapping().into_iter().flatten() {
            let Some(key) = key.as_str() else { continue };
            conditions.push(Condition {
                operator: operator.to_owned(),
                key: key.to_ascii_lowercase(),
                values: resolved_list(Some(values), resolve),
            });
        }
    }
    Statement { actions, resources: resolved_list(st.get("Resource"), resolve), conditions }
}
