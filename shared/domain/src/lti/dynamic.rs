//! LTI Dynamic Registration 1.0, the platform's side as the tool calls it: the platform's
//! OpenID configuration, and the registration of the tool's configuration.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

/// What the tool needs of the platform's OpenID configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct PlatformConfig {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub registration_endpoint: String,
    #[serde(rename = "https://purl.imsglobal.org/spec/lti-platform-configuration", default)]
    pub platform: Option<Value>,
}

impl PlatformConfig {
    /// The platform's product name, for operators (`product_family_code`), else its issuer.
    pub fn name(&self) -> String {
        self.platform
            .as_ref()
            .and_then(|p| p.get("product_family_code"))
            .and_then(Value::as_str)
            .unwrap_or(&self.issuer)
            .chars()
            .take(100)
            .collect()
    }
}

/// The platform's two endpoints of a dynamic registration. Errors are the reason, for the
/// administrator (the platform's answer, never a secret).
#[async_trait]
pub trait PlatformRegistrar: Send + Sync {
    /// The configuration at `url` (with the registration token, when the platform gave one); its
    /// issuer must be a prefix of `url` and its endpoints fetchable.
    async fn configuration(&self, url: &str, token: Option<&str>) -> Result<PlatformConfig, String>;
    /// Posts the tool's configuration; answers the platform's registration.
    async fn register(&self, endpoint: &str, token: Option<&str>, tool: &Value) -> Result<Value, String>;
}
