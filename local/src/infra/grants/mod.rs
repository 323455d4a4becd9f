//! IAM as the template grants it, enforced on every AWS call a function makes. Every function's
//! SDK signs with an access key of its own ([`access_key`]); the emulator proxy and the
//! MediaConvert and Transcribe stand-ins read who signed a call, work out the actions and
//! resources AWS would authorize it against ([`needs`]), and refuse it, in the service's own error
//! shape, unless one of the function's `Allow` statements grants each. moto checks no permission
//! at all: without this a policy that misses an action, a resource or a condition passes every
//! local test and fails in AWS on the first request.
//!
//! **What a function is granted**: every `Allow` statement of its `Policies` (inline statements),
//! with its `Action`s (any service; IAM's wildcards, `kms:Encrypt*`, `s3:*`, `*`, matched without
//! regard to case), its `Resource`s resolved as the stack resolves the template (`!Sub`, `!Ref`,
//! `!GetAtt`, `${AWS::Region}` = [`LOCAL_REGION`], `${AWS::AccountId}` = [`LOCAL_ACCOUNT`]; IAM's
//! `*` and `?`), and its `Condition`s: `String*`, `Arn*` and `Bool` operators, with `IfExists`
//! and the `ForAnyValue:`/`ForAllValues:` set forms, on the keys the local stack supplies
//! (`kms:EncryptionContextKeys`, `kms:EncryptionContext:<key>`, `iam:PassedToService`,
//! `ses:FromAddress`, `ses:Recipients`, and `dynamodb:LeadingKeys` on single-item DynamoDB calls —
//! `GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`: the item's partition key). A condition on
//! any other key (or on `dynamodb:LeadingKeys` of a query, batch or transaction), or with another
//! operator, is taken as met. Not read: `Deny` statements, `NotAction`/`NotResource`, SAM policy templates,
//! managed policies, permission boundaries, resource policies (key policies, bucket policies).
//!
//! **What each call needs** (see [`needs`] for the details):
//! - DynamoDB: `dynamodb:{Operation}` on the table's ARN, or the index's for a `Query`/`Scan` with
//!   `IndexName`; a batch needs its action on each table it names, a transaction the action of each
//!   item (`Put` → `PutItem`, …) on that item's table. PartiQL is not modelled (its operation name
//!   on `*`).
//! - S3: the object's or bucket's action on `arn:aws:s3:::{bucket}[/{key}]`, for calls a function
//!   signs and for presigned URLs it hands out (S3 authorizes those with the signer's policy); a
//!   batch delete needs `s3:DeleteObject` on each key. A `GetObject`/`HeadObject` of a missing
//!   object answers 403, as S3 does, unless the signer may `s3:ListBucket` the bucket (then 404).
//! - KMS: `kms:{Operation}` on the key's ARN (a `KeyId` given as an id or an alias is resolved by
//!   the emulator; a `Decrypt` without one reads the key from the ciphertext), `ReEncrypt` needs
//!   `kms:ReEncryptFrom` and `kms:ReEncryptTo`; operations naming no key need `*`.
//! - Secrets Manager: `secretsmanager:{Operation}` on the secret's full ARN (a name or partial ARN
//!   is resolved by the emulator).
//! - SES v2 `SendEmail`: `ses:SendEmail` on the sender's identity (the address's if it is a
//!   verified identity, else its domain's) and, in the SES sandbox, on each recipient's verified
//!   identity too, as SES does there. The sandbox itself (the local stack's default, as on a new
//!   account) refuses an unverified recipient with `MessageRejected`; an unverified sender is
//!   refused in or out of it.
//! - Lambda `Invoke`: `lambda:InvokeFunction` on the function's ARN (with its qualifier, if any).
//! - EventBridge: `events:PutEvents` on each entry's event bus; other operations their action on
//!   `*`.
//! - Transcribe (the stand-in): `transcribe:StartTranscriptionJob` on the job's ARN; and, as the
//!   service reads and writes with the caller's permissions, `s3:GetObject` on the media and
//!   `s3:PutObject` on the result's key.
//! - MediaConvert (the stand-in): `mediaconvert:CreateJob` on the queue, the new job and the job
//!   template it names, `GetJob`/`CancelJob` on the job, `ListJobs` on the queue it names (or
//!   `*`), and for `CreateJob` `iam:PassRole` on the job's role with `iam:PassedToService` =
//!   `mediaconvert.amazonaws.com`.
//!
//! **The refusals**, as each service answers: DynamoDB 400 `AccessDeniedException` (JSON 1.0,
//! `com.amazon.coral.service#`); KMS, Secrets Manager, EventBridge and Transcribe 400
//! `AccessDeniedException` (JSON 1.1 `__type`); Lambda and SES v2 403 `AccessDeniedException`
//! (`x-amzn-ErrorType`); MediaConvert 403 `ForbiddenException`; S3 403 `AccessDenied` (XML).
//! Transcribe answers media it cannot read or a result location it cannot write with 400
//! `BadRequestException`; the SES sandbox an unverified address with 400 `MessageRejected`.
//!
//! Calls signed by any other key (the stack's own set-up, a test's client) are not checked; nor
//! are calls to services not listed (SQS, STS, CloudWatch), nor SES calls other than v2
//! `SendEmail`. Where a stand-in serves several stacks of one account (whose functions sign with
//! the same keys), a call passes when one of the stacks that knows its key grants it.
//!
//! `VIVID_GRANTS_AUDIT=<file>` turns refusals into an audit: each missing grant is written to the
//! file (`function action resource`, one a line) and the call goes through, so one run of the
//! tests lists every grant the template misses. Either way [`Grants::denied`] lists them.

