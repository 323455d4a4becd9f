//! Configuration and dependencies, built once per process (Lambda init, the local gateway).

use std::sync::Arc;

use crate::{
    adapters::dynamo::DynamoStore,
    auth::{KeyError, TokenAudience, TokenVerifier},
    http::Handler,
    model::{SpaceStore, UserStore},
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// What a function needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The single DynamoDB table.
    pub table_name: String,
    /// PEM of the ES256 public key that verifies access tokens.
    pub jwt_public_key: String,
    pub token_audience: TokenAudience,
}

fn var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// PEM from an environment value: accepts real newlines or `\n` escapes (CloudFormation
/// parameters are one line).
pub fn pem_from_env(value: &str) -> String {
    value.replace("\\n", "\n")
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: var("VIVID_TABLE_NAME")?,
            jwt_public_key: pem_from_env(&var("VIVID_JWT_PUBLIC_KEY")?),
            token_audience: TokenAudience {
                issuer: var("VIVID_JWT_ISSUER")?,
                audience: var("VIVID_JWT_AUDIENCE")?,
            },
        })
    }
}

/// The adapters, built once. Handlers take the ports they use.
pub struct Deps {
    verifier: Arc<TokenVerifier>,
    store: Arc<DynamoStore>,
}

impl Deps {
    pub fn new(sdk: &aws_config::SdkConfig, settings: &Settings) -> Result<Self, ConfigError> {
        let verifier = TokenVerifier::from_public_pem(settings.jwt_public_key.as_bytes(), &settings.token_audience)?;
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        Ok(Self {
            verifier: Arc::new(verifier),
            store: Arc::new(DynamoStore::new(dynamo, &settings.table_name)),
        })
    }

    pub fn verifier(&self) -> Arc<TokenVerifier> {
        Arc::clone(&self.verifier)
    }

    pub fn spaces(&self) -> Arc<dyn SpaceStore> {
        self.store.clone()
    }

    pub fn users(&self) -> Arc<dyn UserStore> {
        self.store.clone()
    }
}

/// The whole of an HTTP function's `main`: tracing, configuration and clients once at init,
/// then the handler on the Lambda runtime.
pub async fn serve_http<H: Handler + 'static>(build: fn(&Deps) -> H) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let settings = Settings::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let deps = Deps::new(&sdk, &settings)?;
    crate::http::run(Arc::new(build(&deps))).await
}
