//! KMS keys and Secrets Manager secrets, named directly or through what the service knows.

use super::json;
use crate::infra::grants::{Context, LOCAL_ACCOUNT, LOCAL_REGION};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