pub mod needs;
mod policy;
mod refusals;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, Ordering},
    },
};

use serde_yaml::Value;

use self::policy::{Principal, allow_statements, dynamodb_context, statement};
pub use self::{
    needs::{Need, needed_actions, s3_needs, xml_keys},
    policy::{Context, iam_match},
    refusals::{access_denied, json_error, rest_json_error, s3_access_denied},
};
pub use crate::infra::resolve::{LOCAL_ACCOUNT, LOCAL_REGION};
use crate::infra::template::Function;

/// What every function's access key starts with.
pub const ACCESS_KEY_PREFIX: &str = "VIVIDLOCAL";
/// The secret of every function's access key (the emulator proxy checks presigned S3 URLs with it).
pub const FUNCTION_SECRET: &str = "vivid-local-secret";

/// The access key a function's SDK signs with in the local stack.
pub fn access_key(function: &str) -> String {
    format!("{ACCESS_KEY_PREFIX}{}", function.to_ascii_uppercase().replace('-', "_"))
}

/// The access key of a SigV4 `Authorization` header (`Credential=KEY/date/region/service/...`).
pub fn signing_key(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split('/').next()
}

/// A call refused to a function: the action, and the resource it was refused on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub function: String,
    pub action: String,
    pub resource: String,
}

impl Denial {
    /// IAM's words for it, as the services put them in their `AccessDeniedException`.
    pub fn message(&self) -> String {
        format!(
            "User: arn:aws:sts::{LOCAL_ACCOUNT}:assumed-role/{0}/{0} is not authorized to perform: {1} on resource: {2} \
             because no identity-based policy allows the {1} action",
            self.function, self.action, self.resource
        )
    }
}

/// Each function's statements by its access key; the refusals so far; whether the SES account is
/// in the sandbox. Cheap to clone: every clone is the same set.
#[derive(Debug, Clone)]
pub struct Grants {
    by_key: Arc<RwLock<HashMap<String, Principal>>>,
    denied: Arc<Mutex<Vec<Denial>>>,
    /// `VIVID_GRANTS_AUDIT`: where missing grants are written instead of refused.
    audit: Option<Arc<PathBuf>>,
    ses_sandbox: Arc<AtomicBool>,
}

impl Default for Grants {
    /// No grant yet; an audit when `VIVID_GRANTS_AUDIT` names a file; the SES sandbox on.
    fn default() -> Self {
        let audit = std::env::var_os("VIVID_GRANTS_AUDIT").filter(|p| !p.is_empty());
        match audit {
            Some(path) => Self::enforcing().auditing_to(path),
            None => Self::enforcing(),
        }
    }
}

impl Grants {
    /// Grants these functions what their `Policies` allow, each statement's resources and
    /// condition values resolved by `resolve` (the template's `!Sub`/`!Ref`/`!GetAtt` as the stack
    /// resolves them; `None` leaves a value out), and checks their calls from now on.
    pub fn grant(&self, functions: &[Function], resolve: impl Fn(&Value) -> Option<String>) {
        let granted: Vec<(String, Principal)> = functions
            .iter()
            .map(|f| {
                let statements = allow_statements(f).map(|st| statement(st, &resolve)).collect();
                (access_key(&f.name), Principal { function: f.name.clone(), statements })
            })
            .collect();
        if let Ok(mut by_key) = self.by_key.write() {
            by_key.extend(granted);
        }
    }

