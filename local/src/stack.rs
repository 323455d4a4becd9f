//! Starts the local stack on top of a running emulator: resources from the template, dev keys,
//! and the gateway with every route's real handler.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use aws_sdk_dynamodb::{
    config::{Credentials, Region},
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
        ScalarAttributeType, TimeToLiveSpecification,
    },
};
use tokio::{net::TcpListener, task::JoinHandle};
use vivid_shared::{
    adapters::s3::Buckets,
    auth::{TokenAudience, TokenIssuer},
    events::{EventHandler, event_function},
    google::GoogleSettings,
    import::{ImportInvoker, ImportJob},
    routes::http_function,
    runtime::{CdnSettings, Deps, MediaSettings, Settings, TranscodeSettings, WebSettings},
    webex::WebexSettings,
};

use crate::{
    delivery::Delivery,
    emulator::SerialProxy,
    ffmpeg::Runner,
    gateway::{BoundRoute, GatewayState, serve},
    google::GoogleStandIn,
    local_routes::LocalRoutes,
    mediaconvert::MediaConvertStandIn,
    template::{TableDef, Template, TemplateError},
    webex::WebexStandIn,
};

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("route {route} is served by {function}, which has no handler in vivid_shared::routes")]
    NoHandler { route: String, function: String },
    #[error("function {0} has a handler but no route in template.yaml")]
    NoRoute(String),
    #[error("cannot create the table: {0}")]
    Table(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A fresh ES256 key pair for the local issuer (PKCS#8 private PEM, SPKI public PEM).
pub struct DevKeys {
    pub private_pem: String,
    pub public_pem: String,
}

impl DevKeys {
    pub fn generate() -> Result<Self, StackError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| StackError::Config(e.to_string()))?;
        Ok(Self { private_pem: pair.serialize_pem(), public_pem: pair.public_key_pem() })
    }
}

pub struct StackConfig {
    pub template: PathBuf,
    pub aws_endpoint: String,
    /// The table; the buckets are named after it (`{table}-raw`, `-media`, `-user`).
    pub table_name: String,
    pub bind: SocketAddr,
    /// Uploads above this size are multipart.
    pub multipart_threshold: u64,
    pub max_upload_bytes: u64,
    /// Deliver S3 and job-state events to the event functions, and run MediaConvert jobs with
    /// ffmpeg (the whole pipeline, as `make dev` runs it). Off, tests drive the consumers.
    pub pipeline: bool,
}

impl StackConfig {
    /// A stack on `bind` with the production upload limits.
    pub fn new(template: PathBuf, aws_endpoint: String, table_name: String, bind: SocketAddr) -> Self {
        Self {
            template,
            aws_endpoint,
            table_name,
            bind,
            multipart_threshold: 100 * 1024 * 1024,
            max_upload_bytes: 10 * 1024 * 1024 * 1024,
            pipeline: true,
        }
    }
}

/// The running stack. Dropping it stops the gateway.
pub struct Stack {
    pub addr: SocketAddr,
    pub sdk: aws_config::SdkConfig,
    pub settings: Settings,
    pub keys: DevKeys,
    pub issuer: Arc<TokenIssuer>,
    pub deps: Arc<Deps>,
    pub google: Arc<GoogleStandIn>,
    pub mediaconvert: Arc<MediaConvertStandIn>,
    pub webex: Arc<WebexStandIn>,
    pub buckets: Buckets,
    _delivery: Option<Delivery>,
    _proxy: SerialProxy,
    server: JoinHandle<()>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// SDK configuration for the emulator: fixed region and dummy credentials.
pub async fn emulator_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "vivid-local"))
        .load()
        .await
}

pub const LOCAL_ISSUER: &str = "https://vivid.local";
pub const LOCAL_AUDIENCE: &str = "vivid-local";
/// Where the local stack serves media with CloudFront's access rule.
pub const CDN_PATH: &str = "/_local/cdn";
/// A front end run next to the stack (a dev server) may be returned to after sign-in.
pub const LOCAL_FRONTEND_ORIGIN: &str = "http://localhost:5173";

