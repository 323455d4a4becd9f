//! What a call needs of IAM: the actions and the resources (ARNs) AWS authorizes each service's
//! requests against, read from the request alone. Where the resource can only be known by asking
//! the service (a KMS alias, a secret's name), the request's reference is returned and the proxy
//! resolves it.

use serde_json::Value;

use super::{Context, LOCAL_ACCOUNT, LOCAL_REGION};

/// One authorization a call needs: `action` on `resource`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    pub action: String,
    pub resource: String,
}

impl Need {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self { action: action.into(), resource: resource.into() }
    }
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_default()
}

/// The operation of an `X-Amz-Target` (`DynamoDB_20120810.PutItem` → `PutItem`).
pub fn operation(target: &str) -> &str {
    target.rsplit('.').next().unwrap_or(target)
}

/// The ARN of a DynamoDB table named `name` (a table ARN is kept as given).
pub fn dynamodb_table_arn(name: &str) -> String {
    if name.starts_with("arn:") {
        name.to_owned()
    } else {
        format!("arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/{name}")
    }
}

/// The IAM actions a DynamoDB request needs: its operation, or for a transaction the action of
/// each item (`Put` → `PutItem`, …).
pub fn needed_actions(target: &str, body: &[u8]) -> Vec<String> {
    let mut actions: Vec<String> = dynamodb(target, body).into_iter().map(|n| n.action).collect();
    actions.sort();
    actions.dedup();
    actions.into_iter().map(|a| a.trim_start_matches("dynamodb:").to_owned()).collect()
}

