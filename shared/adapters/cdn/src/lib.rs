//! Private playback: CloudFront signed URLs and cookies with a custom policy scoped to one
//! video's media prefix (RSA with SHA-256, `Hash-Algorithm=SHA256`), and their verification
//! (the local stack's media server applies the same rule as CloudFront).
//!
//! The private key is read by the first grant ([`CloudFrontSigner::from_secret`]), not at init:
//! `GET /videos/{id}` of a video that is not ready signs nothing, and no cold start waits for a
//! Secrets Manager round trip. A failed read fails that grant (500) and is tried again by the next.

use std::time::Duration;

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{self, RsaKeyPair, UnparsedPublicKey},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use vivid_config::{Config, ConfigError, FirstUse};
use vivid_domain::{
    hls::{GrantRefused, GrantVerifier, PresentedGrant, VerifiedGrant},
    playback::{Grant, Playback, PlaybackSigner, SignError},
    types::VideoId,
    video::{MediaOutputs, layout},
};

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("the CloudFront key is not a usable RSA private key: {0}")]
    Key(String),
}

/// CloudFront's URL-safe base64: `+` → `-`, `=` → `_`, `/` → `~`.
fn cf_b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes).replace('+', "-").replace('=', "_").replace('/', "~")
}

fn cf_unb64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s.replace('-', "+").replace('_', "=").replace('~', "/")).ok()
}

/// The DER inside a PEM document.
pub fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().map(str::trim).filter(|l| !l.starts_with("-----") && !l.is_empty()).collect();
    STANDARD.decode(body).ok()
}

// Every field is known: a policy with a condition the signer never writes (`IpAddress`,
// `DateGreaterThan`) is refused, never half-understood.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    #[serde(rename = "Statement")]
    statement: Vec<Statement>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Statement {
    #[serde(rename = "Resource")]
    resource: String,
    #[serde(rename = "Condition")]
    condition: Condition,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Condition {
    #[serde(rename = "DateLessThan")]
    date_less_than: Epoch,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Epoch {
    #[serde(rename = "AWS:EpochTime")]
    epoch: u64,
}

pub struct CloudFrontSigner {
    base_url: String,
    key_pair_id: String,
    key: FirstUse<RsaKeyPair>,
}

/// The RSA key of a PEM document (PKCS#8 or PKCS#1).
fn rsa_key(private_pem: &str) -> Result<RsaKeyPair, SignerError> {
    let der = pem_der(private_pem).ok_or_else(|| SignerError::Key("not PEM".into()))?;
    RsaKeyPair::from_pkcs8(&der).or_else(|_| RsaKeyPair::from_der(&der)).map_err(|e| SignerError::Key(e.to_string()))
}

impl CloudFrontSigner {
    /// `base_url` is the distribution's (`https://d111111abcdef8.cloudfront.net`).
    pub fn from_pem(private_pem: &str, key_pair_id: &str, base_url: &str) -> Result<Self, SignerError> {
        Ok(Self::with_key(FirstUse::ready(rsa_key(private_pem)?), key_pair_id, base_url))
    }

    fn with_key(key: FirstUse<RsaKeyPair>, key_pair_id: &str, base_url: &str) -> Self {
        Self { base_url: base_url.trim_end_matches('/').to_owned(), key_pair_id: key_pair_id.to_owned(), key }
    }

    /// The distribution's URL (`VIVID_CDN_URL`), its key pair id (`VIVID_CDN_KEY_PAIR_ID`), and the
    /// private key's PEM read from the secret store by the caller.
    pub fn from_config(cfg: &Config, private_pem: &str) -> Result<Self, ConfigError> {
        Self::from_pem(&vivid_config::pem(private_pem), &cfg.var("VIVID_CDN_KEY_PAIR_ID")?, &cfg.var("VIVID_CDN_URL")?)
            .map_err(|e| ConfigError::Malformed("VIVID_CDN_PRIVATE_KEY_SECRET_ARN", e.to_string()))
    }

    /// As [`from_config`](Self::from_config), with the private key's PEM read by the first grant
    /// (`Secrets::on_first_use(cfg, "VIVID_CDN_PRIVATE_KEY_SECRET_ARN")`).
    pub fn from_secret(cfg: &Config, private_pem: FirstUse<String>) -> Result<Self, ConfigError> {
        let key = private_pem.map(|pem| {
            rsa_key(&vivid_config::pem(&pem))
                .map_err(|e| ConfigError::Malformed("VIVID_CDN_PRIVATE_KEY_SECRET_ARN", e.to_string()))
        });
        Ok(Self::with_key(key, &cfg.var("VIVID_CDN_KEY_PAIR_ID")?, &cfg.var("VIVID_CDN_URL")?))
    }

    pub fn url_of(&self, key: &str) -> String {
        format!("{}/{key}", self.base_url)
    }
}

#[async_trait::async_trait]
impl PlaybackSigner for CloudFrontSigner {
    async fn sign(
        &self,
        video: &VideoId,
        outputs: &MediaOutputs,
        now: u64,
        lifetime: Duration,
    ) -> Result<Playback, SignError> {
        let expires_at = now + lifetime.as_secs();
        let policy = Policy {
            statement: vec![Statement {
                resource: format!("{}/{}*", self.base_url, layout::media_prefix(video)),
                condition: Condition { date_less_than: Epoch { epoch: expires_at } },
            }],
        };
        let policy_json = serde_json::to_vec(&policy).map_err(|e| SignError::Failed(e.to_string()))?;
        let key = self.key.get().await.map_err(|e| {
            tracing::error!(error = %e, "the CloudFront key is not available");
            if e.is_transient() { SignError::KeyUnavailable(e.to_string()) } else { SignError::Failed(e.to_string()) }
        })?;
        let mut sig = vec![0u8; key.public_modulus_len()];
        key.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), &policy_json, &mut sig)
            .map_err(|_| SignError::Failed("RSA signing failed".into()))?;
        let (policy_b64, sig_b64) = (cf_b64(&policy_json), cf_b64(&sig));
        let signed_query =
            format!("Policy={policy_b64}&Signature={sig_b64}&Key-Pair-Id={}&Hash-Algorithm=SHA256", self.key_pair_id);
        let cookies = vec![
            ("CloudFront-Policy".into(), policy_b64),
            ("CloudFront-Signature".into(), sig_b64),
            ("CloudFront-Key-Pair-Id".into(), self.key_pair_id.clone()),
            ("CloudFront-Hash-Algorithm".into(), "SHA256".into()),
        ];
        let url = |key: &str| format!("{}?{signed_query}", self.url_of(key));
        Ok(Playback::granted(
            video,
            outputs,
            Grant { url, signed_query: signed_query.clone(), cookies, expires_at, lifetime },
        ))
    }
}

