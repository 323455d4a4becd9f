//! Starts the local stack on top of a running emulator: the template's table, buckets, secrets
//! and key created in the emulator, every function wired by its own `wire` from the environment
//! the template declares for it, and the gateway serving every route.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};
use vivid_config::Config;
use vivid_dynamo::Table;
use vivid_events::EventHandler;
use vivid_tokens::{TokenAudience, TokenIssuer};

pub use crate::error::StackError;
use crate::{
    delivery::Delivery,
    emulator::{SerialProxy, apply_bucket_cors},
    ffmpeg::Runner,
    functions::{EVENT_FUNCTIONS, HTTP_FUNCTIONS, http_function},
    gateway::{BoundRoute, Cors, GatewayState, serve},
    google::GoogleStandIn,
    local_routes::{CdnCors, LocalRoutes},
    mediaconvert::MediaConvertStandIn,
    resolve::{Physical, Resolver},
    template::{TableDef, Template},
    webex::WebexStandIn,
    zoom::ZoomStandIn,
};

/// A fresh ES256 key pair for the local issuer (PKCS#8 private PEM, SPKI public PEM) and its id.
pub struct DevKeys {
    pub kid: String,
    pub private_pem: String,
    pub public_pem: String,
}

impl DevKeys {
    pub fn generate(kid: &str) -> Result<Self, StackError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| StackError::Config(e.to_string()))?;
        Ok(Self { kid: kid.to_owned(), private_pem: pair.serialize_pem(), public_pem: pair.public_key_pem() })
    }
}

pub struct StackConfig {
    pub template: PathBuf,
    pub aws_endpoint: String,
    /// Names the deployment (`AWS::StackName`): the table, and the buckets the template names.
    pub table_name: String,
    pub bind: SocketAddr,
    /// Template parameters over the local defaults (e.g. `MaxUploadBytes`).
    pub parameters: HashMap<String, String>,
    /// Environment values that replace what the template gives every function that declares
    /// the variable (e.g. `VIVID_MULTIPART_THRESHOLD_BYTES` for small multipart tests).
    pub overrides: HashMap<String, String>,
    /// The web front end's origin: allowed by CORS, and a sign-in may return to it.
    pub frontend_origin: String,
    /// Deliver S3 and job-state events to the event functions, and run MediaConvert jobs with
    /// ffmpeg (the whole pipeline, as `make dev` runs it). Off, tests drive the consumers.
    pub pipeline: bool,
    /// The SES account in the sandbox, as a new account's is (on by default): mail only to
    /// verified identities, and `ses:SendEmail` needed on the recipients' identities too. Off:
    /// production access.
    pub ses_sandbox: bool,
    /// Addresses or domains verified in SES besides the template's `MailIdentity`, as an operator
    /// verifies the recipients of a sandboxed account.
    pub ses_verified_identities: Vec<String>,
}

impl StackConfig {
    /// A stack on `bind` with the template's defaults.
    pub fn new(template: PathBuf, aws_endpoint: String, table_name: String, bind: SocketAddr) -> Self {
        Self {
            template,
            aws_endpoint,
            table_name,
            bind,
            parameters: HashMap::new(),
            overrides: HashMap::new(),
            frontend_origin: LOCAL_FRONTEND_ORIGIN.to_owned(),
            pipeline: true,
            ses_sandbox: true,
            ses_verified_identities: Vec::new(),
        }
    }
}

/// The names of the suite's buckets in this deployment.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub raw: String,
    pub media: String,
    pub user: String,
}

