//! DynamoDB and S3: tables, indexes and items; buckets and objects.

use serde_json::Value;

use super::{Need, json, operation};
use crate::infra::grants::{LOCAL_ACCOUNT, LOCAL_REGION};

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
}
