//! Seals connection tokens with a KMS key before they reach the table. The encryption context
//! binds each ciphertext to its user: a token copied onto another user's item does not open.

use async_trait::async_trait;
use aws_sdk_kms::{error::DisplayErrorContext, primitives::Blob};
use vivid_config::{Config, ConfigError, OnDemand};
use vivid_domain::{
    connectors::{CipherError, TokenCipher},
    types::UserId,
};

pub mod signer;

const CONTEXT_KEY: &str = "userId";

pub struct KmsCipher {
    client: OnDemand<aws_sdk_kms::Client>,
    key_id: String,
}

impl KmsCipher {
    /// The key named by `VIVID_TOKEN_KEY_ARN`.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self { client: OnDemand::new(cfg, aws_sdk_kms::Client::new)?, key_id: cfg.var("VIVID_TOKEN_KEY_ARN")? })
    }
}

fn failed(e: impl std::fmt::Display) -> CipherError {
    CipherError(e.to_string())
}

#[async_trait]
impl TokenCipher for KmsCipher {
    async fn seal(&self, user: &UserId, plaintext: &[u8]) -> Result<Vec<u8>, CipherError> {
        let out = self
            .client
            .get()
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext))
            .encryption_context(CONTEXT_KEY, user.as_str())
            .send()
            .await
            .map_err(|e| failed(DisplayErrorContext(e)))?;
        out.ciphertext_blob.map(Blob::into_inner).ok_or_else(|| failed("KMS returned no ciphertext"))
    }

    async fn open(&self, user: &UserId, sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        let out = self
            .client
            .get()
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(sealed))
            .encryption_context(CONTEXT_KEY, user.as_str())
            .send()
            .await
            .map_err(|e| failed(DisplayErrorContext(e)))?;
        out.plaintext.map(Blob::into_inner).ok_or_else(|| failed("KMS returned no plaintext"))
    }
}
