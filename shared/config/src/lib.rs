//! A function's configuration, read once at init: the environment the template gives it (names,
//! ARNs and URLs — secrets are read from the secret store by the functions that use them), and
//! the AWS SDK configuration. The local stack hands each function the environment the template
//! declares for it, so a variable missing from the template fails on a laptop too.

use std::{collections::HashMap, sync::Arc};

mod first_use;
mod on_demand;
pub mod telemetry;
pub mod tls;

pub use first_use::FirstUse;
pub use on_demand::OnDemand;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} is malformed: {1}")]
    Malformed(&'static str, String),
    #[error("secret {name}: {detail}")]
    Secret { name: &'static str, detail: String },
    #[error("cannot build {what}: {detail}")]
    Client { what: &'static str, detail: String },
    #[error("the function was started without the AWS SDK configuration (Config::from_process_env)")]
    NoSdk,
}

impl ConfigError {
    /// A secret that could not be read now (throttled, unreachable, not granted yet): read on a
    /// request's behalf, the request may succeed when repeated (503, not 500).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Secret { .. })
    }
}

/// Where variables come from: the process in Lambda, the template's declaration locally.
pub trait Env: Send + Sync {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// Everything a function's wiring reads.
#[derive(Clone)]
pub struct Config {
    env: Arc<dyn Env>,
    sdk: Option<aws_types::SdkConfig>,
}

impl Config {
    pub fn new(env: Arc<dyn Env>, sdk: aws_types::SdkConfig) -> Self {
        Self { env, sdk: Some(sdk) }
    }

    /// Lambda's configuration: the process environment and the default AWS chain (the
    /// function's role, its region), with the HTTPS client of [`tls`]: its connector built by the
    /// first request, trusting the roots `VIVID_TLS_TRUST` names (AWS's, compiled in, when unset;
    /// [`tls::Trust::from_var`]). A value it does not know stops the function here, at init.
    pub async fn from_process() -> Result<Self, ConfigError> {
        let trust = tls::Trust::from_var(ProcessEnv.get(tls::TRUST_VAR).as_deref())?;
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(tls::aws_https_client_with(trust)?)
            .load()
            .await;
        Ok(Self::new(Arc::new(ProcessEnv), sdk))
    }

    /// The process environment alone, for a function that calls no AWS service (`no-route`):
    /// it neither pays for the default chain at init nor links `aws-config`.
    pub fn from_process_env() -> Self {
        Self { env: Arc::new(ProcessEnv), sdk: None }
    }

    /// The AWS SDK configuration; an error for a configuration made without one.
    pub fn sdk(&self) -> Result<&aws_types::SdkConfig, ConfigError> {
        self.sdk.as_ref().ok_or(ConfigError::NoSdk)
    }

    /// A variable that must be set and not empty.
    pub fn var(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    /// A variable that may be absent (or empty, which CloudFormation conditions produce).
    pub fn optional(&self, name: &str) -> Option<String> {
        self.env.get(name).filter(|v| !v.trim().is_empty())
    }

    /// A variable parsed as `T`, `None` when absent.
    pub fn parsed<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.optional(name)
            .map(|v| v.parse().map_err(|e: T::Err| ConfigError::Malformed(name, e.to_string())))
            .transpose()
    }

    /// A whole number, `default` when absent.
    pub fn number(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        self.optional(name)
            .map(|v| v.trim().parse().map_err(|_| ConfigError::Malformed(name, v)))
            .transpose()
            .map(|v| v.unwrap_or(default))
    }

    /// A comma-separated list (empty entries dropped).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.optional(name)
            .unwrap_or_default()
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A flag: `true` only when set to `true`.
    pub fn flag(&self, name: &str) -> bool {
        self.optional(name).is_some_and(|v| v.trim() == "true")
    }
}

/// PEM from a one-line value: accepts real newlines or `\n` escapes (CloudFormation parameters
/// and JSON strings are one line).
pub fn pem(value: &str) -> String {
    value.replace("\\n", "\n")
}
