//! LTI for tests: [`RsaToolSigner`], a tool key (RS256 over an RSA 2048 key made for the run,
//! with its JWKS; in AWS the tool key is a KMS key, `vivid_kms::KmsToolSigner`), and
//! [`LtiPlatform`], an LMS's services (`tests/lti/services.py`, on the PyPI library
//! `lti1p3platform`) in a process of its own.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::KeySize,
    signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use vivid_domain::lti::{
    services::ServiceClient,
    signer::{SignError, ToolSigner},
};

pub struct RsaToolSigner {
    kid: String,
    pair: RsaKeyPair,
}

impl RsaToolSigner {
    /// A fresh key named `kid` (two signers may share a kid: a forger's key under the real one's
    /// name).
    pub fn new(kid: &str) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
        Self { kid: kid.to_owned(), pair }
    }
}

#[async_trait::async_trait]
impl ToolSigner for RsaToolSigner {
    async fn sign(&self, claims: &Map<String, Value>) -> Result<String, SignError> {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
        );
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .map_err(|e| SignError(e.to_string()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    async fn jwks(&self) -> Result<Value, SignError> {
        let public = self.pair.public_key();
        Ok(json!({ "keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }]}))
    }
}

/// The client id the platform gave the tool.
pub const CLIENT_ID: &str = "vivid-tool";

/// An LMS's token endpoint, NRPS and AGS: `tests/lti/services.py` run by the repository's
/// `.venv` (scripts/venv.sh installs `lti1p3platform`), ended when dropped.
pub struct LtiPlatform {
    child: Child,
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    http: reqwest::Client,
}

impl Drop for LtiPlatform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LtiPlatform {
    /// Starts the platform with the tool registered by `signer`'s JWKS, as [`CLIENT_ID`].
    pub async fn start(signer: &dyn ToolSigner) -> Self {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut child = Command::new(format!("{root}/.venv/bin/python"))
            .arg(format!("{root}/tests/lti/services.py"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("the LTI platform starts (.venv with lti1p3platform: scripts/venv.sh)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("its address");
        let platform = Self { child, base: line.trim().to_owned(), http: reqwest::Client::new() };
        let jwks = signer.jwks().await.expect("jwks");
        let url = format!("{}/_test/tool", platform.base);
        let resp = platform.http.post(url).json(&json!({ "clientId": CLIENT_ID, "jwks": jwks })).send().await;
        assert!(resp.expect("the tool registered").status().is_success());
        platform
    }

    /// Sets a course's roster (NRPS members: `user_id`, `roles`, `status`, ...).
    pub async fn set_roster(&self, context: &str, members: Value) {
        let url = format!("{}/_test/contexts/{context}/members", self.base);
        let resp = self.http.put(url).json(&members).send().await.expect("roster set");
        assert!(resp.status().is_success());
    }

    /// Deletes a line item (`id`, its URL), as an instructor deleting the gradebook column.
    pub async fn delete_line_item(&self, id: &str) {
        let url = format!("{}/_test/lineitems", self.base);
        let resp = self.http.delete(url).json(&json!({ "id": id })).send().await.expect("deleted");
        assert!(resp.status().is_success());
    }

    /// What the platform holds: `scores`, `lineitems` or `stats`.
    pub async fn read(&self, what: &str) -> Value {
        let resp = self.http.get(format!("{}/_test/{what}", self.base)).send().await.expect("read back");
        resp.json().await.expect("json")
    }

    /// The course's NRPS URL, `limit` members a page.
    pub fn memberships_url(&self, context: &str, limit: u32) -> String {
        format!("{}/contexts/{context}/memberships?limit={limit}", self.base)
    }

    /// The course's AGS line-item container.
    pub fn lineitems_url(&self, context: &str) -> String {
        format!("{}/contexts/{context}/lineitems", self.base)
    }

    /// The tool as the platform knows it.
    pub fn client(&self) -> ServiceClient {
        ServiceClient { token_url: format!("{}/token", self.base), client_id: CLIENT_ID.into(), audience: None }
    }
}