/// The running stack. Dropping it stops the gateway.
pub struct Stack {
    pub addr: SocketAddr,
    pub sdk: aws_config::SdkConfig,
    pub keys: DevKeys,
    pub issuer: Arc<TokenIssuer>,
    /// The table, for tests that read what the handlers wrote.
    pub table: Arc<Table>,
    /// Each function's environment, as the template declares it (resolved locally).
    pub environments: HashMap<String, HashMap<String, String>>,
    /// Every event function's handler, wired.
    pub events: Arc<HashMap<String, Arc<dyn EventHandler>>>,
    pub google: Arc<GoogleStandIn>,
    pub mediaconvert: Arc<MediaConvertStandIn>,
    pub transcribe: Arc<crate::transcribe::TranscribeStandIn>,
    pub webex: Arc<WebexStandIn>,
    pub zoom: Arc<ZoomStandIn>,
    pub buckets: Buckets,
    /// The KMS key that seals connection tokens.
    pub token_key_arn: String,
    _delivery: Option<Delivery>,
    _proxy: SerialProxy,
    server: JoinHandle<()>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub use crate::emulator::{SDK_MAX_ATTEMPTS, emulator_sdk_config};

pub const LOCAL_ISSUER: &str = "https://vivid.local";
pub const LOCAL_AUDIENCE: &str = "vivid-local";
pub const LOCAL_KID: &str = "local-1";
/// Where the local stack serves media with CloudFront's access rule.
pub const CDN_PATH: &str = "/_local/cdn";
/// A front end run next to the stack (a dev server) may be returned to after sign-in.
pub const LOCAL_FRONTEND_ORIGIN: &str = "http://localhost:5173";
/// The API domains the local stack answers on (sign-in builds its redirect URI from the one used).
const LOCAL_API_DOMAINS: &str = "127.0.0.1,localhost,*.localhost";

/// Creates a secret in the emulator; its ARN.
async fn create_secret(sdk: &aws_config::SdkConfig, name: &str, value: &str) -> Result<String, StackError> {
    aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| {
            StackError::Config(format!("secret {name}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
        })?
        .arn
        .ok_or_else(|| StackError::Config(format!("secret {name}: no ARN")))
}

fn random_text() -> Result<String, StackError> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| StackError::Config(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

impl Stack {
    /// A stack with an account of its own: its own MediaConvert and Transcribe stand-ins and bus.
    pub async fn start(cfg: StackConfig) -> Result<Self, StackError> {
        Self::start_on(cfg, None).await
    }

    /// A stack in `account`, beside the account's other stacks: its resources in the account's
    /// emulator (`cfg.aws_endpoint` must be the account's), its jobs run by the account's
    /// stand-ins, its rules offered every event of the account's bus (see [`crate::account`]).
    pub async fn start_in(cfg: StackConfig, account: &crate::account::Account) -> Result<Self, StackError> {
        if cfg.aws_endpoint != account.aws_endpoint {
            return Err(StackError::Config("a stack of an account lives on the account's emulator".into()));
        }
        Self::start_on(cfg, Some(account)).await
    }

    async fn start_on(cfg: StackConfig, shared: Option<&crate::account::Account>) -> Result<Self, StackError> {
        let template = Template::load(&cfg.template)?;
        // Every AWS call goes through the proxy that keeps moto's DynamoDB isolated and that
        // delivers Lambda `Event` invocations to the local event handlers.
        let proxy = SerialProxy::start(&cfg.aws_endpoint).await?;
        let sdk = emulator_sdk_config(&proxy.endpoint).await;

        // Bind first: redirect URIs, the front end and the CDN live on the gateway's address.
        let listener = TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let google = Arc::new(GoogleStandIn::start(local(0)).await?);
        let (mediaconvert, transcribe) = match shared {
            Some(shared) => (Arc::clone(&shared.mediaconvert), Arc::clone(&shared.transcribe)),
            None => (
                Arc::new(MediaConvertStandIn::start(local(0)).await?),
                Arc::new(crate::transcribe::TranscribeStandIn::start(local(0)).await?),
            ),
        };
        // The functions reach these two directly: they check the grants themselves.
        mediaconvert.check_grants_of(proxy.grants());
        transcribe.check_grants_of(proxy.grants());
        if shared.is_none() {
            // `Probe` reads the files with the service's own access, straight from the emulator.
            let direct = emulator_sdk_config(&cfg.aws_endpoint).await;
            let builder = aws_sdk_s3::config::Builder::from(&direct).force_path_style(true);
            mediaconvert.probe_with(aws_sdk_s3::Client::from_conf(builder.build()));
        }
        let webex = Arc::new(WebexStandIn::start(local(0)).await?);
        let zoom = Arc::new(ZoomStandIn::start(local(0)).await?);

        // Keys and secrets, as an operator creates them before deploying (docs/deploying.md).
        let keys = DevKeys::generate(LOCAL_KID)?;
        let cdn_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|e| StackError::Config(format!("CDN key: {e}")))?;
        let prefix = &cfg.table_name;
        let signing = json!({ "kid": keys.kid, "privateKeyPem": keys.private_pem }).to_string();
        let jwt_secret = create_secret(&sdk, &format!("{prefix}/jwt-signing-key"), &signing).await?;
        let google_secret = create_secret(&sdk, &format!("{prefix}/google-client"), &google.client_secret).await?;
        let webex_secret = create_secret(&sdk, &format!("{prefix}/webex-client"), &webex.client_secret).await?;
        let zoom_secret = create_secret(&sdk, &format!("{prefix}/zoom-client"), &zoom.client_secret).await?;
        let zoom_webhook = create_secret(&sdk, &format!("{prefix}/zoom-webhook"), &zoom.webhook_secret).await?;
        let cdn_secret = create_secret(&sdk, &format!("{prefix}/cdn-private-key"), &cdn_key.serialize_pem()).await?;
        let cursor_secret = create_secret(&sdk, &format!("{prefix}/cursor"), &random_text()?).await?;
        let token_key_arn = aws_sdk_kms::Client::new(&sdk)
            .create_key()
            .description(format!("{prefix} connection tokens"))
            .send()
            .await
            .map_err(|e| StackError::Config(format!("KMS key: {}", aws_sdk_kms::error::DisplayErrorContext(e))))?
            .key_metadata
            .map(|m| m.arn.unwrap_or(m.key_id))
            .ok_or_else(|| StackError::Config("KMS key: no metadata".into()))?;

        let mut parameters: HashMap<String, String> = [
            ("JwtIssuer", LOCAL_ISSUER.to_owned()),
            ("JwtAudience", LOCAL_AUDIENCE.to_owned()),
            ("JwtVerifyKeys", json!({ keys.kid.clone(): keys.public_pem }).to_string()),
            ("JwtSigningKeySecretArn", jwt_secret),
            ("GoogleClientId", google.client_id.clone()),
            ("GoogleClientSecretArn", google_secret),
            ("FrontendUrl", format!("{base}/_local/signed-in")),
            ("AllowedReturnOrigins", format!("{base},{}", cfg.frontend_origin)),
            ("AllowedOrigin", cfg.frontend_origin.clone()),
            ("CdnPublicKeyPem", cdn_key.public_key_pem()),
            ("CdnPrivateKeySecretArn", cdn_secret),
            ("WebexClientId", webex.client_id.clone()),
            ("WebexClientSecretArn", webex_secret),
            ("WebexRedirectUri", format!("{base}/_local/webex-connected")),
            ("ZoomClientId", zoom.client_id.clone()),
            ("ZoomClientSecretArn", zoom_secret),
            ("ZoomRedirectUri", format!("{base}/_local/zoom-connected")),
            ("ZoomWebhookSecretArn", zoom_webhook),
            ("InvitationUrl", format!("{}/invitations", cfg.frontend_origin)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        parameters.extend(cfg.parameters.clone());

        // The buckets are named as the template names them in this deployment.
        let naming = Resolver::new(&template, &parameters, Physical::default(), prefix)?;
        let bucket_name = |logical: &str| -> Result<String, StackError> {
            let name = template.properties(logical).and_then(|p| p.get("BucketName"));
            match name {
                Some(n) => naming.string(n)?.ok_or_else(|| StackError::Config(format!("{logical}: no name"))),
                None => Ok(format!("{prefix}-{}", logical.to_lowercase())),
            }
        };
        let buckets = Buckets {
            raw: bucket_name("RawBucket")?,
            media: bucket_name("MediaBucket")?,
            user: bucket_name("UserContentBucket")?,
        };
        create_table(&aws_sdk_dynamodb::Client::new(&sdk), &template.table()?, &cfg.table_name).await?;
        create_buckets(&sdk, &buckets).await?;
        let mail_identity = naming
            .string(&serde_yaml::from_str("Ref: MailIdentity").map_err(|e| StackError::Config(e.to_string()))?)?
            .ok_or_else(|| StackError::Config("MailIdentity: no value".into()))?;
        crate::mail::create_identity(&sdk, &mail_identity).await?;
        // In the SES sandbox an operator verifies each address (or domain) mail goes to.
        for identity in &cfg.ses_verified_identities {
            crate::mail::create_identity(&sdk, identity).await?;
        }
        proxy.grants().set_ses_sandbox(cfg.ses_sandbox);

        let mut physical = Physical::default();
        let functions = template.functions()?;
        let table_logical = template.table()?.logical_id;
        physical.refs.extend([
            (table_logical.clone(), cfg.table_name.clone()),
            ("RawBucket".to_owned(), buckets.raw.clone()),
            ("MediaBucket".to_owned(), buckets.media.clone()),
            ("UserContentBucket".to_owned(), buckets.user.clone()),
            ("CursorSecret".to_owned(), cursor_secret),
            ("ConnectorTokenKey".to_owned(), token_key_arn.clone()),
            ("CdnPublicKey".to_owned(), "KLOCALCDN".to_owned()),
        ]);
        // A function's `Ref` is its name: the package name locally (Lambda invokes find it).
        physical.refs.extend(functions.iter().map(|f| (f.logical_id.clone(), f.name.clone())));
        // ARNs as AWS writes them, for the grants (see `crate::grants`).
        let (region, account) = (crate::resolve::LOCAL_REGION, crate::resolve::LOCAL_ACCOUNT);
        physical.attributes.extend(functions.iter().map(|f| {
            (format!("{}.Arn", f.logical_id), format!("arn:aws:lambda:{region}:{account}:function:{}", f.name))
        }));
        physical
            .attributes
            .insert(format!("{table_logical}.Arn"), crate::grants::needs::dynamodb_table_arn(&cfg.table_name));
        physical.attributes.extend([
            ("ConnectorTokenKey.Arn".to_owned(), token_key_arn.clone()),
            ("MediaDistribution.DomainName".to_owned(), format!("{addr}{CDN_PATH}")),
            ("MediaConvertRole.Arn".to_owned(), "arn:aws:iam::000000000000:role/vivid-local-mediaconvert".to_owned()),
        ]);
        // The template's queues (failed asynchronous events), as CloudFormation creates them.
        let queues = crate::emulator::async_invoke::create_queues(&sdk, &template, prefix).await?;
        for q in &queues {
            physical.refs.insert(q.logical_id.clone(), q.url.clone());
            physical.attributes.insert(format!("{}.Arn", q.logical_id), q.arn.clone());
            physical.attributes.insert(format!("{}.QueueName", q.logical_id), q.name.clone());
        }
        let resolver = Resolver::new(&template, &parameters, physical, prefix)?;
        // Lambda's asynchronous invocations: each function's retries and on-failure destination.
        let async_configs =
            crate::emulator::async_invoke::configs(&functions, &queues, |v| resolver.string(v).ok().flatten());
        proxy.invocations().configure(async_configs, queues, aws_sdk_sqs::Client::new(&sdk));

        // What differs by nature on a laptop: third parties' URLs, path-style S3, plain HTTP.
        let replaced: HashMap<&str, String> = HashMap::from([
            ("VIVID_CDN_URL", format!("{base}{CDN_PATH}")),
            ("VIVID_API_DOMAINS", LOCAL_API_DOMAINS.to_owned()),
            // Waits out the local index lag (not AWS's second).
            ("VIVID_INDEX_SETTLE_MS", (crate::emulator::index_lag::configured_lag().as_millis() + 50).to_string()),
        ]);
        let added: HashMap<&str, String> = HashMap::from([
            ("VIVID_S3_PATH_STYLE", "true".to_owned()),
            ("VIVID_MEDIACONVERT_ENDPOINT", mediaconvert.endpoint.clone()),
            ("VIVID_TRANSCRIBE_ENDPOINT", transcribe.endpoint.clone()),
            ("VIVID_GOOGLE_AUTHORIZE_URL", google.authorize_url()),
            ("VIVID_GOOGLE_TOKEN_URL", google.token_url()),
            ("VIVID_GOOGLE_JWKS_URL", google.jwks_url()),
            ("VIVID_WEBEX_AUTHORIZE_URL", webex.authorize_url()),
            ("VIVID_WEBEX_API_BASE", webex.api_base()),
            ("VIVID_ZOOM_OAUTH_BASE", zoom.oauth_base()),
            ("VIVID_ZOOM_API_BASE", zoom.api_base()),
            // The stand-ins serve downloads on loopback: allowed here, never in AWS.
            ("VIVID_ALLOW_PRIVATE_DOWNLOADS", "true".to_owned()),
            ("VIVID_WEBEX_DOWNLOAD_HOSTS", "127.0.0.1".to_owned()),
            ("VIVID_ZOOM_DOWNLOAD_HOSTS", "127.0.0.1".to_owned()),
        ]);
        let mut environments = HashMap::new();
        for f in &functions {
            let mut env = resolver.environment(&f.logical_id)?;
            for (k, v) in env.iter_mut() {
                if let Some(r) = replaced.get(k.as_str()).or_else(|| cfg.overrides.get(k)) {
                    *v = r.clone();
                }
            }
            env.extend(added.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
            environments.insert(f.name.clone(), env);
        }
        let config_of = |name: &str| -> Result<Config, StackError> {
            let env = environments
                .get(name)
                .cloned()
                .ok_or_else(|| StackError::Config(format!("{name} is not a function of the template")))?;
            Ok(Config::new(Arc::new(env), function_sdk(&sdk, name)))
        };
        // Each function signs with a key of its own, checked against the template's grants.
        proxy.grants().grant(&functions, |v| resolver.string(v).ok().flatten());

        let mut events = HashMap::new();
        for f in EVENT_FUNCTIONS {
            let handler =
                (f.wire)(config_of(f.name)?).await.map_err(|e| StackError::Config(format!("{}: {e}", f.name)))?;
            events.insert(f.name.to_owned(), handler);
        }
        let events = Arc::new(events);
        proxy.deliver_invocations_to(Arc::clone(&events));

        let mut wired = HashMap::new();
        for f in HTTP_FUNCTIONS {
            let handler =
                (f.wire)(config_of(f.name)?).await.map_err(|e| StackError::Config(format!("{}: {e}", f.name)))?;
            wired.insert(f.name.to_owned(), handler);
        }
        let routes = bind_routes(&template, &wired)?;

        let delivery = if cfg.pipeline {
            let names = HashMap::from([
                ("RawBucket".to_owned(), buckets.raw.clone()),
                ("MediaBucket".to_owned(), buckets.media.clone()),
                ("UserContentBucket".to_owned(), buckets.user.clone()),
            ]);
            let delivery = Delivery::start(&sdk, &template, &names, &cfg.table_name, Arc::clone(&events)).await?;
            // In an account, its stand-ins run the jobs and its bus brings every event here.
            if let Some(shared) = shared {
                shared.subscribe(delivery.events.clone());
            } else {
                let s3 = aws_sdk_s3::Client::from_conf(
                    aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build(),
                );
                mediaconvert.run_jobs_with(Runner { s3: s3.clone(), emit: delivery.events.clone() });
                // Speech recognition with the repository's Python tools (scripts/venv.sh).
                let root = find_repo_root(&cfg.template).unwrap_or_else(|| PathBuf::from("."));
                let python = std::env::var_os("VIVID_PYTHON")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| root.join(".venv/bin/python"));
                transcribe.run_jobs_with(crate::transcribe::Recognizer {
                    s3,
                    emit: delivery.events.clone(),
                    python,
                    script: root.join("local/recognize.py"),
                });
            }
            Some(delivery)
        } else {
            None
        };
        let audience = TokenAudience { issuer: LOCAL_ISSUER.to_owned(), audience: LOCAL_AUDIENCE.to_owned() };
        let issuer = Arc::new(
            TokenIssuer::new(&keys.kid, &keys.private_pem, audience).map_err(|e| StackError::Config(e.to_string()))?,
        );
        let table = Arc::new(Table::new(aws_sdk_dynamodb::Client::new(&sdk), &cfg.table_name));
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let cors = Cors::from_template(&template, &resolver)?;
        // What AWS applies outside the functions: the buckets' CORS rules (presigned PUTs from
        // the front end) and the media distribution's response headers policy (the CDN).
        let bucket_names = [
            ("RawBucket", buckets.raw.as_str()),
            ("MediaBucket", buckets.media.as_str()),
            ("UserContentBucket", buckets.user.as_str()),
        ];
        apply_bucket_cors(&sdk, &template, &cfg.frontend_origin, &bucket_names).await?;
        let cdn_cors = CdnCors::from_template(&template, &cfg.frontend_origin)?;
        let state = Arc::new(GatewayState {
            routes,
            cors,
            local: LocalRoutes {
                users: table.clone(),
                issuer: Arc::clone(&issuer),
                google: Arc::clone(&google),
                s3,
                media_bucket: buckets.media.clone(),
                cdn_public_der: cdn_key.public_key_raw().to_vec(),
                cdn_cors,
                base: base.clone(),
                mail: crate::mail::MailBox::new(&cfg.aws_endpoint),
            },
        });
        // With the peer's address: the events' `sourceIp`, which the rate limit counts by.
        let app = axum::Router::new()
            .fallback(serve)
            .with_state(state)
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "gateway stopped");
            }
        });
        Ok(Self {
            addr,
            sdk,
            keys,
            issuer,
            table,
            environments,
            events,
            google,
            mediaconvert,
            transcribe,
            webex,
            zoom,
            buckets,
            token_key_arn,
            _delivery: delivery,
            _proxy: proxy,
            server,
        })
    }

