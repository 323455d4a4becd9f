//! Private playback: CloudFront signed URLs and cookies with a custom policy scoped to one
//! video's media prefix (RSA with SHA-256, `Hash-Algorithm=SHA256`), and their verification
//! (the local stack's media server applies the same rule as CloudFront).

use std::time::Duration;

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{self, RsaKeyPair, UnparsedPublicKey},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    playback::{Playback, PlaybackSigner, SignError, SignedCaption, Thumbnails},
    transcode::THUMBNAIL_INTERVAL_SECS,
    types::{VideoId, rfc3339_at},
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
    key: RsaKeyPair,
}

impl CloudFrontSigner {
    /// `base_url` is the distribution's (`https://d111111abcdef8.cloudfront.net`).
    pub fn from_pem(private_pem: &str, key_pair_id: &str, base_url: &str) -> Result<Self, SignerError> {
        let der = pem_der(private_pem).ok_or_else(|| SignerError::Key("not PEM".into()))?;
        let key = RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .map_err(|e| SignerError::Key(e.to_string()))?;
        Ok(Self { base_url: base_url.trim_end_matches('/').to_owned(), key_pair_id: key_pair_id.to_owned(), key })
    }

    /// The distribution's URL (`VIVID_CDN_URL`), its key pair id (`VIVID_CDN_KEY_PAIR_ID`), and the
    /// private key's PEM read from the secret store by the caller.
    pub fn from_config(cfg: &Config, private_pem: &str) -> Result<Self, ConfigError> {
        Self::from_pem(&vivid_config::pem(private_pem), &cfg.var("VIVID_CDN_KEY_PAIR_ID")?, &cfg.var("VIVID_CDN_URL")?)
            .map_err(|e| ConfigError::Malformed("VIVID_CDN_PRIVATE_KEY_SECRET_ARN", e.to_string()))
    }

    pub fn url_of(&self, key: &str) -> String {
        format!("{}/{key}", self.base_url)
    }
}

impl PlaybackSigner for CloudFrontSigner {
    fn sign(
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
        let policy_json = serde_json::to_vec(&policy).map_err(|e| SignError(e.to_string()))?;
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), &policy_json, &mut sig)
            .map_err(|_| SignError("RSA signing failed".into()))?;
        let (policy_b64, sig_b64) = (cf_b64(&policy_json), cf_b64(&sig));
        let signed_query =
            format!("Policy={policy_b64}&Signature={sig_b64}&Key-Pair-Id={}&Hash-Algorithm=SHA256", self.key_pair_id);
        let signed = |key: &str| format!("{}?{signed_query}", self.url_of(key));
        Ok(Playback {
            // With captions, the master that lists them as subtitles renditions.
            hls_url: outputs.captioned_master.as_deref().or(outputs.hls_master.as_deref()).map(signed),
            captions: outputs
                .captions
                .values()
                .map(|t| SignedCaption {
                    lang: t.lang.clone(),
                    label: t.label.clone(),
                    source: t.source,
                    url: signed(&layout::caption(video, &t.lang)),
                })
                .collect(),
            mp4_url: outputs.mp4.as_deref().map(signed),
            poster_url: outputs.poster(video).as_deref().map(signed),
            storyboard_url: outputs.storyboard.as_deref().map(signed),
            thumbnails: outputs.thumbnail_count.filter(|n| *n > 0).map(|count| Thumbnails {
                count,
                interval_seconds: THUMBNAIL_INTERVAL_SECS.unsigned_abs(),
                url_template: signed(&layout::thumbnail_template(video)),
            }),
            cookies: vec![
                ("CloudFront-Policy".into(), policy_b64),
                ("CloudFront-Signature".into(), sig_b64),
                ("CloudFront-Key-Pair-Id".into(), self.key_pair_id.clone()),
                ("CloudFront-Hash-Algorithm".into(), "SHA256".into()),
            ],
            signed_query,
            cookie_path: format!("/{}", layout::media_prefix(video)),
            expires_at: rfc3339_at(expires_at),
            lifetime_secs: lifetime.as_secs(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    use aws_lc_rs::{encoding::AsDer, signature::KeyPair as _};

    fn test_key() -> (RsaKeyPair, Vec<u8>) {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("key");
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("pkcs8").as_ref().to_vec();
        (pair, der)
    }

    #[test]
    fn a_grant_covers_its_video_until_it_expires_and_nothing_else() {
        let (pair, der) = test_key();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(&der));
        let signer = CloudFrontSigner::from_pem(&pem, "K2JCJMDEHXQW5F", "https://cdn.example").expect("signer");
        let video = VideoId::generate();
        let outputs = MediaOutputs { hls_master: Some(format!("media/{video}/hls/index.m3u8")), ..Default::default() };
        let p = signer.sign(&video, &outputs, 1_000, Duration::from_secs(600)).expect("signed");
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
}
