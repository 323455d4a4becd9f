//! Configuration and dependencies, built once per process (Lambda init, the local gateway).

use std::sync::Arc;

use std::time::Duration;

use crate::{
    adapters::{
        dynamo::DynamoStore,
        mediaconvert::MediaConvert,
        s3::{Buckets, S3Media},
    },
    auth::{KeyError, TokenAudience, TokenIssuer, TokenVerifier},
    google::{GoogleOidc, GoogleSettings, IdentityProvider},
    http::Handler,
    media::MediaStore,
    model::VideoStore,
    model::{SpaceStore, UserStore},
    playback::PlaybackSigner,
    session::{SessionStore, Sessions},
    transcode::Transcoder,
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

/// Buckets and upload limits.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub buckets: Buckets,
    /// Path-style S3 URLs (the local emulator); virtual-hosted in AWS.
    pub path_style: bool,
    pub max_upload_bytes: u64,
    pub multipart_threshold: u64,
}

/// MediaConvert: the role its jobs run as, the queue, and (locally) its endpoint.
#[derive(Debug, Clone)]
pub struct TranscodeSettings {
    pub role_arn: String,
    pub queue: Option<String>,
    pub endpoint: Option<String>,
}

/// The CloudFront distribution and its signing key.
#[derive(Debug, Clone)]
pub struct CdnSettings {
    pub base_url: String,
    pub key_pair_id: String,
    pub private_key_pem: String,
    pub ttl: Duration,
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
    pub media: Option<MediaSettings>,
    pub transcode: Option<TranscodeSettings>,
    pub cdn: Option<CdnSettings>,
    pub webex: Option<crate::webex::WebexSettings>,
    /// The `webex-import` function, invoked asynchronously by the import route.
    pub webex_import_function: Option<String>,
}

fn var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(name))
}

fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number(name: &'static str, default: u64) -> Result<u64, ConfigError> {
    optional(name)
        .map(|v| v.parse().map_err(|_| ConfigError::Malformed(name, v)))
        .transpose()
        .map(|v| v.unwrap_or(default))
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
        let media = match optional("VIVID_RAW_BUCKET") {
            None => None,
            Some(raw) => Some(MediaSettings {
                buckets: Buckets { raw, media: var("VIVID_MEDIA_BUCKET")?, user: var("VIVID_USER_BUCKET")? },
                path_style: optional("VIVID_S3_PATH_STYLE").is_some_and(|v| v == "true"),
                max_upload_bytes: number("VIVID_MAX_UPLOAD_BYTES", 10 * 1024 * 1024 * 1024)?,
                multipart_threshold: number("VIVID_MULTIPART_THRESHOLD_BYTES", 100 * 1024 * 1024)?,
            }),
        };
        let transcode = optional("VIVID_MEDIACONVERT_ROLE_ARN").map(|role_arn| TranscodeSettings {
            role_arn,
            queue: optional("VIVID_MEDIACONVERT_QUEUE"),
            endpoint: optional("VIVID_MEDIACONVERT_ENDPOINT"),
        });
        let cdn = match optional("VIVID_CDN_URL") {
            None => None,
            Some(base_url) => Some(CdnSettings {
                base_url,
                key_pair_id: var("VIVID_CDN_KEY_PAIR_ID")?,
                private_key_pem: pem_from_env(&var("VIVID_CDN_PRIVATE_KEY")?),
                ttl: Duration::from_secs(number("VIVID_PLAYBACK_TTL_SECS", 3600)?),
            }),
        };
        let webex = match optional("VIVID_WEBEX_CLIENT_ID") {
            None => None,
            Some(client_id) => Some(crate::webex::WebexSettings {
                client_id,
                client_secret: var("VIVID_WEBEX_CLIENT_SECRET")?,
                authorize_url: optional("VIVID_WEBEX_AUTHORIZE_URL")
                    .unwrap_or_else(|| "https://webexapis.com/v1/authorize".to_owned()),
                api_base: optional("VIVID_WEBEX_API_BASE").unwrap_or_else(|| "https://webexapis.com/v1".to_owned()),
                redirect_uri: var("VIVID_WEBEX_REDIRECT_URI")?,
            }),
        };
        Ok(Self {
            media,
            transcode,
            cdn,
            webex,
            webex_import_function: optional("VIVID_WEBEX_IMPORT_FUNCTION"),
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
    media: Option<(Arc<S3Media>, MediaSettings)>,
    transcoder: Option<Arc<MediaConvert>>,
    playback: Option<Arc<PlaybackSigner>>,
    webex: Option<Arc<crate::webex::WebexHttp>>,
    invoker: Option<Arc<dyn crate::import::ImportInvoker>>,
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
        let media = settings.media.as_ref().map(|m| {
            let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(m.path_style).build();
            (Arc::new(S3Media::new(aws_sdk_s3::Client::from_conf(conf), m.buckets.clone())), m.clone())
        });
        let transcoder = settings.transcode.as_ref().map(|t| {
            let mut conf = aws_sdk_mediaconvert::config::Builder::from(sdk);
            if let Some(endpoint) = &t.endpoint {
                conf = conf.endpoint_url(endpoint);
            }
            Arc::new(MediaConvert::new(
                aws_sdk_mediaconvert::Client::from_conf(conf.build()),
                &t.role_arn,
                t.queue.clone(),
            ))
        });
        let playback = settings
            .cdn
            .as_ref()
            .map(|c| PlaybackSigner::from_pem(&c.private_key_pem, &c.key_pair_id, &c.base_url, c.ttl))
            .transpose()
            .map_err(|e| ConfigError::Malformed("VIVID_CDN_PRIVATE_KEY", e.to_string()))?
            .map(Arc::new);
        let webex = match &settings.webex {
            None => None,
            Some(w) => {
                let http = reqwest::Client::builder()
                    .connect_timeout(std::time::Duration::from_secs(5))
                    .build()
                    .map_err(|e| ConfigError::Http(e.to_string()))?;
                Some(Arc::new(crate::webex::WebexHttp::new(http, w.clone())))
            }
        };
        let invoker = settings.webex_import_function.as_ref().map(|function| {
            Arc::new(crate::import::LambdaInvoker {
                client: aws_sdk_lambda::Client::new(sdk),
                function: function.clone(),
            }) as Arc<dyn crate::import::ImportInvoker>
        });
        Ok(Self {
            media,
            transcoder,
            playback,
            webex,
            invoker,
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

    pub fn videos(&self) -> Arc<dyn VideoStore> {
        self.store.clone()
    }

    pub fn notes(&self) -> Arc<dyn crate::notes::NoteStore> {
        self.store.clone()
    }

    pub fn webex_store(&self) -> Arc<dyn crate::webex::WebexStore> {
        self.store.clone()
    }

    pub fn webex(&self) -> Result<Arc<dyn crate::webex::WebexApi>, ConfigError> {
        match &self.webex {
            Some(w) => Ok(w.clone()),
            None => Err(ConfigError::Missing("VIVID_WEBEX_CLIENT_ID")),
        }
    }

    pub fn invoker(&self) -> Result<Arc<dyn crate::import::ImportInvoker>, ConfigError> {
        self.invoker.clone().ok_or(ConfigError::Missing("VIVID_WEBEX_IMPORT_FUNCTION"))
    }

    /// Replaces how imports are started (the local stack runs them in-process).
    pub fn set_invoker(&mut self, invoker: Arc<dyn crate::import::ImportInvoker>) {
        self.invoker = Some(invoker);
    }

    pub fn media(&self) -> Result<Arc<dyn MediaStore>, ConfigError> {
        match &self.media {
            Some((m, _)) => Ok(m.clone()),
            None => Err(ConfigError::Missing("VIVID_RAW_BUCKET")),
        }
    }

    pub fn media_settings(&self) -> Result<MediaSettings, ConfigError> {
        self.media.as_ref().map(|(_, s)| s.clone()).ok_or(ConfigError::Missing("VIVID_RAW_BUCKET"))
    }

    pub fn transcoder(&self) -> Result<Arc<dyn Transcoder>, ConfigError> {
        match &self.transcoder {
            Some(t) => Ok(t.clone()),
            None => Err(ConfigError::Missing("VIVID_MEDIACONVERT_ROLE_ARN")),
        }
    }

    pub fn playback(&self) -> Result<Arc<PlaybackSigner>, ConfigError> {
        self.playback.clone().ok_or(ConfigError::Missing("VIVID_CDN_URL"))
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

/// The whole of an event function's `main`: tracing, configuration and clients once at init,
/// then the handler on the Lambda runtime.
pub async fn serve_event<H: crate::events::EventHandler + 'static>(
    build: fn(&Deps) -> Result<H, ConfigError>,
) -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let settings = Settings::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let deps = Deps::new(&sdk, &settings)?;
    let handler = Arc::new(build(&deps)?);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let handler = Arc::clone(&handler);
        async move {
            let span = tracing::info_span!("event", request_id = %event.context.request_id);
            tracing::Instrument::instrument(handler.handle(event.payload), span)
                .await
                .map_err(|e| lambda_runtime::Diagnostic::from(Box::new(e) as Box<dyn std::error::Error + Send + Sync>))
        }
    }))
    .await
}
