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
    hls::{GrantRefused, GrantVerifier, VerifiedGrant},
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

#[derive(Serialize, Deserialize)]
struct Policy {
    #[serde(rename = "Statement")]
    statement: Vec<Statement>,
}

#[derive(Serialize, Deserialize)]
struct Statement {
    #[serde(rename = "Resource")]
    resource: String,
    #[serde(rename = "Condition")]
    condition: Condition,
}

#[derive(Serialize, Deserialize)]
struct Condition {
    #[serde(rename = "DateLessThan")]
    date_less_than: Epoch,
}

#[derive(Serialize, Deserialize)]
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

/// Checks a CloudFront custom-policy grant (from the query or the cookies) for `url` at `now`,
/// with the public key (PKCS#1 or SPKI DER).
pub fn verify_grant(public_der: &[u8], url: &str, policy_b64: &str, signature_b64: &str, now: u64) -> bool {
    let (Some(policy_json), Some(sig)) = (cf_unb64(policy_b64), cf_unb64(signature_b64)) else { return false };
    let key = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_der);
    if key.verify(&policy_json, &sig).is_err() {
        return false;
    }
    let Ok(policy) = serde_json::from_slice::<Policy>(&policy_json) else { return false };
    policy.statement.iter().any(|s| {
        let in_scope = match s.resource.strip_suffix('*') {
            Some(prefix) => url.starts_with(prefix),
            None => url == s.resource,
        };
        in_scope && now < s.condition.date_less_than.epoch
    })
}

/// The grants the CDN accepts, checked with its public key alone (`VIVID_CDN_PUBLIC_KEY_PEM`, the
/// template's `CdnPublicKeyPem`: no secret): what the HLS route checks before it signs anything.
pub struct CloudFrontGrants {
    base_url: String,
    key_pair_id: String,
    public_der: Vec<u8>,
}

impl CloudFrontGrants {
    /// `public_der`: the RSA public key (SPKI or PKCS#1 DER) of the key pair `key_pair_id`;
    /// `base_url`: the distribution's.
    pub fn new(public_der: Vec<u8>, key_pair_id: &str, base_url: &str) -> Self {
        Self { base_url: base_url.trim_end_matches('/').to_owned(), key_pair_id: key_pair_id.to_owned(), public_der }
    }

    /// The distribution's URL (`VIVID_CDN_URL`), its key pair id (`VIVID_CDN_KEY_PAIR_ID`) and its
    /// public key's PEM (`VIVID_CDN_PUBLIC_KEY_PEM`, newlines real or written `\n`).
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let pem = vivid_config::pem(&cfg.var("VIVID_CDN_PUBLIC_KEY_PEM")?);
        let der = pem_der(&pem)
            .filter(|der| !der.is_empty())
            .ok_or_else(|| ConfigError::Malformed("VIVID_CDN_PUBLIC_KEY_PEM", "not a PEM public key".into()))?;
        Ok(Self::new(der, &cfg.var("VIVID_CDN_KEY_PAIR_ID")?, &cfg.var("VIVID_CDN_URL")?))
    }
}

impl GrantVerifier for CloudFrontGrants {
    fn verify(&self, video: &VideoId, policy: &str, signature: &str, now: u64) -> Result<VerifiedGrant, GrantRefused> {
        let (Some(policy_json), Some(sig)) = (cf_unb64(policy), cf_unb64(signature)) else {
            return Err(GrantRefused::Forged);
        };
        let key = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.public_der);
        key.verify(&policy_json, &sig).map_err(|_| GrantRefused::Forged)?;
        let policy: Policy = serde_json::from_slice(&policy_json).map_err(|_| GrantRefused::OtherScope)?;
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
            "Policy={}&Signature={}&Key-Pair-Id={}&Hash-Algorithm=SHA256",
            cf_b64(&policy_json),
            cf_b64(&sig),
            self.key_pair_id
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

    #[tokio::test]
    async fn the_hls_route_accepts_exactly_a_live_grant_of_its_video_with_the_public_key_alone() {
        let (pair, der) = test_key();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(&der));
        let signer = CloudFrontSigner::from_pem(&pem, "K2JCJMDEHXQW5F", "https://cdn.example/").expect("signer");
        let spki = AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(pair.public_key()).expect("spki");
        let public_pem =
            format!("-----BEGIN PUBLIC KEY-----\\n{}\\n-----END PUBLIC KEY-----", STANDARD.encode(spki.as_ref()));
        let der = pem_der(&vivid_config::pem(&public_pem)).expect("the public key, with \\n for newlines");
        let grants = CloudFrontGrants::new(der, "K2JCJMDEHXQW5F", "https://cdn.example/");
        assert_eq!(grants.cdn_url(), "https://cdn.example");
        let video = VideoId::generate();
        let p = signer.sign(&video, &MediaOutputs::default(), 1_000, Duration::from_secs(600)).await.expect("signed");
        let q = |name: &str| {
            p.signed_query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap_or("").to_owned()
        };
        let verified = grants.verify(&video, &q("Policy"), &q("Signature"), 1_500).expect("a live grant");
        assert_eq!((verified.ends, verified.query.as_str()), (1_600, p.signed_query.as_str()), "the query as signed");
        assert_eq!(
            grants.verify(&video, &q("Policy"), &q("Signature"), 1_600).map(|g| g.ends),
            Err(GrantRefused::Expired)
        );
        let other = VideoId::generate();
        assert_eq!(
            grants.verify(&other, &q("Policy"), &q("Signature"), 1_500).map(|g| g.ends),
            Err(GrantRefused::OtherScope)
        );
        let mut forged = q("Signature");
        forged.replace_range(0..2, if forged.starts_with("AA") { "BB" } else { "AA" });
        assert_eq!(grants.verify(&video, &q("Policy"), &forged, 1_500).map(|g| g.ends), Err(GrantRefused::Forged));
        assert_eq!(grants.verify(&video, "", "", 1_500).map(|g| g.ends), Err(GrantRefused::Forged));
        // A wider scope signed with the same key (nothing issues one) is not this video's grant.
        let wide = br#"{"Statement":[{"Resource":"https://cdn.example/media/*","Condition":{"DateLessThan":{"AWS:EpochTime":2000}}}]}"#;
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), wide, &mut sig).expect("signed");
        assert_eq!(
            grants.verify(&video, &cf_b64(wide), &cf_b64(&sig), 1_500).map(|g| g.ends),
            Err(GrantRefused::OtherScope)
        );
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
