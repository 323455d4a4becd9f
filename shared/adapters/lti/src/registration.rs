//! LTI Dynamic Registration 1.0, the tool's two calls: the platform's OpenID configuration
//! (fetched from the URL the platform handed over) and the registration POST of the tool's
//! configuration to its `registration_endpoint`, with the platform's `registration_token`.

use async_trait::async_trait;
use serde_json::Value;
use vivid_domain::lti::dynamic::{PlatformConfig, PlatformRegistrar};

/// The largest configuration or registration answer read.
const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Default)]
pub struct HttpPlatform {
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    loopback_http: bool,
}

impl HttpPlatform {
    /// `loopback_http`: a platform on `http://127.0.0.1`, or at a private address, is reached
    /// (the local stack only).
    pub fn new(loopback_http: bool) -> Self {
        Self { loopback_http, ..Self::default() }
    }

    fn http(&self) -> Result<&reqwest::Client, String> {
        self.http.get_or_init(|| crate::client(self.loopback_http)).as_ref().map_err(Clone::clone)
    }

    async fn read(resp: reqwest::Response, what: &str) -> Result<Value, String> {
        let status = resp.status();
        let body = crate::read_capped(resp, MAX_BODY_BYTES, what).await?;
        if !status.is_success() {
            return Err(format!("{what} answered {status}"));
        }
        serde_json::from_slice(&body).map_err(|e| format!("{what} is unreadable: {e}"))
    }
}

#[async_trait]
impl PlatformRegistrar for HttpPlatform {
    /// The platform's configuration at `url`; its issuer must be the URL's origin or a prefix
    /// of it, as the specification requires (a page cannot hand over another platform's).
    async fn configuration(&self, url: &str, token: Option<&str>) -> Result<PlatformConfig, String> {
        if !crate::fetchable(url, self.loopback_http) {
            return Err("openid_configuration must be an https URL".into());
        }
        if !crate::public_host(url, self.loopback_http) {
            return Err("openid_configuration must be at a public address".into());
        }
        let mut req = self.http()?.get(url).header("accept", "application/json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp =
            req.send().await.map_err(|e| format!("the platform's configuration: {}", vivid_http::describe(e)))?;
        let value = Self::read(resp, "the platform's configuration").await?;
        let config: PlatformConfig =
            serde_json::from_value(value).map_err(|e| format!("the platform's configuration: {e}"))?;
        if !crate::issuer_serves(&config.issuer, url) {
            return Err("the configuration's issuer is not the origin it was fetched from".into());
        }
        for endpoint in
            [&config.authorization_endpoint, &config.token_endpoint, &config.jwks_uri, &config.registration_endpoint]
        {
            if !crate::fetchable(endpoint, self.loopback_http) {
                return Err("the platform's endpoints must be https URLs".into());
            }
        }
        // The tool calls these (the browser goes to the authorization endpoint).
        for endpoint in [&config.token_endpoint, &config.jwks_uri, &config.registration_endpoint] {
            if !crate::public_host(endpoint, self.loopback_http) {
                return Err("the platform's endpoints must be at public addresses".into());
            }
        }
        Ok(config)
    }

    /// POSTs the tool's configuration; answers the platform's registration (its `client_id`,
    /// the tool configuration with its `deployment_id`).
    async fn register(&self, endpoint: &str, token: Option<&str>, tool: &Value) -> Result<Value, String> {
        let mut req = self.http()?.post(endpoint).json(tool);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| format!("the platform's registration: {}", vivid_http::describe(e)))?;
        Self::read(resp, "the platform's registration").await
    }
}