    /// Every HTTP function wired again from its environment, by name.
    pub async fn wired_http_handlers(&self) -> HashMap<String, Arc<dyn vivid_edge::Handler>> {
        let mut out = HashMap::new();
        for f in HTTP_FUNCTIONS {
            if let Ok(h) = self.http_handler(f.name).await {
                out.insert(f.name.to_owned(), h);
            }
        }
        out
    }

    /// The last events the stand-ins sent on the bus (MediaConvert's and Transcribe's job
    /// states), in order; none without the pipeline.
    pub fn bus_events(&self) -> Vec<serde_json::Value> {
        self._delivery
            .as_ref()
            .and_then(|d| d.sent.lock().ok().map(|s| s.iter().cloned().collect()))
            .unwrap_or_default()
    }

    /// How many events the pipeline invoked `function` with so far (0 without the pipeline).
    pub fn invocations(&self, function: &str) -> u64 {
        self._delivery
            .as_ref()
            .and_then(|d| d.invocations.lock().ok().and_then(|c| c.get(function).copied()))
            .unwrap_or(0)
    }

    /// The Lambda `Event` invocations the functions made (a route starting a worker, a replay):
    /// counts per function, the template's queues (see [`crate::emulator::async_invoke`]).
    pub fn async_invocations(&self) -> crate::emulator::async_invoke::AsyncInvocations {
        self._proxy.invocations()
    }

