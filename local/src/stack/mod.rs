//! Starts the local stack on top of a running emulator, in phases ([`phases`]): the emulator
//! behind its proxy, the stand-ins, the template's table, buckets, secrets and keys created in
//! the emulator, the template resolved for this deployment, every function wired by its own
//! `wire` from the environment the template declares for it, event delivery, and the gateway
//! serving every route.

mod phases;
mod resources;

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, sync::Arc};

use tokio::{net::TcpListener, task::JoinHandle};
use vivid_config::Config;
use vivid_dynamo::Table;
use vivid_events::EventHandler;
use vivid_tokens::TokenIssuer;

pub use self::resources::{DevKeys, bind_routes, create_buckets, create_table, find_repo_root, function_sdk};
pub use crate::error::StackError;
pub use crate::infra::emulator::{SDK_MAX_ATTEMPTS, emulator_sdk_config};
use crate::{
    functions::{HTTP_FUNCTIONS, http_function},
    infra::{account::Account, delivery::Delivery, emulator::SerialProxy, resolve::Resolver},
    standins::{
        google::GoogleStandIn, mediaconvert::MediaConvertStandIn, transcribe::TranscribeStandIn, webex::WebexStandIn,
        zoom::ZoomStandIn,
    },
};
use phases::{Deployment, Emulator, Gateway, Resources, StandIns, Wired};

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
    pub transcribe: Arc<TranscribeStandIn>,
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

pub const LOCAL_ISSUER: &str = "https://vivid.local";
pub const LOCAL_AUDIENCE: &str = "vivid-local";
pub const LOCAL_KID: &str = "local-1";
/// The client secret of every institutional (OpenID Connect) provider the stack is configured
/// with (`OidcProviders`): the local stack writes `{"<id>": this}` into the secret
/// `OidcClientSecretArn` names, unless a test gives that parameter itself.
pub const LOCAL_OIDC_CLIENT_SECRET: &str = "vivid-local-oidc-secret";
/// Where the local stack serves media with CloudFront's access rule.
pub const CDN_PATH: &str = "/_local/cdn";
/// A front end run next to the stack (a dev server) may be returned to after sign-in.
pub const LOCAL_FRONTEND_ORIGIN: &str = "http://localhost:5173";
/// The API domains the local stack answers on (sign-in builds its redirect URI from the one used).
const LOCAL_API_DOMAINS: &str = "127.0.0.1,localhost,*.localhost";

impl Stack {
    /// A stack with an account of its own: its own MediaConvert and Transcribe stand-ins and bus.
    pub async fn start(cfg: StackConfig) -> Result<Self, StackError> {
        Self::start_on(cfg, None).await
    }

    /// A stack in `account`, beside the account's other stacks: its resources in the account's
    /// emulator (`cfg.aws_endpoint` must be the account's), its jobs run by the account's
    /// stand-ins, its rules offered every event of the account's bus (see [`crate::infra::account`]).
    pub async fn start_in(cfg: StackConfig, account: &Account) -> Result<Self, StackError> {
        if cfg.aws_endpoint != account.aws_endpoint {
            return Err(StackError::Config("a stack of an account lives on the account's emulator".into()));
        }
        Self::start_on(cfg, Some(account)).await
    }

    /// The phases, in order (each in [`phases`]): the emulator behind its proxy; the gateway's
    /// address bound (redirect URIs, the front end and the CDN live on it); the stand-ins; the
    /// resources; the template resolved for this deployment; the functions' environments and
    /// wiring; event delivery; the gateway serving.
    async fn start_on(cfg: StackConfig, shared: Option<&Account>) -> Result<Self, StackError> {
        let emulator = phases::start_emulator(&cfg).await?;
        let listener = TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let stand_ins = phases::start_stand_ins(&cfg, &emulator.proxy, shared).await?;
        let resources = phases::create_resources(&cfg, &emulator, &stand_ins, &base).await?;
        let Deployment { functions, physical, queues } =
            phases::deploy_template(&cfg, &emulator, &resources, addr).await?;
        let resolver = Resolver::new(&emulator.template, &resources.parameters, physical, &cfg.table_name)?;
        let environments = phases::environments(&cfg, &functions, &resolver, &stand_ins, &base)?;
        let Wired { events, routes } =
            phases::wire_functions(&emulator, &functions, queues, &resolver, &environments).await?;
        let delivery = phases::start_delivery(&cfg, &emulator, &resources.buckets, &events, &stand_ins, shared).await?;
        let Gateway { issuer, table, server } =
            phases::start_gateway(&cfg, &emulator, &resolver, &resources, &stand_ins.google, routes, listener).await?;
        drop(resolver);
        let Emulator { proxy, sdk, .. } = emulator;
        let StandIns { google, mediaconvert, transcribe, webex, zoom } = stand_ins;
        let Resources { keys, buckets, token_key_arn, .. } = resources;
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
    /// counts per function, the template's queues (see [`crate::infra::emulator::async_invoke`]).
    pub fn async_invocations(&self) -> crate::infra::emulator::async_invoke::AsyncInvocations {
        self._proxy.invocations()
    }

    /// Every AWS call a function made that its template grants do not allow (each was refused in
    /// the service's error shape, as AWS would, unless `VIVID_GRANTS_AUDIT` let it through).
    pub fn denied_grants(&self) -> Vec<crate::infra::grants::Denial> {
        self._proxy.grants().denied()
    }

    /// Returns once DynamoDB's global secondary indexes caught up with every write so far (index
    /// reads lag the writes: `crate::infra::emulator::index_lag`).
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
    /// 5xx, a dropped connection), clear them to heal (see [`crate::infra::faults`]).
    pub fn faults(&self) -> crate::infra::faults::Faults {
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
