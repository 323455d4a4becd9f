//! Secrets Manager. A function's environment names the secret (`…_ARN`); the value is read once
//! per container — at init by the functions whose every request needs it ([`Secrets::read`],
//! [`Secrets::read_all`]), on the first request that needs it by the others
//! ([`Secrets::on_first_use`]) — and never logged. IAM grants each function `GetSecretValue` on
//! exactly the secrets it reads.

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use std::sync::Arc;

use vivid_config::{Config, ConfigError, FirstUse, OnDemand};

/// Reads secrets for one function.
#[derive(Clone)]
pub struct Secrets {
    client: Arc<OnDemand<aws_sdk_secretsmanager::Client>>,
}

impl Secrets {
    pub fn new(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self { client: Arc::new(OnDemand::new(cfg, aws_sdk_secretsmanager::Client::new)?) })
    }

    /// The string values of several secrets, read side by side: a cold start waits for one
    /// round trip to Secrets Manager, not one per secret.
    pub async fn read_all<const N: usize>(
        &self,
        cfg: &Config,
        vars: [&'static str; N],
    ) -> Result<[String; N], ConfigError> {
        let values = futures_util::future::try_join_all(vars.map(|var| self.read(cfg, var))).await?;
        <[String; N]>::try_from(values)
            .map_err(|_| ConfigError::Secret { name: vars[0], detail: "a secret went missing".into() })
    }

    /// The string value of the secret whose ARN the variable `var` holds.
    pub async fn read(&self, cfg: &Config, var: &'static str) -> Result<String, ConfigError> {
        self.read_arn(&cfg.var(var)?, var).await
    }

    /// The secret whose ARN the variable `var` holds, read by its first use (and again by the
    /// next use if that read failed). The variable is checked now: a function without it still
    /// fails at init.
    pub fn on_first_use(&self, cfg: &Config, var: &'static str) -> Result<FirstUse<String>, ConfigError> {
        let (secrets, arn) = (self.clone(), cfg.var(var)?);
        Ok(FirstUse::new(move || {
            let (secrets, arn) = (secrets.clone(), arn.clone());
            async move {
                let value = secrets.read_arn(&arn, var).await;
                if let Err(e) = &value {
                    tracing::warn!(secret = var, error = %e, "cannot read a secret on its first use");
                }
                value
            }
        }))
    }

    async fn read_arn(&self, arn: &str, var: &'static str) -> Result<String, ConfigError> {
        let out = self
            .client
            .get()
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| ConfigError::Secret { name: var, detail: DisplayErrorContext(e).to_string() })?;
        out.secret_string
            .filter(|s| !s.is_empty())
            .ok_or(ConfigError::Secret { name: var, detail: "the secret has no string value".into() })
    }
}