impl Stack {
    pub async fn start(cfg: StackConfig) -> Result<Self, StackError> {
        let template = Template::load(&cfg.template)?;
        // Every AWS call goes through the proxy that keeps moto's DynamoDB isolated.
        let proxy = SerialProxy::start(&cfg.aws_endpoint).await?;
        let sdk = emulator_sdk_config(&proxy.endpoint).await;
        create_table(&aws_sdk_dynamodb::Client::new(&sdk), &template.table()?, &cfg.table_name).await?;

        // Bind first: the Google redirect URI and the front end live on the gateway's address.
        let listener = TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let google = Arc::new(GoogleStandIn::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?);
        let mediaconvert = Arc::new(MediaConvertStandIn::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?);
        let webex = Arc::new(WebexStandIn::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?);
        let buckets = Buckets {
            raw: format!("{}-raw", cfg.table_name),
            media: format!("{}-media", cfg.table_name),
            user: format!("{}-user", cfg.table_name),
        };
        create_buckets(&sdk, &buckets).await?;
        let cdn_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|e| StackError::Config(format!("CDN key: {e}")))?;

        let keys = DevKeys::generate()?;
        let audience = TokenAudience { issuer: LOCAL_ISSUER.to_owned(), audience: LOCAL_AUDIENCE.to_owned() };
        let issuer = TokenIssuer::from_private_pem(keys.private_pem.as_bytes(), audience.clone())
            .map_err(|e| StackError::Config(e.to_string()))?;
        let settings = Settings {
            table_name: cfg.table_name.clone(),
            jwt_public_key: keys.public_pem.clone(),
            jwt_private_key: Some(keys.private_pem.clone()),
            token_audience: audience,
            google: Some(GoogleSettings {
                client_id: google.client_id.clone(),
                client_secret: google.client_secret.clone(),
                authorize_url: google.authorize_url(),
                token_url: google.token_url(),
                jwks_url: google.jwks_url(),
                redirect_uri: format!("{base}/auth/google/callback"),
            }),
            media: Some(MediaSettings {
                buckets: buckets.clone(),
                path_style: true,
                max_upload_bytes: cfg.max_upload_bytes,
                multipart_threshold: cfg.multipart_threshold,
            }),
            transcode: Some(TranscodeSettings {
                role_arn: "arn:aws:iam::000000000000:role/vivid-local-mediaconvert".into(),
                queue: None,
                endpoint: Some(mediaconvert.endpoint.clone()),
            }),
            cdn: Some(CdnSettings {
                base_url: format!("{base}{CDN_PATH}"),
                key_pair_id: "KLOCALCDN".into(),
                private_key_pem: cdn_key.serialize_pem(),
                ttl: std::time::Duration::from_secs(3600),
            }),
            webex: Some(WebexSettings {
                client_id: webex.client_id.clone(),
                client_secret: webex.client_secret.clone(),
                authorize_url: webex.authorize_url(),
                api_base: webex.api_base(),
                redirect_uri: format!("{base}/_local/webex-connected"),
            }),
            webex_import_function: None,
            web: Some(WebSettings {
                frontend_url: format!("{base}/_local/signed-in"),
                allowed_return_origins: vec![base.clone(), LOCAL_FRONTEND_ORIGIN.to_owned()],
            }),
        };
        let mut deps = Deps::new(&sdk, &settings).map_err(|e| StackError::Config(e.to_string()))?;
        // Imports run in-process: the same handler `webex-import` runs in Lambda.
        let import_handler = Arc::new(std::sync::OnceLock::new());
        deps.set_invoker(Arc::new(LocalInvoker(Arc::clone(&import_handler))));
        let deps = Arc::new(deps);
        let import =
            event_function("webex-import").ok_or_else(|| StackError::Config("no webex-import handler".into()))?;
        let _ = import_handler.set((import.build)(&deps).map_err(|e| StackError::Config(e.to_string()))?);

        let routes = bind_routes(&template, &deps)?;
        let delivery = if cfg.pipeline {
            let delivery = Delivery::start(&sdk, &template, &buckets, &cfg.table_name, Arc::clone(&deps)).await?;
            let s3 =
                aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
            mediaconvert.run_jobs_with(Runner { s3, emit: delivery.events.clone() });
            Some(delivery)
        } else {
            None
        };
        let issuer = Arc::new(issuer);
        let state = Arc::new(GatewayState {
            routes,
            local: LocalRoutes {
                users: deps.users(),
                issuer: Arc::clone(&issuer),
                google: Arc::clone(&google),
                media: deps.media().map_err(|e| StackError::Config(e.to_string()))?,
                cdn_public_der: cdn_key.public_key_raw().to_vec(),
                base: base.clone(),
            },
        });
        let app = axum::Router::new().fallback(serve).with_state(state);
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "gateway stopped");
            }
        });
        Ok(Self {
            addr,
            sdk,
            settings,
            keys,
            issuer,
            deps,
            google,
            mediaconvert,
            webex,
            buckets,
            _delivery: delivery,
            _proxy: proxy,
            server,
        })
    }
}