/// The policy of a grant whose signature verifies with the public key `public_der` (PKCS#1 or
/// SPKI DER): its JSON, the signature, and the policy read strictly.
fn signed_policy(
    public_der: &[u8],
    policy_b64: &str,
    signature_b64: &str,
) -> Result<(Vec<u8>, Vec<u8>, Policy), GrantRefused> {
    let (Some(policy_json), Some(sig)) = (cf_unb64(policy_b64), cf_unb64(signature_b64)) else {
        return Err(GrantRefused::Forged);
    };
    let key = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_der);
    key.verify(&policy_json, &sig).map_err(|_| GrantRefused::Forged)?;
    let policy = serde_json::from_slice(&policy_json).map_err(|_| GrantRefused::Unsupported)?;
    Ok((policy_json, sig, policy))
}

/// Checks a CloudFront custom-policy grant (from the query or the cookies) for `url` at `now`,
/// with the public key (PKCS#1 or SPKI DER).
pub fn verify_grant(public_der: &[u8], url: &str, policy_b64: &str, signature_b64: &str, now: u64) -> bool {
    let Ok((_, _, policy)) = signed_policy(public_der, policy_b64, signature_b64) else { return false };
    policy.statement.iter().any(|s| {
        let in_scope = match s.resource.strip_suffix('*') {
            Some(prefix) => url.starts_with(prefix),
            None => url == s.resource,
        };
        in_scope && now < s.condition.date_less_than.epoch
    })
}

/// The grants the CDN accepts, checked with its public keys alone (no secret): the current one
/// (`VIVID_CDN_PUBLIC_KEY_PEM`, the template's `CdnPublicKeyPem`, with `VIVID_CDN_KEY_PAIR_ID`)
/// and, while the key rotates, a second one (`VIVID_CDN_SECOND_PUBLIC_KEY_PEM` with
/// `VIVID_CDN_SECOND_KEY_PAIR_ID`, docs/operating.md): what the HLS route checks before it signs anything.
pub struct CloudFrontGrants {
    base_url: String,
    /// Key pair id → the RSA public key's DER.
    keys: Vec<(String, Vec<u8>)>,
}

fn public_der(name: &'static str, pem: &str) -> Result<Vec<u8>, ConfigError> {
    pem_der(&vivid_config::pem(pem))
        .filter(|der| !der.is_empty())
        .ok_or_else(|| ConfigError::Malformed(name, "not a PEM public key".into()))
}

