//! The LTI tool key: an RSA 2048 KMS key (`SIGN_VERIFY`) signs the tool's JWTs (RS256 =
//! `RSASSA_PKCS1_V1_5_SHA_256`); its public half, from `GetPublicKey`, is the tool's JWKS. The
//! private half never leaves KMS. `kid` is the key's id (the last part of its ARN): stable for
//! the key's life, and a new key (a rotation) gets a new one. KMS signs the SHA-256 digest of the
//! JWT's signing input (`MessageType::Digest`): a RAW message is limited to 4,096 bytes, which a
//! deep-linking response naming a dozen videos exceeds.
//!
//! While the key rotates (docs/lti-key-rotation.md) the key set also publishes a second key, the
//! previous one (`VIVID_LTI_PREVIOUS_KEY_ARN`), after the signing key: it never signs.

use async_trait::async_trait;
use aws_sdk_kms::{
    error::DisplayErrorContext,
    primitives::Blob,
    types::{MessageType, SigningAlgorithmSpec},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use vivid_config::{Config, ConfigError, OnDemand};
use vivid_domain::lti::signer::{SignError, ToolSigner};

/// A KMS key as the key set names it: its id or ARN for KMS, and its `kid`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ToolKey {
    key_id: String,
    kid: String,
}

impl ToolKey {
    fn new(key_id: String) -> Self {
        let kid = key_id.rsplit('/').next().unwrap_or(&key_id).to_owned();
        Self { key_id, kid }
    }
}

pub struct KmsToolSigner {
    client: OnDemand<aws_sdk_kms::Client>,
    /// The key that signs, published first.
    key: ToolKey,
    /// While the key rotates, a key published after it that never signs.
    previous: Option<ToolKey>,
    /// The public JWKS, read once per container (a key's public half never changes).
    jwks: OnceCell<Value>,
}

impl KmsToolSigner {
    /// The key named by `VIVID_LTI_KEY_ARN`, for the functions that sign.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self::with_client(OnDemand::new(cfg, aws_sdk_kms::Client::new)?, cfg.var("VIVID_LTI_KEY_ARN")?))
    }

    /// The key set `GET /lti/jwks` publishes: the key named by `VIVID_LTI_KEY_ARN` and, while it
    /// rotates, the one named by `VIVID_LTI_PREVIOUS_KEY_ARN` (unset or empty: none).
    pub fn key_set_from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self::from_config(cfg)?.with_previous(cfg.optional("VIVID_LTI_PREVIOUS_KEY_ARN")))
    }

    pub fn new(client: aws_sdk_kms::Client, key_id: String) -> Self {
        Self::with_client(OnDemand::ready(client), key_id)
    }

    /// This signer publishing `previous` too (its public half, after the signing key's); the
    /// signing key itself again is published once.
    pub fn with_previous(mut self, previous: Option<String>) -> Self {
        self.previous = previous.map(ToolKey::new).filter(|p| p.kid != self.key.kid);
        self
    }

    /// The client built by the first signature or key-set read, not at init.
    fn with_client(client: OnDemand<aws_sdk_kms::Client>, key_id: String) -> Self {
        Self { client, key: ToolKey::new(key_id), previous: None, jwks: OnceCell::new() }
    }

    /// One key's public half as a JWK (`kid` = the key's id).
    async fn public_jwk(&self, key: &ToolKey) -> Result<Value, SignError> {
        let out = self
            .client
            .get()
            .get_public_key()
            .key_id(&key.key_id)
            .send()
            .await
            .map_err(|e| failed(format!("the public half of {}: {}", key.kid, DisplayErrorContext(e))))?;
        let der = out.public_key.ok_or_else(|| failed(format!("KMS returned no public key for {}", key.kid)))?;
        let (n, e) = rsa_public_numbers(der.as_ref()).map_err(failed)?;
        Ok(json!({
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": key.kid,
            "n": URL_SAFE_NO_PAD.encode(n),
            "e": URL_SAFE_NO_PAD.encode(e),
        }))
    }
}

fn failed(e: impl std::fmt::Display) -> SignError {
    SignError(e.to_string())
}