    /// No grant yet, refusing whatever the environment says (no audit); the SES sandbox on.
    pub fn enforcing() -> Self {
        Self {
            by_key: Arc::default(),
            denied: Arc::default(),
            audit: None,
            ses_sandbox: Arc::new(AtomicBool::new(true)),
        }
    }

    /// A grants set that writes missing grants to `path` instead of refusing (an audit).
    pub fn auditing_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit = Some(Arc::new(path.into()));
        self
    }

    /// The function that signs with `key`, if any.
    pub fn function(&self, key: &str) -> Option<String> {
        self.by_key.read().ok()?.get(key).map(|p| p.function.clone())
    }

    /// Whether the function signing with `key` may do `action` on `resource` (an ARN); `None` when
    /// `key` is no function's (the stack's own set-up, a test's client).
    pub fn allows(&self, key: &str, action: &str, resource: &str) -> Option<bool> {
        self.allows_in(key, action, resource, &Context::default())
    }

    /// [`Grants::allows`] for a request with these condition keys.
    pub fn allows_in(&self, key: &str, action: &str, resource: &str, context: &Context) -> Option<bool> {
        let by_key = self.by_key.read().ok()?;
        let principal = by_key.get(key)?;
        Some(principal.statements.iter().any(|st| st.allows(action, resource, context)))
    }

    /// The refusal of a call signed with `key` that needs each of `needs`: the first one missing
    /// (every one is recorded, and written down in an audit, which refuses nothing). `None` when
    /// all are granted or `key` is no function's.
    pub fn check_needs(&self, key: &str, needs: &[Need], context: &Context) -> Option<Denial> {
        let function = self.function(key)?;
        let missing: Vec<Denial> = needs
            .iter()
            .filter(|n| self.allows_in(key, &n.action, &n.resource, context) == Some(false))
            .map(|n| Denial { function: function.clone(), action: n.action.clone(), resource: n.resource.clone() })
            .collect();
        self.refuse(missing)
    }

    /// Records refusals; the first, unless this is an audit.
    fn refuse(&self, missing: Vec<Denial>) -> Option<Denial> {
        let first = missing.first()?.clone();
        for d in &missing {
            tracing::error!(function = %d.function, action = %d.action, resource = %d.resource, "not granted by the template");
        }
        if let Ok(mut all) = self.denied.lock() {
            all.extend(missing.iter().cloned());
        }
        let Some(path) = &self.audit else { return Some(first) };
        use std::io::Write;
        let lines: String = missing.iter().map(|d| format!("{} {} {}\n", d.function, d.action, d.resource)).collect();
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.as_path())
            .and_then(|mut f| f.write_all(lines.as_bytes()));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the grants audit");
        }
        None
    }

    /// The refusal of an S3 call signed with `key` (a header's or a presigned URL's credential).
    pub fn check_s3(&self, key: &str, action: &str, arn: &str) -> Option<Denial> {
        self.check_needs(key, &[Need::new(action, arn)], &Context::default())
    }

    /// The refusal of a DynamoDB request (`X-Amz-Target` and body) signed as `authorization`
    /// says, when it is a function's and its grants miss an action on a table or index.
    pub fn check(&self, authorization: Option<&str>, target: &str, body: &[u8]) -> Option<Denial> {
        let key = signing_key(authorization?)?;
        self.function(key)?;
        self.check_needs(key, &needs::dynamodb(target, body), &dynamodb_context(target, body))
    }

    /// [`Grants::check_needs`] for a service several stacks share (an account's stand-ins): each
    /// stack's functions sign with the same keys, so the call is let through when one of the
    /// stacks that knows `key` grants all it needs, else refused by each (each records it).
    pub fn check_shared(all: &[Grants], key: &str, needs: &[Need], context: &Context) -> Option<Denial> {
        let knowing: Vec<&Grants> = all.iter().filter(|g| g.function(key).is_some()).collect();
        let granted =
            |g: &&Grants| needs.iter().all(|n| g.allows_in(key, &n.action, &n.resource, context) == Some(true));
        if knowing.is_empty() || knowing.iter().any(granted) {
            return None;
        }
        knowing.iter().filter_map(|g| g.check_needs(key, needs, context)).fold(None, |first, d| first.or(Some(d)))
    }

    /// Every refusal so far (audited ones included).
    pub fn denied(&self) -> Vec<Denial> {
        self.denied.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Whether the SES account is in the sandbox (recipients must be verified identities).
    pub fn ses_sandbox(&self) -> bool {
        self.ses_sandbox.load(Ordering::SeqCst)
    }

    /// Puts the SES account in the sandbox, or takes it out (production access).
    pub fn set_ses_sandbox(&self, on: bool) {
        self.ses_sandbox.store(on, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::{policy::Condition, *};

    fn function(name: &str, policies: &str) -> Function {
        let resource: Value = serde_yaml::from_str(&format!("Properties:\n  Policies:\n{policies}")).expect("yaml");
        Function { logical_id: "F".into(), name: name.into(), resource }
    }

    /// Resolves plain strings and `Ref`s to `<name>` (enough for the statements below).
    fn resolve(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Mapping(m) => m.get("Ref").and_then(Value::as_str).map(|r| format!("<{r}>")),
            _ => None,
        }
    }

    fn auth(function: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential={}/20261127/us-east-1/dynamodb/aws4_request", access_key(function))
    }

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/t";

    #[test]
    fn iam_patterns_match_with_wildcards() {
        assert!(iam_match("arn:aws:s3:::b/media/*/captions/*", "arn:aws:s3:::b/media/01X/captions/en.vtt"));
        assert!(!iam_match("arn:aws:s3:::b/media/*/captions/*", "arn:aws:s3:::b/media/01X/hls/index.m3u8"));
        assert!(iam_match("arn:aws:s3:::b/raw/*", "arn:aws:s3:::b/raw/01X"));
        assert!(!iam_match("arn:aws:s3:::b", "arn:aws:s3:::b/raw/01X"));
        assert!(iam_match("arn:aws:s3:::b?", "arn:aws:s3:::b1"));
        assert!(iam_match("*", "anything"));
        assert!(!iam_match("arn:aws:dynamodb:us-east-1:0:table/t", "*"), "a specific resource is not `*`");
    }

    #[test]
    fn actions_match_with_wildcards_and_without_regard_to_case() {
        let f = function(
            "f",
            "    - Statement:\n        - Effect: Allow\n          Action: [kms:Encrypt*, 'S3:Get*']\n          Resource: '*'\n",
        );
        let grants = Grants::enforcing();
        grants.grant(&[f], resolve);
        let key = access_key("f");
        assert_eq!(grants.allows(&key, "kms:Encrypt", "arn:k"), Some(true));
        assert_eq!(grants.allows(&key, "kms:Decrypt", "arn:k"), Some(false));
        assert_eq!(grants.allows(&key, "s3:GetObject", "arn:aws:s3:::b/k"), Some(true));
        assert_eq!(grants.allows(&key, "s3:PutObject", "arn:aws:s3:::b/k"), Some(false));
        assert_eq!(grants.allows("someone-else", "s3:PutObject", "arn:aws:s3:::b/k"), None);

        let everything = function(
            "g",
            "    - Statement:\n        - Effect: Allow\n          Action: '*'\n          Resource: '*'\n",
        );
        grants.grant(&[everything], resolve);
        assert_eq!(grants.allows(&access_key("g"), "dynamodb:DeleteTable", TABLE), Some(true));
    }

    #[test]
    fn a_statement_allows_only_on_its_resources() {
        let f = function(
            "f",
            "    - Statement:\n        - Effect: Allow\n          Action: [dynamodb:Query]\n          Resource: [arn:aws:dynamodb:us-east-1:000000000000:table/t/index/GSI1]\n        - Effect: Deny\n          Action: '*'\n          Resource: '*'\n",
        );
        let grants = Grants::enforcing();
        grants.grant(&[f], resolve);
        let key = access_key("f");
        assert_eq!(grants.allows(&key, "dynamodb:Query", &format!("{TABLE}/index/GSI1")), Some(true));
        assert_eq!(grants.allows(&key, "dynamodb:Query", TABLE), Some(false), "the index, not the table");
    }

    #[test]
    fn conditions_on_the_keys_the_stack_supplies_are_evaluated() {
        let f = function(
            "f",
            "    - Statement:\n        - Effect: Allow\n          Action: [kms:Encrypt]\n          Resource: '*'\n          Condition:\n            ForAnyValue:StringEquals:\n              kms:EncryptionContextKeys: [userId]\n        - Effect: Allow\n          Action: [iam:PassRole]\n          Resource: '*'\n          Condition:\n            StringEquals:\n              iam:PassedToService: mediaconvert.amazonaws.com\n        - Effect: Allow\n          Action: [ses:SendEmail]\n          Resource: '*'\n          Condition:\n            StringEquals:\n              ses:FromAddress: {Ref: MailFrom}\n              aws:SourceIp: 10.0.0.1\n",
        );
        let grants = Grants::enforcing();
        grants.grant(&[f], resolve);
        let key = access_key("f");
        let ctx = |k: &str, v: &[&str]| Context::default().with(k, v.iter().copied());
        let kms = |c: &Context| grants.allows_in(&key, "kms:Encrypt", "arn:k", c);
        assert_eq!(kms(&ctx("kms:EncryptionContextKeys", &["userId"])), Some(true));
        assert_eq!(kms(&ctx("kms:EncryptionContextKeys", &["spaceId", "userId"])), Some(true));
        assert_eq!(kms(&ctx("kms:EncryptionContextKeys", &["spaceId"])), Some(false));
        assert_eq!(kms(&Context::default()), Some(false), "no encryption context");
        let pass = |c: &Context| grants.allows_in(&key, "iam:PassRole", "arn:role", c);
        assert_eq!(pass(&ctx("iam:PassedToService", &["mediaconvert.amazonaws.com"])), Some(true));
        assert_eq!(pass(&ctx("iam:PassedToService", &["lambda.amazonaws.com"])), Some(false));
        let ses = |c: &Context| grants.allows_in(&key, "ses:SendEmail", "arn:id", c);
        assert_eq!(ses(&ctx("ses:FromAddress", &["<MailFrom>"])), Some(true), "a key not modelled is met");
        assert_eq!(ses(&ctx("ses:FromAddress", &["other@x"])), Some(false));
    }

    #[test]
    fn negated_if_exists_and_for_all_values_follow_iam() {
        let c = |operator: &str, values: &[&str]| Condition {
            operator: operator.into(),
            key: "ses:recipients".into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        };
        let none = Context::default();
        let some = Context::default().with("ses:Recipients", ["a@x.org", "b@y.org"]);
        assert!(!c("StringLike", &["*@x.org"]).met(&none), "absent key: a positive operator fails");
        assert!(c("StringLikeIfExists", &["*@x.org"]).met(&none));
        assert!(c("StringNotLike", &["*@x.org"]).met(&none), "absent key: a negated operator holds");
        assert!(c("ForAllValues:StringLike", &["*@x.org"]).met(&none));
        assert!(!c("ForAllValues:StringLike", &["*@x.org"]).met(&some));
        assert!(c("ForAllValues:StringLike", &["*@x.org", "*@y.org"]).met(&some));
        assert!(c("ForAnyValue:StringLike", &["*@y.org"]).met(&some));
        assert!(c("Frobnicate", &["x"]).met(&some), "an unknown operator is taken as met");
    }

    #[test]
    fn a_dynamodb_call_needs_its_action_on_its_table_or_index() {
        let grants = Grants::enforcing();
        grants.grant(
            &[function(
                "create-space",
                &format!(
                    "    - Statement:\n        - Effect: Allow\n          Action: [dynamodb:PutItem, dynamodb:Query]\n          Resource: {TABLE}\n"
                ),
            )],
            resolve,
        );
        let auth = auth("create-space");
        assert_eq!(grants.check(Some(&auth), "DynamoDB_20120810.PutItem", br#"{"TableName":"t"}"#), None);
        let other_table = grants.check(Some(&auth), "DynamoDB_20120810.PutItem", br#"{"TableName":"u"}"#);
        assert_eq!(other_table.map(|d| d.resource), Some("arn:aws:dynamodb:us-east-1:000000000000:table/u".into()));
        let on_index = grants.check(Some(&auth), "DynamoDB_20120810.Query", br#"{"TableName":"t","IndexName":"GSI1"}"#);
        assert_eq!(on_index.map(|d| d.resource), Some(format!("{TABLE}/index/GSI1")));
        let body = br#"{"TransactItems":[{"Put":{"TableName":"t"}},{"Update":{"TableName":"t"}}]}"#;
        let denial = grants.check(Some(&auth), "DynamoDB_20120810.TransactWriteItems", body);
        assert_eq!(denial.map(|d| d.action), Some("dynamodb:UpdateItem".to_owned()));
        let other = "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/dynamodb/aws4_request";
        assert_eq!(grants.check(Some(other), "DynamoDB_20120810.DeleteTable", b"{}"), None);
        assert_eq!(grants.denied().len(), 3);
        let first = &grants.denied()[0];
        assert!(
            first.message().contains("is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:")
        );
    }

    #[test]
    fn a_leading_keys_condition_limits_a_single_item_write_to_its_partitions() {
        let grants = Grants::enforcing();
        let statement = format!(
            "    - Statement: [{{Effect: Allow, Action: [dynamodb:UpdateItem], Resource: {TABLE}, Condition: {{'ForAllValues:StringLike': {{'dynamodb:LeadingKeys': ['RATE#*']}}}}}}]\n"
        );
        grants.grant(&[function("get-me", &statement)], resolve);
        let auth = auth("get-me");
        let update = |pk: &str| format!(r#"{{"TableName":"t","Key":{{"PK":{{"S":"{pk}"}},"SK":{{"S":"1"}}}}}}"#);
        let target = "DynamoDB_20120810.UpdateItem";
        assert_eq!(grants.check(Some(&auth), target, update("RATE#USER#01X").as_bytes()), None);
        let denied = grants.check(Some(&auth), target, update("USER#01X").as_bytes());
        assert_eq!(denied.map(|d| d.action), Some("dynamodb:UpdateItem".to_owned()), "another partition");
        let put = br#"{"TableName":"t","Item":{"PK":{"S":"RATE#x"},"SK":{"S":"1"}}}"#;
        assert!(grants.check(Some(&auth), "DynamoDB_20120810.PutItem", put).is_some(), "another action");
    }

    #[test]
    fn a_service_stacks_share_lets_a_call_through_when_one_stack_that_knows_the_key_grants_it() {
        let grant = |action: &str| {
            let grants = Grants::enforcing();
            let policy = format!(
                "    - Statement:\n        - Effect: Allow\n          Action: [{action}]\n          Resource: '*'\n"
            );
            grants.grant(&[function("on-raw-upload", &policy)], resolve);
            grants
        };
        let (create, cancel) = (grant("mediaconvert:CreateJob"), grant("mediaconvert:CancelJob"));
        let both = [create.clone(), cancel.clone(), Grants::enforcing()];
        let key = access_key("on-raw-upload");
        let none = Context::default();
        assert_eq!(Grants::check_shared(&both, &key, &[Need::new("mediaconvert:CreateJob", "arn:j")], &none), None);
        assert_eq!((create.denied().len(), cancel.denied().len()), (0, 0), "nothing recorded");
        let refused = Grants::check_shared(&both, &key, &[Need::new("mediaconvert:GetJob", "arn:j")], &none);
        assert_eq!(refused.map(|d| d.action), Some("mediaconvert:GetJob".to_owned()));
        assert_eq!((create.denied().len(), cancel.denied().len()), (1, 1), "each stack that knows the key records it");
        assert_eq!(Grants::check_shared(&both, "stranger", &[Need::new("x:Y", "*")], &none), None);
    }

    #[test]
    fn an_audit_writes_every_missing_grant_down_and_refuses_nothing() {
        let path = std::env::temp_dir().join(format!("vivid-grants-audit-{}", ulid::Ulid::new()));
        let grants = Grants::enforcing().auditing_to(&path);
        grants.grant(&[function("f", "    - Statement:\n        - Effect: Allow\n          Action: [kms:Decrypt]\n          Resource: arn:k\n")], resolve);
        let needs =
            [Need::new("kms:Decrypt", "arn:k"), Need::new("kms:Encrypt", "arn:k"), Need::new("kms:Sign", "arn:k")];
        assert_eq!(grants.check_needs(&access_key("f"), &needs, &Context::default()), None);
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        assert_eq!(written, "f kms:Encrypt arn:k\nf kms:Sign arn:k\n");
        assert_eq!(grants.denied().len(), 2, "an audit still lists what it let through");
    }
}