impl CloudFrontGrants {
    /// `keys`: each key pair id with its RSA public key (SPKI or PKCS#1 DER); `base_url`: the
    /// distribution's.
    pub fn new(keys: Vec<(String, Vec<u8>)>, base_url: &str) -> Self {
        Self { base_url: base_url.trim_end_matches('/').to_owned(), keys }
    }

    /// The distribution's URL (`VIVID_CDN_URL`), the current key pair id (`VIVID_CDN_KEY_PAIR_ID`)
    /// with its public key's PEM (`VIVID_CDN_PUBLIC_KEY_PEM`, newlines real or written `\n`), and
    /// the second ones when set (both or neither).
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let mut keys = vec![(
            cfg.var("VIVID_CDN_KEY_PAIR_ID")?,
            public_der("VIVID_CDN_PUBLIC_KEY_PEM", &cfg.var("VIVID_CDN_PUBLIC_KEY_PEM")?)?,
        )];
        match (cfg.optional("VIVID_CDN_SECOND_KEY_PAIR_ID"), cfg.optional("VIVID_CDN_SECOND_PUBLIC_KEY_PEM")) {
            (None, None) => {}
            (Some(id), Some(pem)) => keys.push((id, public_der("VIVID_CDN_SECOND_PUBLIC_KEY_PEM", &pem)?)),
            _ => {
                return Err(ConfigError::Malformed(
                    "VIVID_CDN_SECOND_KEY_PAIR_ID",
                    "the second key pair id and public key are set together or not at all".into(),
                ));
            }
        }
        Ok(Self::new(keys, &cfg.var("VIVID_CDN_URL")?))
    }
}

impl GrantVerifier for CloudFrontGrants {
    fn verify(&self, video: &VideoId, grant: &PresentedGrant<'_>, now: u64) -> Result<VerifiedGrant, GrantRefused> {
        if grant.hash_algorithm != "SHA256" {
            return Err(GrantRefused::HashAlgorithm);
        }
        // The key the grant names, and that same id written back: CloudFront checks the pair.
        let (key_pair_id, der) =
            self.keys.iter().find(|(id, _)| id == grant.key_pair_id).ok_or(GrantRefused::UnknownKey)?;
        let (policy_json, sig, policy) = signed_policy(der, grant.policy, grant.signature)?;
        // Exactly the scope a grant of this video has: not a wider one, not another video's.
        let scope = format!("{}/{}*", self.base_url, layout::media_prefix(video));
        let [statement] = policy.statement.as_slice() else { return Err(GrantRefused::OtherScope) };
        if statement.resource != scope {
            return Err(GrantRefused::OtherScope);
        }
        let ends = statement.condition.date_less_than.epoch;
        if now >= ends {
            return Err(GrantRefused::Expired);
        }
        // Written as the signer writes it, from the verified parts (CloudFront's base64, re-encoded
        // from the bytes: nothing else of the request is echoed).
        let query = format!(
            "Policy={}&Signature={}&Key-Pair-Id={key_pair_id}&Hash-Algorithm=SHA256",
            cf_b64(&policy_json),
            cf_b64(&sig),
        );
        Ok(VerifiedGrant { ends, query })
    }

    fn cdn_url(&self) -> &str {
        &self.base_url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_lc_rs::{encoding::AsDer, signature::KeyPair as _};

    fn test_key() -> (RsaKeyPair, Vec<u8>) {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("key");
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("pkcs8").as_ref().to_vec();
        (pair, der)
    }

    #[tokio::test]
    async fn a_grant_covers_its_video_until_it_expires_and_nothing_else() {
        let (pair, der) = test_key();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(&der));
        let signer = CloudFrontSigner::from_pem(&pem, "K2JCJMDEHXQW5F", "https://cdn.example").expect("signer");
        let video = VideoId::generate();
        let outputs = MediaOutputs { hls_master: Some(format!("media/{video}/hls/index.m3u8")), ..Default::default() };
        let p = signer.sign(&video, &outputs, 1_000, Duration::from_secs(600)).await.expect("signed");
        assert!(p.hls_url.as_deref().is_some_and(|u| u.contains("Hash-Algorithm=SHA256")));
        let q = |name: &str| {
            p.signed_query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap_or("").to_owned()
        };
        let public = pair.public_key().as_ref().to_vec();
        let segment = format!("https://cdn.example/media/{video}/hls/index_720p_00001.ts");
        assert!(verify_grant(&public, &segment, &q("Policy"), &q("Signature"), 1_500));
        assert!(!verify_grant(&public, &segment, &q("Policy"), &q("Signature"), 1_600), "expired");
        let other = format!("https://cdn.example/media/{}/hls/index.m3u8", VideoId::generate());
        assert!(!verify_grant(&public, &other, &q("Policy"), &q("Signature"), 1_500), "another video");
        let mut forged = q("Signature");
        forged.replace_range(0..2, if forged.starts_with("AA") { "BB" } else { "AA" });
        assert!(!verify_grant(&public, &segment, &q("Policy"), &forged, 1_500), "forged");
    }

