//! The tool's signing key. In AWS it is a KMS asymmetric key (RSA 2048, `SIGN_VERIFY`): the
//! private half never leaves KMS, and the public half is published as the tool's JWKS for
//! platforms to verify what the tool signs.

use async_trait::async_trait;
use serde_json::{Map, Value};

/// Why the tool could not sign or publish its key.
#[derive(Debug, thiserror::Error)]
#[error("tool key: {0}")]
pub struct SignError(pub String);

/// Signs the tool's JWTs (RS256, as LTI 1.3 requires) and publishes their public key.
#[async_trait]
pub trait ToolSigner: Send + Sync {
    /// A compact JWS (`header.claims.signature`, RS256) over `claims`, its header naming the
    /// key by `kid`.
    async fn sign(&self, claims: &Map<String, Value>) -> Result<String, SignError>;

    /// The public key set (`{"keys": [...]}`, RFC 7517) that verifies what [`Self::sign`] signs.
    async fn jwks(&self) -> Result<Value, SignError>;
}