/// Every template route bound to its handler; fails when a route has no handler or a handler
/// has no route.
pub fn bind_routes(template: &Template, deps: &Deps) -> Result<Vec<BoundRoute>, StackError> {
    let routes = template.routes()?;
    for f in vivid_shared::routes::HTTP_FUNCTIONS {
        if !routes.iter().any(|r| r.function == f.name) {
            return Err(StackError::NoRoute(f.name.to_owned()));
        }
    }
    routes
        .into_iter()
        .map(|r| {
            let f = http_function(&r.function)
                .ok_or_else(|| StackError::NoHandler { route: r.key(), function: r.function.clone() })?;
            let handler = (f.build)(deps).map_err(|e| StackError::Config(format!("{}: {e}", r.function)))?;
            Ok(BoundRoute { handler, route: r })
        })
        .collect()
}

/// Creates the template's table under `name` (replacing nothing: an existing table is kept).
pub async fn create_table(client: &aws_sdk_dynamodb::Client, def: &TableDef, name: &str) -> Result<(), StackError> {
    let err = |e: &dyn std::fmt::Display| StackError::Table(e.to_string());
    let key = |k: &crate::template::KeyDef| {
        KeySchemaElement::builder()
            .attribute_name(&k.name)
            .key_type(KeyType::from(k.kind.as_str()))
            .build()
            .map_err(|e| err(&e))
    };
    let mut req = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    for (attr, kind) in &def.attributes {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(|e| err(&e))?,
        );
    }
    for k in &def.keys {
        req = req.key_schema(key(k)?);
    }
    for index in &def.indexes {
        let mut gsi = GlobalSecondaryIndex::builder().index_name(&index.name).projection(
            Projection::builder()
                .projection_type(ProjectionType::from(index.projection.as_str()))
                .set_non_key_attributes(
                    (!index.non_key_attributes.is_empty()).then(|| index.non_key_attributes.clone()),
                )
                .build(),
        );
        for k in &index.keys {
            gsi = gsi.key_schema(key(k)?);
        }
        req = req.global_secondary_indexes(gsi.build().map_err(|e| err(&e))?);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
        Err(e) => return Err(err(&aws_sdk_dynamodb::error::DisplayErrorContext(e))),
    }
    if let Some(attr) = &def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name(attr).enabled(true).build().map_err(|e| err(&e))?,
            )
            .send()
            .await
            .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    Ok(())
}

/// The repository root, for the binary (its working directory or above) and the tests.
pub fn find_repo_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join("template.yaml").is_file()).map(Path::to_path_buf)
}

/// Creates the three buckets in the emulator (an existing one is kept).
pub async fn create_buckets(sdk: &aws_config::SdkConfig, buckets: &Buckets) -> Result<(), StackError> {
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
    for name in [&buckets.raw, &buckets.media, &buckets.user] {
        match s3.create_bucket().bucket(name).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
            Err(e) => {
                return Err(StackError::Config(format!(
                    "bucket {name}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )));
            }
        }
    }
    Ok(())
}

/// Starts imports in-process, without waiting, like Lambda's `Event` invocation.
struct LocalInvoker(Arc<std::sync::OnceLock<Arc<dyn EventHandler>>>);

#[async_trait::async_trait]
impl ImportInvoker for LocalInvoker {
    async fn start(&self, job: &ImportJob) -> Result<(), vivid_shared::error::ApiError> {
        let handler =
            self.0.get().cloned().ok_or(vivid_shared::error::ApiError::internal("the import handler is not ready"))?;
        let event = serde_json::to_value(job).map_err(vivid_shared::error::ApiError::internal)?;
        tokio::spawn(async move {
            if let Err(e) = handler.handle(event).await {
                tracing::warn!(error = %e, "import failed");
            }
        });
        Ok(())
    }
}