    fn spki(pair: &RsaKeyPair) -> Vec<u8> {
        let spki = AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(pair.public_key()).expect("spki");
        spki.as_ref().to_vec()
    }

    fn signer_of(der: &[u8], key_pair_id: &str) -> CloudFrontSigner {
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(der));
        CloudFrontSigner::from_pem(&pem, key_pair_id, "https://cdn.example/").expect("signer")
    }

    fn param(query: &str, name: &str) -> String {
        query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap_or("").to_owned()
    }

    fn presented(query: &str) -> [String; 4] {
        ["Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"].map(|n| param(query, n))
    }

    fn as_grant(p: &[String; 4]) -> PresentedGrant<'_> {
        PresentedGrant { policy: &p[0], signature: &p[1], key_pair_id: &p[2], hash_algorithm: &p[3] }
    }

    #[tokio::test]
    async fn the_hls_route_accepts_exactly_a_live_grant_of_its_video_with_the_public_key_alone() {
        let (pair, der) = test_key();
        let signer = signer_of(&der, "K2JCJMDEHXQW5F");
        let public_pem =
            format!("-----BEGIN PUBLIC KEY-----\\n{}\\n-----END PUBLIC KEY-----", STANDARD.encode(spki(&pair)));
        let der = public_der("K", &public_pem).expect("the public key, with \\n for newlines");
        let grants = CloudFrontGrants::new(vec![("K2JCJMDEHXQW5F".into(), der)], "https://cdn.example/");
        assert_eq!(grants.cdn_url(), "https://cdn.example");
        let video = VideoId::generate();
        let p = signer.sign(&video, &MediaOutputs::default(), 1_000, Duration::from_secs(600)).await.expect("signed");
        let q = presented(&p.signed_query);
        let verified = grants.verify(&video, &as_grant(&q), 1_500).expect("a live grant");
        assert_eq!((verified.ends, verified.query.as_str()), (1_600, p.signed_query.as_str()), "the query as signed");
        assert_eq!(grants.verify(&video, &as_grant(&q), 1_600).map(|g| g.ends), Err(GrantRefused::Expired));
        let other = VideoId::generate();
        assert_eq!(grants.verify(&other, &as_grant(&q), 1_500).map(|g| g.ends), Err(GrantRefused::OtherScope));
        let mut forged = q.clone();
        forged[1].replace_range(0..2, if forged[1].starts_with("AA") { "BB" } else { "AA" });
        assert_eq!(grants.verify(&video, &as_grant(&forged), 1_500).map(|g| g.ends), Err(GrantRefused::Forged));
        let empty = [String::new(), String::new(), q[2].clone(), q[3].clone()];
        assert_eq!(grants.verify(&video, &as_grant(&empty), 1_500).map(|g| g.ends), Err(GrantRefused::Forged));
        let unknown = [q[0].clone(), q[1].clone(), "KOTHER".into(), q[3].clone()];
        assert_eq!(grants.verify(&video, &as_grant(&unknown), 1_500).map(|g| g.ends), Err(GrantRefused::UnknownKey));
        let sha1 = [q[0].clone(), q[1].clone(), q[2].clone(), "SHA1".into()];
        assert_eq!(grants.verify(&video, &as_grant(&sha1), 1_500).map(|g| g.ends), Err(GrantRefused::HashAlgorithm));
        // A wider scope signed with the same key (nothing issues one) is not this video's grant.
        let wide = br#"{"Statement":[{"Resource":"https://cdn.example/media/*","Condition":{"DateLessThan":{"AWS:EpochTime":2000}}}]}"#;
        let sign = |policy: &[u8]| {
            let mut sig = vec![0u8; pair.public_modulus_len()];
            pair.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), policy, &mut sig).expect("signed");
            [cf_b64(policy), cf_b64(&sig), q[2].clone(), q[3].clone()]
        };
        assert_eq!(grants.verify(&video, &as_grant(&sign(wide)), 1_500).map(|g| g.ends), Err(GrantRefused::OtherScope));
        // Conditions the signer never writes are refused, not half-understood.
        let resource = format!("https://cdn.example/media/{video}/*");
        for condition in [
            r#""DateLessThan":{"AWS:EpochTime":2000},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}"#,
            r#""DateLessThan":{"AWS:EpochTime":2000},"DateGreaterThan":{"AWS:EpochTime":1900}"#,
            r#""DateLessThan":{"AWS:EpochTime":2000,"AWS:Other":1}"#,
        ] {
            let policy = format!(r#"{{"Statement":[{{"Resource":"{resource}","Condition":{{{condition}}}}}]}}"#);
            assert_eq!(
                grants.verify(&video, &as_grant(&sign(policy.as_bytes())), 1_500).map(|g| g.ends),
                Err(GrantRefused::Unsupported),
                "{policy}"
            );
            assert!(!verify_grant(
                &spki(&pair),
                &format!("{resource}x.ts"),
                &sign(policy.as_bytes())[0],
                &sign(policy.as_bytes())[1],
                1_500
            ));
        }
    }

    #[tokio::test]
    async fn during_a_rotation_grants_of_either_key_verify_and_keep_their_own_key_pair_id() {
        let ((old_pair, old_der), (new_pair, new_der)) = (test_key(), test_key());
        let grants = CloudFrontGrants::new(
            vec![("KNEW".into(), spki(&new_pair)), ("KOLD".into(), spki(&old_pair))],
            "https://cdn.example",
        );
        let video = VideoId::generate();
        for (der, id) in [(&old_der, "KOLD"), (&new_der, "KNEW")] {
            let p = signer_of(der, id)
                .sign(&video, &MediaOutputs::default(), 1_000, Duration::from_secs(600))
                .await
                .expect("signed");
            let q = presented(&p.signed_query);
            let verified = grants.verify(&video, &as_grant(&q), 1_500).expect("either key verifies");
            assert_eq!(verified.query, p.signed_query, "the id written back is the one that verified");
            assert!(verified.query.contains(&format!("Key-Pair-Id={id}&")));
            // The signature of one key presented with the other's id is refused.
            let swapped = [q[0].clone(), q[1].clone(), if id == "KOLD" { "KNEW" } else { "KOLD" }.into(), q[3].clone()];
            assert_eq!(grants.verify(&video, &as_grant(&swapped), 1_500).map(|g| g.ends), Err(GrantRefused::Forged));
        }
    }

    #[tokio::test]
    async fn the_key_is_read_by_the_first_grant_only() {
        use std::sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        };
        let (_, der) = test_key();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(&der));
        let reads = Arc::new(AtomicUsize::new(0));
        let counted = reads.clone();
        let secret = FirstUse::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let pem = pem.clone();
            async move { Ok(pem) }
        });
        let key = secret.map(|pem| rsa_key(&pem).map_err(|e| ConfigError::Malformed("K", e.to_string())));
        let signer = CloudFrontSigner::with_key(key, "K2JCJMDEHXQW5F", "https://cdn.example");
        assert_eq!(reads.load(Ordering::SeqCst), 0, "nothing read before a grant");
        let video = VideoId::generate();
        let outputs = MediaOutputs { hls_master: Some(format!("media/{video}/hls/index.m3u8")), ..Default::default() };
        for _ in 0..2 {
            assert!(signer.sign(&video, &outputs, 1_000, Duration::from_secs(600)).await.is_ok());
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1, "one read for every grant");
        let broken = CloudFrontSigner::with_key(
            FirstUse::ready("not a key".to_owned())
                .map(|pem| rsa_key(&pem).map_err(|e| ConfigError::Malformed("K", e.to_string()))),
            "K",
            "https://cdn.example",
        );
        assert!(
            matches!(broken.sign(&video, &outputs, 1_000, Duration::from_secs(600)).await, Err(SignError::Failed(_))),
            "a malformed key is refused at the grant, as a failure (500)"
        );
        let throttled = CloudFrontSigner::with_key(
            FirstUse::new(|| async {
                Err::<String, _>(ConfigError::Secret { name: "K", detail: "ThrottlingException".into() })
            })
            .map(|pem| rsa_key(&pem).map_err(|e| ConfigError::Malformed("K", e.to_string()))),
            "K",
            "https://cdn.example",
        );
        assert!(
            matches!(
                throttled.sign(&video, &outputs, 1_000, Duration::from_secs(600)).await,
                Err(SignError::KeyUnavailable(_))
            ),
            "a key that cannot be read now is unavailable (503), for the player to try again"
        );
    }
}