    /// Every AWS call a function made that its template grants do not allow (each was refused in
    /// the service's error shape, as AWS would, unless `VIVID_GRANTS_AUDIT` let it through).
    pub fn denied_grants(&self) -> Vec<crate::grants::Denial> {
        self._proxy.grants().denied()
    }

    /// Returns once DynamoDB's global secondary indexes caught up with every write so far (index
    /// reads lag the writes: `crate::emulator::index_lag`).
    pub async fn indexes_settled(&self) {
        self._proxy.indexes_settled().await;
    }

    /// How many DynamoDB operations reached the emulator so far (round trips per request),
    /// besides the rate limiter's count that precedes every route's work (one `UpdateItem` per
    /// request: docs/data-model.md, "Rate counters").
    pub fn dynamodb_calls(&self) -> u64 {
        self._proxy.dynamodb_calls()
    }

    /// The emulator proxy's fault rules: add one to make a chosen AWS call fail (throttled, a
    /// 5xx, a dropped connection), clear them to heal (see [`crate::faults`]).
    pub fn faults(&self) -> crate::faults::Faults {
        self._proxy.faults()
    }

    /// An event function's handler.
    pub fn event_handler(&self, name: &str) -> Option<Arc<dyn EventHandler>> {
        self.events.get(name).cloned()
    }

