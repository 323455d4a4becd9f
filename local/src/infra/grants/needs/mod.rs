//! What a call needs of IAM: the actions and the resources (ARNs) AWS authorizes each service's
//! requests against, read from the request alone. Where the resource can only be known by asking
//! the service (a KMS alias, a secret's name), the request's reference is returned and the proxy
//! resolves it.
mod keys;
mod media;
mod messaging;
mod storage;

use serde_json::Value;

pub use self::{keys::*, media::*, messaging::*, storage::*};

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

/// A JSON body (`null` when it is none).
fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_default()
}

/// The operation of an `X-Amz-Target` (`DynamoDB_20120810.PutItem` → `PutItem`).
pub fn operation(target: &str) -> &str {
    target.rsplit('.').next().unwrap_or(target)
}