#[async_trait]
impl ToolSigner for KmsToolSigner {
    async fn sign(&self, claims: &Map<String, Value>) -> Result<String, SignError> {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.key.kid });
        let claims = serde_json::to_vec(claims).map_err(failed)?;
        let header = serde_json::to_vec(&header).map_err(failed)?;
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
        let out = self
            .client
            .get()
            .sign()
            .key_id(&self.key.key_id)
            .message(Blob::new(Sha256::digest(input.as_bytes()).to_vec()))
            .message_type(MessageType::Digest)
            .signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
            .send()
            .await
            .map_err(|e| failed(DisplayErrorContext(e)))?;
        let signature = out.signature.ok_or_else(|| failed("KMS returned no signature"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())))
    }

    /// The signing key first, then the previous one; both read at once, once per container (a
    /// failed read is not kept: the next request reads again).
    async fn jwks(&self) -> Result<Value, SignError> {
        let jwks = self
            .jwks
            .get_or_try_init(|| async {
                let keys = match &self.previous {
                    None => vec![self.public_jwk(&self.key).await?],
                    Some(previous) => {
                        let (current, previous) =
                            tokio::try_join!(self.public_jwk(&self.key), self.public_jwk(previous))?;
                        vec![current, previous]
                    }
                };
                Ok::<_, SignError>(json!({ "keys": keys }))
            })
            .await?;
        Ok(jwks.clone())
    }
}

/// One DER element: its tag, its contents, and what follows it.
fn element(der: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = der.split_first().ok_or("DER: truncated")?;
    let (&first, rest) = rest.split_first().ok_or("DER: no length")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err("DER: bad length".into());
        }
        let len = rest[..count].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return Err("DER: element longer than its input".into());
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// `rsaEncryption` (1.2.840.113549.1.1.1) as DER contents.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The modulus and exponent (big-endian, no leading zero) of an RSA SubjectPublicKeyInfo.
pub fn rsa_public_numbers(spki: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let (tag, body, _) = element(spki)?;
    if tag != 0x30 {
        return Err("SPKI: not a SEQUENCE".into());
    }
    let (tag, algorithm, rest) = element(body)?;
    let (oid_tag, oid, _) = element(algorithm)?;
    if tag != 0x30 || oid_tag != 0x06 || oid != RSA_ENCRYPTION {
        return Err("SPKI: not an RSA key".into());
    }
    let (tag, bits, _) = element(rest)?;
    let key = match (tag, bits.split_first()) {
        (0x03, Some((0, key))) => key,
        _ => return Err("SPKI: no key bit string".into()),
    };
    let (tag, numbers, _) = element(key)?;
    if tag != 0x30 {
        return Err("RSAPublicKey: not a SEQUENCE".into());
    }
    let (n_tag, n, rest) = element(numbers)?;
    let (e_tag, e, _) = element(rest)?;
    if n_tag != 0x02 || e_tag != 0x02 {
        return Err("RSAPublicKey: not two INTEGERs".into());
    }
    let strip = |v: &[u8]| v.iter().skip_while(|b| **b == 0).copied().collect::<Vec<u8>>();
    Ok((strip(n), strip(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 512-bit RSA SubjectPublicKeyInfo (`openssl genrsa 512 | openssl rsa -pubout -outform DER`).
    const SPKI_HEX: &str = "305c300d06092a864886f70d0101010500034b00304802410097667f2bea76f86a0f170c5766eb9e650b7bfa2d8411bfacb857e5a18ee5fefd1be3902a2f85c17d78dadbc35ae8f4eaacf038e6973a29639f5f1b4e2877ef290203010001";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_default()).collect()
    }

    #[test]
    fn an_rsa_public_key_is_read_into_its_modulus_and_exponent() {
        let (n, e) = rsa_public_numbers(&hex(SPKI_HEX)).expect("parsed");
        assert_eq!(e, vec![1, 0, 1]);
        assert_eq!(n.len(), 64);
        assert_eq!(n[0], 0x97);
    }

    fn signer(key: &str) -> KmsToolSigner {
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new("us-east-1"))
            .build();
        KmsToolSigner::new(aws_sdk_kms::Client::from_conf(config), key.to_owned())
    }

    #[test]
    fn the_kid_is_the_key_id_and_the_previous_key_is_published_beside_it_once() {
        let current = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let previous = "arn:aws:kms:eu-central-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321";
        let s = signer(current).with_previous(Some(previous.to_owned()));
        assert_eq!(s.key.kid, "1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(s.previous.as_ref().map(|p| p.kid.as_str()), Some("0987dcba-09fe-87dc-65ba-ab0987654321"));
        assert_eq!(s.previous.as_ref().map(|p| p.key_id.as_str()), Some(previous));
        // The signing key named again as the previous one, or no previous key: one key.
        assert_eq!(signer(current).with_previous(Some(current.to_owned())).previous, None);
        assert_eq!(signer(current).with_previous(None).previous, None);
    }

    #[test]
    fn other_keys_and_truncated_input_are_refused() {
        let der = hex(SPKI_HEX);
        assert!(rsa_public_numbers(&der[..40]).is_err());
        let mut ec = der.clone();
        ec[13] = 0x0a;
        assert!(rsa_public_numbers(&ec).is_err());
        assert!(rsa_public_numbers(&[]).is_err());
    }
}