/// A DynamoDB request's needs: `dynamodb:{Operation}` on the table (or the index it queries or
/// scans); a batch's action on each table it names; a transaction's item actions on each item's
/// table. Sorted, without duplicates.
pub fn dynamodb(target: &str, body: &[u8]) -> Vec<Need> {
    let operation = operation(target);
    let doc = json(body);
    let table = |v: &Value| v["TableName"].as_str().map(dynamodb_table_arn).unwrap_or_else(|| "*".to_owned());
    let mut needs: Vec<Need> = match operation {
        "TransactWriteItems" | "TransactGetItems" => doc["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item.as_object()?.iter().next())
            .map(|(kind, spec)| {
                let action = match kind.as_str() {
                    "ConditionCheck" => "ConditionCheckItem".to_owned(),
                    other => format!("{other}Item"),
                };
                Need::new(format!("dynamodb:{action}"), table(spec))
            })
            .collect(),
        "BatchGetItem" | "BatchWriteItem" => doc["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| Need::new(format!("dynamodb:{operation}"), dynamodb_table_arn(name)))
            .collect(),
        "Query" | "Scan" => {
            let on = match doc["IndexName"].as_str() {
                Some(index) => format!("{}/index/{index}", table(&doc)),
                None => table(&doc),
            };
            vec![Need::new(format!("dynamodb:{operation}"), on)]
        }
        other => vec![Need::new(format!("dynamodb:{other}"), table(&doc))],
    };
    needs.sort();
    needs.dedup();
    needs
}

/// The IAM action and resource an S3 operation needs (`None`: one the functions never make,
/// left to the emulator).
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

/// The key a KMS request names: its `KeyId` as given (an id, a key ARN, an alias or an alias
/// ARN), or the key id a ciphertext carries; `None` for operations on no key.
pub fn kms_keys(operation: &str, body: &[u8]) -> Vec<(String, Option<String>)> {
    let doc = json(body);
    let given = |field: &str| doc[field].as_str().map(str::to_owned);
    let from_ciphertext = || doc["CiphertextBlob"].as_str().and_then(ciphertext_key_id);
    match operation {
        "ReEncrypt" => vec![
            ("kms:ReEncryptFrom".to_owned(), given("SourceKeyId").or_else(from_ciphertext)),
            ("kms:ReEncryptTo".to_owned(), given("DestinationKeyId")),
        ],
        "Decrypt" => vec![("kms:Decrypt".to_owned(), given("KeyId").or_else(from_ciphertext))],
        other => vec![(format!("kms:{other}"), given("KeyId").or_else(|| given("TargetKeyId")))],
    }
}

/// The key id at the head of an emulator's ciphertext (moto writes the key's 36-character id
/// first); `None` when it does not look like one.
fn ciphertext_key_id(blob_base64: &str) -> Option<String> {
    use base64::Engine;
    let blob = base64::engine::general_purpose::STANDARD.decode(blob_base64).ok()?;
    let id = std::str::from_utf8(blob.get(..36)?).ok()?;
    (id.chars().filter(|c| *c == '-').count() == 4 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
        .then(|| id.to_owned())
}

/// A key's ARN when the reference is one already (`arn:…:key/…`); others need the service.
pub fn kms_key_arn(reference: &str) -> Option<&str> {
    (reference.starts_with("arn:") && reference.contains(":key/")).then_some(reference)
}

/// A KMS request's condition keys: its encryption context's keys and values.
pub fn kms_context(body: &[u8]) -> Context {
    let doc = json(body);
    let pairs: Vec<(String, String)> = doc["EncryptionContext"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    let mut context = Context::default();
    if !pairs.is_empty() {
        context = context.with("kms:EncryptionContextKeys", pairs.iter().map(|(k, _)| k.clone()));
    }
    for (k, v) in pairs {
        context = context.with(&format!("kms:EncryptionContext:{k}"), [v]);
    }
    context
}

/// The action of a Secrets Manager request and the secret it names (`SecretId`, or the `Name`
/// of the one it creates); `None` for operations on no secret.
pub fn secret(operation: &str, body: &[u8]) -> (String, Option<String>) {
    let doc = json(body);
    let id = doc["SecretId"].as_str().or_else(|| doc["Name"].as_str()).map(str::to_owned);
    (format!("secretsmanager:{operation}"), id)
}

/// The ARN a secret reference stands for when the service cannot say (it does not exist).
pub fn secret_arn_guess(reference: &str) -> String {
    if reference.starts_with("arn:") {
        reference.to_owned()
    } else {
        format!("arn:aws:secretsmanager:{LOCAL_REGION}:{LOCAL_ACCOUNT}:secret:{reference}")
    }
}

/// An SES v2 `SendEmail`: the sender's address and every recipient's (To, Cc, Bcc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesSend {
    pub from: String,
    pub recipients: Vec<String>,
}

/// The bare address of `Name <address>` (or of an address alone).
pub fn bare_address(text: &str) -> String {
    match (text.rfind('<'), text.rfind('>')) {
        (Some(start), Some(end)) if start < end => text[start + 1..end].trim().to_owned(),
        _ => text.trim().to_owned(),
    }
}

/// The sender and recipients of a `SendEmail` body.
pub fn ses_send(body: &[u8]) -> Option<SesSend> {
    let doc = json(body);
    let from = bare_address(doc["FromEmailAddress"].as_str()?);
    let recipients = ["ToAddresses", "CcAddresses", "BccAddresses"]
        .iter()
        .flat_map(|field| doc["Destination"][field].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(bare_address))
        .collect();
    Some(SesSend { from, recipients })
}

/// The identities an address may send or receive as, most specific first: the address itself
/// (as written, then in lower case) and its domain (SES identities do not depend on case).
pub fn ses_identity_candidates(address: &str) -> Vec<String> {
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or(address);
    let mut out: Vec<String> = Vec::new();
    for candidate in [address.to_owned(), address.to_ascii_lowercase(), domain.to_ascii_lowercase()] {
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

/// An SES identity's ARN.
pub fn ses_identity_arn(identity: &str) -> String {
    format!("arn:aws:ses:{LOCAL_REGION}:{LOCAL_ACCOUNT}:identity/{identity}")
}

/// A `SendEmail`'s condition keys.
pub fn ses_context(send: &SesSend) -> Context {
    Context::default().with("ses:FromAddress", [send.from.clone()]).with("ses:Recipients", send.recipients.clone())
}

/// Lambda `Invoke` (`/2015-03-31/functions/{name}/invocations[?Qualifier=q]`): its need, on the
/// function's ARN (a name, a partial or a full ARN in the path; the qualifier kept).
pub fn lambda_invoke(path: &str, query: Option<&str>) -> Option<Need> {
    let raw = path.strip_prefix("/2015-03-31/functions/")?.strip_suffix("/invocations")?;
    let named = percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned();
    let after = named.rsplit_once(":function:").map(|(_, rest)| rest.to_owned()).unwrap_or(named);
    let (name, in_arn) = match after.split_once(':') {
        Some((name, qualifier)) => (name.to_owned(), Some(qualifier.to_owned())),
        None => (after, None),
    };
    let qualifier = in_arn.or_else(|| query?.split('&').find_map(|p| p.strip_prefix("Qualifier=")).map(str::to_owned));
    let mut arn = format!("arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{name}");
    if let Some(q) = qualifier {
        arn = format!("{arn}:{q}");
    }
    Some(Need::new("lambda:InvokeFunction", arn))
}

/// An EventBridge request's needs: `events:PutEvents` on each entry's bus (`default` unless it
/// names one), other operations their action on `*`.
pub fn events(operation: &str, body: &[u8]) -> Vec<Need> {
    let action = format!("events:{operation}");
    if operation != "PutEvents" {
        return vec![Need::new(action, "*")];
    }
    let bus = |name: &str| {
        if name.starts_with("arn:") {
            name.to_owned()
        } else {
            format!("arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:event-bus/{name}")
        }
    };
    let mut needs: Vec<Need> = json(body)["Entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| Need::new(action.clone(), bus(e["EventBusName"].as_str().unwrap_or("default"))))
        .collect();
    needs.sort();
    needs.dedup();
    needs
}

/// What a `StartTranscriptionJob` needs: the job, and (the service reads and writes with the
/// caller's permissions) the media object and the result's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscribeNeeds {
    pub job: Need,
    pub media: Option<Need>,
    pub output: Option<Need>,
}

/// The bucket and key of an `s3://bucket/key` URI.
pub fn s3_uri(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("s3://")?.split_once('/')
}

pub fn transcribe(body: &[u8]) -> Option<TranscribeNeeds> {
    let doc = json(body);
    let name = doc["TranscriptionJobName"].as_str()?;
    let job = Need::new(
        "transcribe:StartTranscriptionJob",
        format!("arn:aws:transcribe:{LOCAL_REGION}:{LOCAL_ACCOUNT}:transcription-job/{name}"),
    );
    let media = doc["Media"]["MediaFileUri"]
        .as_str()
        .and_then(s3_uri)
        .map(|(bucket, key)| Need::new("s3:GetObject", format!("arn:aws:s3:::{bucket}/{key}")));
    let output = doc["OutputBucketName"].as_str().map(|bucket| {
        let key = match doc["OutputKey"].as_str() {
            Some(k) if !k.ends_with('/') => k.to_owned(),
            Some(folder) => format!("{folder}{name}.json"),
            None => format!("{name}.json"),
        };
        Need::new("s3:PutObject", format!("arn:aws:s3:::{bucket}/{key}"))
    });
    Some(TranscribeNeeds { job, media, output })
}

/// The service MediaConvert jobs pass their role to (`iam:PassedToService`).
pub const MEDIACONVERT_SERVICE: &str = "mediaconvert.amazonaws.com";

fn mediaconvert_arn(kind: &str, name: &str) -> String {
    if name.starts_with("arn:") {
        name.to_owned()
    } else {
        format!("arn:aws:mediaconvert:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{kind}/{name}")
    }
}

/// A MediaConvert job's ARN.
pub fn mediaconvert_job_arn(id: &str) -> String {
    mediaconvert_arn("jobs", id)
}

/// A MediaConvert request's needs (`new_job`: the id a `CreateJob` will give its job): the
/// operation on its job or queue, and for `CreateJob` `iam:PassRole` on the role it names; for
/// `Probe`, the action (no resource type: `*`) and, as MediaConvert reads the file with the
/// caller's credentials, `s3:GetObject` on each file it names.
pub fn mediaconvert(method: &http::Method, path: &str, query: Option<&str>, body: &[u8], new_job: &str) -> Vec<Need> {
    if path == "/2017-08-29/probe" && method == http::Method::POST {
        let doc = json(body);
        let files = doc["inputFiles"].as_array().cloned().unwrap_or_default();
        let objects = files.iter().filter_map(|f| f["fileUrl"].as_str()?.strip_prefix("s3://").map(str::to_owned));
        let mut needs = vec![Need::new("mediaconvert:Probe", "*")];
        needs.extend(objects.map(|o| Need::new("s3:GetObject", format!("arn:aws:s3:::{o}"))));
        return needs;
    }
    let Some(rest) = path.strip_prefix("/2017-08-29/jobs") else { return Vec::new() };
    let id = rest.trim_start_matches('/');
    let doc = json(body);
    match (method.as_str(), id.is_empty()) {
        ("POST", true) => {
            let queue = doc["queue"].as_str().unwrap_or("Default");
            let mut needs = vec![
                Need::new("mediaconvert:CreateJob", mediaconvert_arn("queues", queue)),
                Need::new("mediaconvert:CreateJob", mediaconvert_job_arn(new_job)),
            ];
            if let Some(template) = doc["jobTemplate"].as_str() {
                needs.push(Need::new("mediaconvert:CreateJob", mediaconvert_arn("jobTemplates", template)));
            }
            if let Some(role) = doc["role"].as_str() {
                needs.push(Need::new("iam:PassRole", role));
            }
            needs
        }
        ("GET", true) => {
            let queue = query.into_iter().flat_map(|q| q.split('&')).find_map(|p| p.strip_prefix("queue="));
            let on = queue
                .map(|q| mediaconvert_arn("queues", &percent_encoding::percent_decode_str(q).decode_utf8_lossy()))
                .unwrap_or_else(|| "*".to_owned());
            vec![Need::new("mediaconvert:ListJobs", on)]
        }
        ("GET", false) => vec![Need::new("mediaconvert:GetJob", mediaconvert_job_arn(id))],
        ("DELETE", false) => vec![Need::new("mediaconvert:CancelJob", mediaconvert_job_arn(id))],
        _ => Vec::new(),
    }
}

/// A MediaConvert request's condition keys.
pub fn mediaconvert_context() -> Context {
    Context::default().with("iam:PassedToService", [MEDIACONVERT_SERVICE])
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "arn:aws:dynamodb:us-east-1:000000000000:table";

    #[test]
    fn a_batch_delete_names_its_keys() {
        let body = b"<Delete><Object><Key>media/a/x.ts</Key></Object><Object><Key>raw/b&amp;c</Key></Object></Delete>";
        assert_eq!(xml_keys(body), ["media/a/x.ts", "raw/b&c"]);
    }

    #[test]
    fn s3_operations_need_their_object_or_bucket_action() {
        assert_eq!(
            s3_needs("HeadObject", "b", Some("raw/x")),
            Some(("s3:GetObject", "arn:aws:s3:::b/raw/x".to_owned()))
        );
        assert_eq!(s3_needs("UploadPart", "b", Some("k")).map(|n| n.0), Some("s3:PutObject"));
        assert_eq!(s3_needs("ListObjectsV2", "b", None), Some(("s3:ListBucket", "arn:aws:s3:::b".to_owned())));
        assert_eq!(s3_needs("PutBucketCors", "b", None), None);
    }

    #[test]
    fn a_dynamodb_call_needs_its_table_its_index_or_each_items_table() {
        assert_eq!(
            dynamodb("DynamoDB_20120810.GetItem", br#"{"TableName":"t"}"#),
            [Need::new("dynamodb:GetItem", format!("{T}/t"))]
        );
        assert_eq!(
            dynamodb("DynamoDB_20120810.Query", br#"{"TableName":"t","IndexName":"GSI1"}"#),
            [Need::new("dynamodb:Query", format!("{T}/t/index/GSI1"))]
        );
        assert_eq!(
            dynamodb("DynamoDB_20120810.Query", br#"{"TableName":"arn:aws:dynamodb:eu-west-1:1:table/x"}"#),
            [Need::new("dynamodb:Query", "arn:aws:dynamodb:eu-west-1:1:table/x")],
            "a table named by its ARN"
        );
        assert_eq!(
            dynamodb("DynamoDB_20120810.BatchGetItem", br#"{"RequestItems":{"t":{},"u":{}}}"#),
            [
                Need::new("dynamodb:BatchGetItem", format!("{T}/t")),
                Need::new("dynamodb:BatchGetItem", format!("{T}/u"))
            ]
        );
        let body = br#"{"TransactItems":[{"Put":{"TableName":"t"}},{"Update":{"TableName":"u"}},{"ConditionCheck":{"TableName":"t"}},{"Update":{"TableName":"u"}}]}"#;
        assert_eq!(
            dynamodb("DynamoDB_20120810.TransactWriteItems", body),
            [
                Need::new("dynamodb:ConditionCheckItem", format!("{T}/t")),
                Need::new("dynamodb:PutItem", format!("{T}/t")),
                Need::new("dynamodb:UpdateItem", format!("{T}/u")),
            ]
        );
        assert_eq!(dynamodb("DynamoDB_20120810.ListTables", b"{}"), [Need::new("dynamodb:ListTables", "*")]);
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
    fn a_kms_call_names_its_key_directly_or_through_its_ciphertext() {
        use base64::Engine;
        let id = "0d0a7bc5-8f4f-4ab9-9c35-8d4a8f2d6f11";
        let arn = format!("arn:aws:kms:us-east-1:123456789012:key/{id}");
        let encrypt = format!(r#"{{"KeyId":"{arn}","Plaintext":"eA==","EncryptionContext":{{"userId":"u1"}}}}"#);
        assert_eq!(kms_keys("Encrypt", encrypt.as_bytes()), [("kms:Encrypt".to_owned(), Some(arn.clone()))]);
        assert_eq!(kms_key_arn(&arn), Some(arn.as_str()));
        assert_eq!(kms_key_arn("alias/tokens"), None);
        assert_eq!(kms_key_arn("arn:aws:kms:us-east-1:1:alias/tokens"), None);
        let blob = base64::engine::general_purpose::STANDARD.encode([id.as_bytes(), &[0u8; 40]].concat());
        let decrypt = format!(r#"{{"CiphertextBlob":"{blob}"}}"#);
        assert_eq!(kms_keys("Decrypt", decrypt.as_bytes()), [("kms:Decrypt".to_owned(), Some(id.to_owned()))]);
        assert_eq!(
            kms_keys("ReEncrypt", format!(r#"{{"CiphertextBlob":"{blob}","DestinationKeyId":"alias/b"}}"#).as_bytes()),
            [
                ("kms:ReEncryptFrom".to_owned(), Some(id.to_owned())),
                ("kms:ReEncryptTo".to_owned(), Some("alias/b".to_owned()))
            ]
        );
        assert_eq!(kms_keys("ListKeys", b"{}"), [("kms:ListKeys".to_owned(), None)]);
        let context = kms_context(encrypt.as_bytes());
        assert_eq!(
            context,
            Context::default()
                .with("kms:EncryptionContextKeys", ["userId"])
                .with("kms:EncryptionContext:userId", ["u1"])
        );
        assert_eq!(kms_context(b"{}"), Context::default());
    }

    #[test]
    fn a_secrets_call_names_its_secret() {
        assert_eq!(
            secret("GetSecretValue", br#"{"SecretId":"vivid/cursor"}"#),
            ("secretsmanager:GetSecretValue".to_owned(), Some("vivid/cursor".to_owned()))
        );
        assert_eq!(secret("ListSecrets", b"{}"), ("secretsmanager:ListSecrets".to_owned(), None));
        assert_eq!(secret_arn_guess("x"), "arn:aws:secretsmanager:us-east-1:000000000000:secret:x");
    }

    #[test]
    fn a_send_names_its_sender_and_recipients_and_their_identities() {
        let body = br#"{"FromEmailAddress":"VIVID <no-reply@vivid.example>","Destination":{"ToAddresses":["a@example.org"],"BccAddresses":["Bo <bo@other.net>"]}}"#;
        let send = ses_send(body).expect("a send");
        assert_eq!(
            send,
            SesSend {
                from: "no-reply@vivid.example".into(),
                recipients: vec!["a@example.org".into(), "bo@other.net".into()]
            }
        );
        assert_eq!(ses_identity_candidates("no-reply@vivid.example"), ["no-reply@vivid.example", "vivid.example"]);
        assert_eq!(ses_identity_candidates("Bo@Other.NET"), ["Bo@Other.NET", "bo@other.net", "other.net"]);
        assert_eq!(ses_identity_arn("vivid.example"), "arn:aws:ses:us-east-1:000000000000:identity/vivid.example");
        assert_eq!(ses_context(&send).get("ses:fromaddress"), Some(&["no-reply@vivid.example".to_owned()][..]));
    }

    #[test]
    fn an_invocation_needs_the_functions_arn() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:import-worker";
        assert_eq!(
            lambda_invoke("/2015-03-31/functions/import-worker/invocations", None),
            Some(Need::new("lambda:InvokeFunction", arn))
        );
        assert_eq!(
            lambda_invoke(
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aimport-worker/invocations",
                None
            ),
            Some(Need::new("lambda:InvokeFunction", arn))
        );
        assert_eq!(
            lambda_invoke("/2015-03-31/functions/import-worker/invocations", Some("Qualifier=live"))
                .map(|n| n.resource),
            Some(format!("{arn}:live"))
        );
        assert_eq!(lambda_invoke("/2015-03-31/functions/import-worker", None), None);
    }

    #[test]
    fn put_events_needs_each_entrys_bus() {
        let body = br#"{"Entries":[{"Source":"a"},{"Source":"b","EventBusName":"jobs"},{"Source":"c"}]}"#;
        assert_eq!(
            events("PutEvents", body),
            [
                Need::new("events:PutEvents", "arn:aws:events:us-east-1:000000000000:event-bus/default"),
                Need::new("events:PutEvents", "arn:aws:events:us-east-1:000000000000:event-bus/jobs"),
            ]
        );
        assert_eq!(events("PutRule", b"{}"), [Need::new("events:PutRule", "*")]);
    }

    #[test]
    fn a_transcription_job_needs_the_job_the_media_and_the_results_object() {
        let body = br#"{"TranscriptionJobName":"vivid-01X","Media":{"MediaFileUri":"s3://m/media/01X/video.mp4"},"OutputBucketName":"m","OutputKey":"media/01X/transcript.json"}"#;
        assert_eq!(
            transcribe(body),
            Some(TranscribeNeeds {
                job: Need::new(
                    "transcribe:StartTranscriptionJob",
                    "arn:aws:transcribe:us-east-1:000000000000:transcription-job/vivid-01X"
                ),
                media: Some(Need::new("s3:GetObject", "arn:aws:s3:::m/media/01X/video.mp4")),
                output: Some(Need::new("s3:PutObject", "arn:aws:s3:::m/media/01X/transcript.json")),
            })
        );
        let folder = br#"{"TranscriptionJobName":"j","Media":{"MediaFileUri":"s3://m/a.mp4"},"OutputBucketName":"m","OutputKey":"out/"}"#;
        assert_eq!(
            transcribe(folder).and_then(|n| n.output).map(|n| n.resource),
            Some("arn:aws:s3:::m/out/j.json".into())
        );
        assert_eq!(transcribe(b"{}"), None);
    }

    #[test]
    fn mediaconvert_calls_need_their_job_queue_and_role() {
        let post = http::Method::POST;
        let body = br#"{"role":"arn:aws:iam::000000000000:role/mc","settings":{}}"#;
        assert_eq!(
            mediaconvert(&post, "/2017-08-29/jobs", None, body, "123-abc"),
            [
                Need::new("mediaconvert:CreateJob", "arn:aws:mediaconvert:us-east-1:000000000000:queues/Default"),
                Need::new("mediaconvert:CreateJob", "arn:aws:mediaconvert:us-east-1:000000000000:jobs/123-abc"),
                Need::new("iam:PassRole", "arn:aws:iam::000000000000:role/mc"),
            ]
        );
        let queued = br#"{"role":"r","queue":"arn:aws:mediaconvert:us-east-1:000000000000:queues/Fast","settings":{}}"#;
        assert_eq!(
            mediaconvert(&post, "/2017-08-29/jobs", None, queued, "1")[0].resource,
            "arn:aws:mediaconvert:us-east-1:000000000000:queues/Fast"
        );
        assert_eq!(
            mediaconvert(&http::Method::DELETE, "/2017-08-29/jobs/1-x", None, b"", ""),
            [Need::new("mediaconvert:CancelJob", "arn:aws:mediaconvert:us-east-1:000000000000:jobs/1-x")]
        );
        assert_eq!(
            mediaconvert(&http::Method::GET, "/2017-08-29/jobs/1-x", None, b"", ""),
            [Need::new("mediaconvert:GetJob", "arn:aws:mediaconvert:us-east-1:000000000000:jobs/1-x")]
        );
        assert_eq!(
            mediaconvert(&http::Method::GET, "/2017-08-29/jobs", Some("queue=Default&maxResults=20"), b"", ""),
            [Need::new("mediaconvert:ListJobs", "arn:aws:mediaconvert:us-east-1:000000000000:queues/Default")]
        );
        assert_eq!(mediaconvert(&http::Method::GET, "/2017-08-29/jobs", None, b"", "")[0].resource, "*");
        assert_eq!(mediaconvert_context().get("iam:passedtoservice"), Some(&[MEDIACONVERT_SERVICE.to_owned()][..]));
    }
}