    /// An HTTP function wired again from its environment (tests that build one directly).
    pub async fn http_handler(&self, name: &str) -> Result<Arc<dyn vivid_edge::Handler>, StackError> {
        let f =
            http_function(name).ok_or_else(|| StackError::NoHandler { route: String::new(), function: name.into() })?;
        let env =
            self.environments.get(name).cloned().ok_or_else(|| StackError::Config(format!("no env for {name}")))?;
        (f.wire)(Config::new(Arc::new(env), function_sdk(&self.sdk, name)))
            .await
            .map_err(|e| StackError::Config(format!("{name}: {e}")))
    }
}

/// Every template route bound to its function's handler; fails when a route has no function
/// or a function has no route.
pub fn bind_routes(
    template: &Template,
    wired: &HashMap<String, Arc<dyn vivid_edge::Handler>>,
) -> Result<Vec<BoundRoute>, StackError> {
    let routes = template.routes()?;
    for f in HTTP_FUNCTIONS {
        if !routes.iter().any(|r| r.function == f.name) {
            return Err(StackError::NoRoute(f.name.to_owned()));
        }
    }
    routes
        .into_iter()
        .map(|r| {
            let handler = wired
                .get(&r.function)
                .cloned()
                .ok_or_else(|| StackError::NoHandler { route: r.key(), function: r.function.clone() })?;
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

/// The SDK configuration of one function: the stack's, signing with the function's own access
/// key, so that the emulator proxy knows whose call it is (see [`crate::grants`]).
pub fn function_sdk(sdk: &aws_config::SdkConfig, function: &str) -> aws_config::SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new(
        crate::grants::access_key(function),
        crate::grants::FUNCTION_SECRET,
        None,
        None,
        "vivid-local",
    );
    sdk.to_builder().credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(credentials)).build()
}
