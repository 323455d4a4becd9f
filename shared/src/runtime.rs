//! Configuration and dependencies, built once per process (Lambda init, the local gateway).

use std::sync::Arc;

use crate::{
    adapters::dynamo::DynamoStore,
    auth::{KeyError, TokenAudience, TokenIssuer, TokenVerifier},
    google::{GoogleOidc, GoogleSettings, IdentityProvider},
    http::Handler,
    model::{SpaceStore, UserStore},
    session::{SessionStore, Sessions},
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} is malformed: {1}")]
    Malformed(&'static str, String),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// Where the web front end is, for the sign-in redirects.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Where a finished Google sign-in lands when no allowed `returnTo` was given.
    pub frontend_url: String,
    /// Origins (`https://app.example.com`) a `returnTo` may point at.
    pub allowed_return_origins: Vec<String>,
}

impl WebSettings {
    /// `candidate` when it lies on an allowed origin, else `None`.
    pub fn allowed_return(&self, candidate: &str) -> Option<String> {
        let ok = self.allowed_return_origins.iter().any(|origin| {
            candidate
                .strip_prefix(origin.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
        });
        (ok && candidate.len() <= 2048 && !candidate.chars().any(char::is_control)).then(|| candidate.to_owned())
    }
}

/// What a function needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The single DynamoDB table.
    pub table_name: String,
    /// PEM of the ES256 public key that verifies access tokens.
    pub jwt_public_key: String,
    /// PEM of the ES256 private key; only the token-issuing functions have it.
    pub jwt_private_key: Option<String>,
    pub token_audience: TokenAudience,
    pub google: Option<GoogleSettings>,
    pub web: Option<WebSettings>,
}

fn var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(name))
}

fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// PEM from an environment value: accepts real newlines or `\n` escapes (CloudFormation
/// parameters are one line).
pub fn pem_from_env(value: &str) -> String {
    value.replace("\\n", "\n")
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let google = match optional("VIVID_GOOGLE_CLIENT_ID") {
            None => None,
            Some(client_id) => Some(GoogleSettings {
                client_id,
                client_secret: var("VIVID_GOOGLE_CLIENT_SECRET")?,
                authorize_url: optional("VIVID_GOOGLE_AUTHORIZE_URL")
                    .unwrap_or_else(|| "https://accounts.google.com/o/oauth2/v2/auth".to_owned()),
                token_url: optional("VIVID_GOOGLE_TOKEN_URL")
                    .unwrap_or_else(|| "https://oauth2.googleapis.com/token".to_owned()),
                jwks_url: optional("VIVID_GOOGLE_JWKS_URL")
                    .unwrap_or_else(|| "https://www.googleapis.com/oauth2/v3/certs".to_owned()),
                redirect_uri: var("VIVID_GOOGLE_REDIRECT_URI")?,
            }),
        };
        let web = optional("VIVID_FRONTEND_URL").map(|frontend_url| WebSettings {
            allowed_return_origins: optional("VIVID_ALLOWED_RETURN_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            frontend_url,
        });
        Ok(Self {
            table_name: var("VIVID_TABLE_NAME")?,
            jwt_public_key: pem_from_env(&var("VIVID_JWT_PUBLIC_KEY")?),
            jwt_private_key: optional("VIVID_JWT_PRIVATE_KEY").map(|k| pem_from_env(&k)),
            token_audience: TokenAudience { issuer: var("VIVID_JWT_ISSUER")?, audience: var("VIVID_JWT_AUDIENCE")? },
            google,
            web,
        })
    }
}

/// The adapters, built once. Handlers take the ports they use; a handler whose port is not
/// configured fails at init, loudly.
pub struct Deps {
    verifier: Arc<TokenVerifier>,
    issuer: Option<Arc<TokenIssuer>>,
    store: Arc<DynamoStore>,
    google: Option<Arc<GoogleOidc>>,
    web: Option<WebSettings>,
}

impl Deps {
    pub fn new(sdk: &aws_config::SdkConfig, settings: &Settings) -> Result<Self, ConfigError> {
        let verifier = TokenVerifier::from_public_pem(settings.jwt_public_key.as_bytes(), &settings.token_audience)?;
        let issuer = settings
            .jwt_private_key
            .as_ref()
            .map(|pem| TokenIssuer::from_private_pem(pem.as_bytes(), settings.token_audience.clone()))
            .transpose()?;
        let google = match &settings.google {
            None => None,
            Some(g) => {
                let http = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(5))
                    .build()
                    .map_err(|e| ConfigError::Http(e.to_string()))?;
                Some(Arc::new(GoogleOidc::new(http, g.clone())))
            }
        };
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        Ok(Self {
            verifier: Arc::new(verifier),
            issuer: issuer.map(Arc::new),
            store: Arc::new(DynamoStore::new(dynamo, &settings.table_name)),
            google,
            web: settings.web.clone(),
        })
    }

    pub fn verifier(&self) -> Arc<TokenVerifier> {
        Arc::clone(&self.verifier)
    }

    pub fn issuer(&self) -> Result<Arc<TokenIssuer>, ConfigError> {
        self.issuer.clone().ok_or(ConfigError::Missing("VIVID_JWT_PRIVATE_KEY"))
    }

    pub fn spaces(&self) -> Arc<dyn SpaceStore> {
        self.store.clone()
    }

    pub fn users(&self) -> Arc<dyn UserStore> {
        self.store.clone()
    }

    pub fn session_store(&self) -> Arc<dyn SessionStore> {
        self.store.clone()
    }

    pub fn sessions(&self) -> Result<Sessions, ConfigError> {
        Ok(Sessions::new(self.session_store(), self.users(), self.issuer()?))
    }

    pub fn identity_provider(&self) -> Result<Arc<dyn IdentityProvider>, ConfigError> {
        match &self.google {
            Some(g) => Ok(g.clone()),
            None => Err(ConfigError::Missing("VIVID_GOOGLE_CLIENT_ID")),
        }
    }

    pub fn web(&self) -> Result<WebSettings, ConfigError> {
        self.web.clone().ok_or(ConfigError::Missing("VIVID_FRONTEND_URL"))
    }
}

/// The whole of an HTTP function's `main`: tracing, configuration and clients once at init,
/// then the handler on the Lambda runtime.
pub async fn serve_http<H: Handler + 'static>(
    build: fn(&Deps) -> Result<H, ConfigError>,
) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let settings = Settings::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let deps = Deps::new(&sdk, &settings)?;
    crate::http::run(Arc::new(build(&deps)?)).await
}
