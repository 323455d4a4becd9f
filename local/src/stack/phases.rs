//! The phases of [`Stack::start`](super::Stack::start), in the order it runs them: the emulator
//! behind its proxy, the stand-ins, the resources an operator and CloudFormation create, the
//! template resolved for this deployment, every function wired, event delivery, the gateway.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, sync::Arc};

use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};
use vivid_config::Config;
use vivid_dynamo::Table;
use vivid_events::EventHandler;
use vivid_tokens::{TokenAudience, TokenIssuer};

use super::{
    Buckets, CDN_PATH, DevKeys, LOCAL_API_DOMAINS, LOCAL_AUDIENCE, LOCAL_ISSUER, LOCAL_KID, StackConfig,
    resources::{bind_routes, create_buckets, create_secret, create_table, find_repo_root, function_sdk, random_text},
};
use crate::{
    error::StackError,
    functions::{EVENT_FUNCTIONS, HTTP_FUNCTIONS},
    infra::{
        account::Account,
        cors::CorsPolicy,
        delivery::Delivery,
        emulator::{SerialProxy, apply_bucket_cors, async_invoke, emulator_sdk_config, index_lag},
        gateway::{BoundRoute, GatewayState, serve},
        grants::needs::dynamodb_table_arn,
        local_routes::LocalRoutes,
        mail,
        resolve::{LOCAL_ACCOUNT, LOCAL_REGION, Physical, Resolver},
        template::{Function, Template},
    },
    standins::{
        ffmpeg::Runner,
        google::GoogleStandIn,
        mediaconvert::MediaConvertStandIn,
        transcribe::{Recognizer, TranscribeStandIn},
        webex::WebexStandIn,
        zoom::ZoomStandIn,
    },
};

/// The emulator as the functions reach it: the template read, the proxy every AWS call goes
/// through, and the SDK configuration aimed at the proxy.
pub(super) struct Emulator {
    pub template: Template,
    pub proxy: SerialProxy,
    pub sdk: aws_config::SdkConfig,
}

/// Phase 1: the template read, and the proxy started in front of the emulator at
/// `cfg.aws_endpoint` — it keeps moto's DynamoDB isolated, checks every call against the
/// template's grants, and delivers Lambda `Event` invocations to the local event handlers.
pub(super) async fn start_emulator(cfg: &StackConfig) -> Result<Emulator, StackError> {
    let template = Template::load(&cfg.template)?;
    let proxy = SerialProxy::start(&cfg.aws_endpoint).await?;
    let sdk = emulator_sdk_config(&proxy.endpoint).await;
    Ok(Emulator { template, proxy, sdk })
}

/// The services the emulator does not have, each a real HTTP server on loopback.
pub(super) struct StandIns {
    pub google: Arc<GoogleStandIn>,
    pub mediaconvert: Arc<MediaConvertStandIn>,
    pub transcribe: Arc<TranscribeStandIn>,
    pub webex: Arc<WebexStandIn>,
    pub zoom: Arc<ZoomStandIn>,
}

/// Phase 2: the stand-ins started — Google, Webex and Zoom of this stack's own; MediaConvert and
/// Transcribe of its own too, or the account's when it lives in one (`shared`). The two AWS ones
/// check the template's grants themselves (the functions reach them directly).
pub(super) async fn start_stand_ins(
    cfg: &StackConfig,
    proxy: &SerialProxy,
    shared: Option<&Account>,
) -> Result<StandIns, StackError> {
    let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let google = Arc::new(GoogleStandIn::start(local(0)).await?);
    let (mediaconvert, transcribe) = match shared {
        Some(shared) => (Arc::clone(&shared.mediaconvert), Arc::clone(&shared.transcribe)),
        None => {
            (Arc::new(MediaConvertStandIn::start(local(0)).await?), Arc::new(TranscribeStandIn::start(local(0)).await?))
        }
    };
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
    Ok(StandIns { google, mediaconvert, transcribe, webex, zoom })
}

/// What exists before the functions run: keys, secrets, the template's parameters as this
/// deployment sets them, and the buckets' names.
pub(super) struct Resources {
    pub keys: DevKeys,
    pub cdn_key: rcgen::KeyPair,
    /// The KMS key that seals connection tokens.
    pub token_key_arn: String,
    /// The LTI tool's signing key (RSA 2048, `SIGN_VERIFY`), as the template's `LtiToolKey`.
    pub lti_key_arn: String,
    pub cursor_secret: String,
    pub parameters: HashMap<String, String>,
    pub buckets: Buckets,
}

/// `base` and its other loopback spelling (`127.0.0.1` ↔ `localhost`): a page may reach the
/// API by either (the front end's note in README.md recommends `localhost`), and a `returnTo`
/// on it is honoured both ways.
fn loopback_spellings(base: &str) -> String {
    let other = if base.contains("://127.0.0.1") {
        base.replacen("://127.0.0.1", "://localhost", 1)
    } else if base.contains("://localhost") {
        base.replacen("://localhost", "://127.0.0.1", 1)
    } else {
        return base.to_owned();
    };
    format!("{base},{other}")
}

/// Phase 3: what an operator creates before deploying (docs/deploying.md) — the issuer's and
/// the CDN's keys, the secrets, the KMS key, SES identities — and what CloudFormation creates
/// from the template: the table and the buckets, named as the template names them. The
/// template's parameters: the local ones (the stand-ins' clients, the URLs on `base`), then
/// `cfg.parameters` over them.
pub(super) async fn create_resources(
    cfg: &StackConfig,
    emulator: &Emulator,
    stand_ins: &StandIns,
    base: &str,
) -> Result<Resources, StackError> {
    let Emulator { template, proxy, sdk } = emulator;
    let StandIns { google, webex, zoom, .. } = stand_ins;
    let keys = DevKeys::generate(LOCAL_KID)?;
    let cdn_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .map_err(|e| StackError::Config(format!("CDN key: {e}")))?;
    let prefix = &cfg.table_name;
    let signing = json!({ "kid": keys.kid, "privateKeyPem": keys.private_pem }).to_string();
    let jwt_secret = create_secret(sdk, &format!("{prefix}/jwt-signing-key"), &signing).await?;
    let google_secret = create_secret(sdk, &format!("{prefix}/google-client"), &google.client_secret).await?;
    let webex_secret = create_secret(sdk, &format!("{prefix}/webex-client"), &webex.client_secret).await?;
    let zoom_secret = create_secret(sdk, &format!("{prefix}/zoom-client"), &zoom.client_secret).await?;
    let zoom_webhook = create_secret(sdk, &format!("{prefix}/zoom-webhook"), &zoom.webhook_secret).await?;
    let cdn_secret = create_secret(sdk, &format!("{prefix}/cdn-private-key"), &cdn_key.serialize_pem()).await?;
    let cursor_secret = create_secret(sdk, &format!("{prefix}/cursor"), &random_text()?).await?;
    let token_key_arn = aws_sdk_kms::Client::new(sdk)
        .create_key()
        .description(format!("{prefix} connection tokens"))
        .send()
        .await
        .map_err(|e| StackError::Config(format!("KMS key: {}", aws_sdk_kms::error::DisplayErrorContext(e))))?
        .key_metadata
        .map(|m| m.arn.unwrap_or(m.key_id))
        .ok_or_else(|| StackError::Config("KMS key: no metadata".into()))?;
    let lti_key_arn = aws_sdk_kms::Client::new(sdk)
        .create_key()
        .description(format!("{prefix} LTI tool key"))
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .map_err(|e| StackError::Config(format!("LTI key: {}", aws_sdk_kms::error::DisplayErrorContext(e))))?
        .key_metadata
        .map(|m| m.arn.unwrap_or(m.key_id))
        .ok_or_else(|| StackError::Config("LTI key: no metadata".into()))?;

    let mut parameters: HashMap<String, String> = [
        ("JwtIssuer", LOCAL_ISSUER.to_owned()),
        ("JwtAudience", LOCAL_AUDIENCE.to_owned()),
        ("JwtVerifyKeys", json!({ keys.kid.clone(): keys.public_pem }).to_string()),
        ("JwtSigningKeySecretArn", jwt_secret),
        ("GoogleClientId", google.client_id.clone()),
        ("GoogleClientSecretArn", google_secret),
        ("FrontendUrl", format!("{base}/_local/signed-in")),
        ("AllowedReturnOrigins", format!("{},{}", loopback_spellings(base), cfg.frontend_origin)),
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
    if !parameters.contains_key("OidcClientSecretArn") {
        let arn = create_secret(sdk, &format!("{prefix}/oidc-clients"), &local_oidc_secrets(&parameters)).await?;
        parameters.insert("OidcClientSecretArn".to_owned(), arn);
    }

    // The buckets are named as the template names them in this deployment.
    let naming = Resolver::new(template, &parameters, Physical::default(), prefix)?;
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
    create_table(&aws_sdk_dynamodb::Client::new(sdk), &template.table()?, &cfg.table_name).await?;
    create_buckets(sdk, &buckets).await?;
    let mail_identity = naming
        .string(&serde_yaml::from_str("Ref: MailIdentity").map_err(|e| StackError::Config(e.to_string()))?)?
        .ok_or_else(|| StackError::Config("MailIdentity: no value".into()))?;
    mail::create_identity(sdk, &mail_identity).await?;
    // In the SES sandbox an operator verifies each address (or domain) mail goes to.
    for identity in &cfg.ses_verified_identities {
        mail::create_identity(sdk, identity).await?;
    }
    proxy.grants().set_ses_sandbox(cfg.ses_sandbox);
    Ok(Resources { keys, cdn_key, token_key_arn, lti_key_arn, cursor_secret, parameters, buckets })
}

/// `{"<provider id>": LOCAL_OIDC_CLIENT_SECRET}` for each provider `OidcProviders` lists.
fn local_oidc_secrets(parameters: &HashMap<String, String>) -> String {
    let listed: Vec<serde_json::Value> =
        parameters.get("OidcProviders").and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
    let secrets: serde_json::Map<String, serde_json::Value> = listed
        .iter()
        .filter_map(|p| p.get("id").and_then(|id| id.as_str()))
        .map(|id| (id.to_owned(), json!(super::LOCAL_OIDC_CLIENT_SECRET)))
        .collect();
    serde_json::Value::Object(secrets).to_string()
}

/// The template's resources as this deployment names them, for `Ref` and `Fn::GetAtt`.
pub(super) struct Deployment {
    pub functions: Vec<Function>,
    pub physical: Physical,
    pub queues: Vec<async_invoke::Queue>,
}

/// Phase 4: the physical names and ARNs of the template's resources — the table, buckets,
/// secrets, keys, functions (named by their packages), the CDN's domain on the gateway's
/// address — and the template's queues created, as CloudFormation creates them.
pub(super) async fn deploy_template(
    cfg: &StackConfig,
    emulator: &Emulator,
    resources: &Resources,
    addr: SocketAddr,
) -> Result<Deployment, StackError> {
    let Emulator { template, sdk, .. } = emulator;
    let Resources { buckets, token_key_arn, .. } = resources;
    let mut physical = Physical::default();
    let functions = template.functions()?;
    let table_logical = template.table()?.logical_id;
    physical.refs.extend([
        (table_logical.clone(), cfg.table_name.clone()),
        ("RawBucket".to_owned(), buckets.raw.clone()),
        ("MediaBucket".to_owned(), buckets.media.clone()),
        ("UserContentBucket".to_owned(), buckets.user.clone()),
        ("CursorSecret".to_owned(), resources.cursor_secret.clone()),
        ("ConnectorTokenKey".to_owned(), token_key_arn.clone()),
        ("LtiToolKey".to_owned(), resources.lti_key_arn.clone()),
        ("CdnPublicKey".to_owned(), "KLOCALCDN".to_owned()),
    ]);
    // A function's `Ref` is its name: the package name locally (Lambda invokes find it).
    physical.refs.extend(functions.iter().map(|f| (f.logical_id.clone(), f.name.clone())));
    // ARNs as AWS writes them, for the grants (see `crate::infra::grants`).
    let (region, account) = (LOCAL_REGION, LOCAL_ACCOUNT);
    physical.attributes.extend(
        functions.iter().map(|f| {
            (format!("{}.Arn", f.logical_id), format!("arn:aws:lambda:{region}:{account}:function:{}", f.name))
        }),
    );
    physical.attributes.insert(format!("{table_logical}.Arn"), dynamodb_table_arn(&cfg.table_name));
    physical.attributes.extend([
        ("ConnectorTokenKey.Arn".to_owned(), token_key_arn.clone()),
        ("LtiToolKey.Arn".to_owned(), resources.lti_key_arn.clone()),
        ("MediaDistribution.DomainName".to_owned(), format!("{addr}{CDN_PATH}")),
        ("MediaConvertRole.Arn".to_owned(), "arn:aws:iam::000000000000:role/vivid-local-mediaconvert".to_owned()),
    ]);
    // The template's queues (failed asynchronous events), as CloudFormation creates them.
    let queues = async_invoke::create_queues(sdk, template, &cfg.table_name).await?;
    for q in &queues {
        physical.refs.insert(q.logical_id.clone(), q.url.clone());
        physical.attributes.insert(format!("{}.Arn", q.logical_id), q.arn.clone());
        physical.attributes.insert(format!("{}.QueueName", q.logical_id), q.name.clone());
    }
    Ok(Deployment { functions, physical, queues })
}

/// Phase 5: each function's environment as the template declares it (resolved for this
/// deployment), with what differs by nature on a laptop — third parties' URLs (the stand-ins),
/// path-style S3, plain HTTP — and `cfg.overrides` over it.
pub(super) fn environments(
    cfg: &StackConfig,
    functions: &[Function],
    resolver: &Resolver<'_>,
    stand_ins: &StandIns,
    base: &str,
) -> Result<HashMap<String, HashMap<String, String>>, StackError> {
    let StandIns { google, mediaconvert, transcribe, webex, zoom } = stand_ins;
    let replaced: HashMap<&str, String> = HashMap::from([
        ("VIVID_CDN_URL", format!("{base}{CDN_PATH}")),
        ("VIVID_API_DOMAINS", LOCAL_API_DOMAINS.to_owned()),
        // Waits out the local index lag (not AWS's second).
        ("VIVID_INDEX_SETTLE_MS", (index_lag::configured_lag().as_millis() + 50).to_string()),
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
    for f in functions {
        let mut env = resolver.environment(&f.logical_id)?;
        for (k, v) in env.iter_mut() {
            if let Some(r) = replaced.get(k.as_str()).or_else(|| cfg.overrides.get(k)) {
                *v = r.clone();
            }
        }
        env.extend(added.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        environments.insert(f.name.clone(), env);
    }
    Ok(environments)
}

/// Every function wired: the event functions' handlers (which also take the Lambda `Event`
/// invocations the proxy receives) and the template's routes bound to the HTTP functions'.
pub(super) struct Wired {
    pub events: Arc<HashMap<String, Arc<dyn EventHandler>>>,
    pub routes: Vec<BoundRoute>,
}

/// Phase 6: every function's grants given to its own signing key, Lambda's asynchronous
/// invocation settings (retries, on-failure queue) applied, and every function wired by its own
/// `wire` from its environment, as its Lambda `main` wires it.
pub(super) async fn wire_functions(
    emulator: &Emulator,
    functions: &[Function],
    queues: Vec<async_invoke::Queue>,
    resolver: &Resolver<'_>,
    environments: &HashMap<String, HashMap<String, String>>,
) -> Result<Wired, StackError> {
    let Emulator { template, proxy, sdk } = emulator;
    // Lambda's asynchronous invocations: each function's retries and on-failure destination.
    let async_configs = async_invoke::configs(functions, &queues, |v| resolver.string(v).ok().flatten());
    proxy.invocations().configure(async_configs, queues, aws_sdk_sqs::Client::new(sdk));
    let config_of = |name: &str| -> Result<Config, StackError> {
        let env = environments
            .get(name)
            .cloned()
            .ok_or_else(|| StackError::Config(format!("{name} is not a function of the template")))?;
        Ok(Config::new(Arc::new(env), function_sdk(sdk, name)))
    };
    // Each function signs with a key of its own, checked against the template's grants.
    proxy.grants().grant(functions, |v| resolver.string(v).ok().flatten());

    let mut events = HashMap::new();
    for f in EVENT_FUNCTIONS {
        let handler = (f.wire)(config_of(f.name)?).await.map_err(|e| StackError::Config(format!("{}: {e}", f.name)))?;
        events.insert(f.name.to_owned(), handler);
    }
    let events = Arc::new(events);
    proxy.deliver_invocations_to(Arc::clone(&events));

    let mut wired = HashMap::new();
    for f in HTTP_FUNCTIONS {
        let handler = (f.wire)(config_of(f.name)?).await.map_err(|e| StackError::Config(format!("{}: {e}", f.name)))?;
        wired.insert(f.name.to_owned(), handler);
    }
    let routes = bind_routes(template, &wired)?;
    Ok(Wired { events, routes })
}

/// Phase 7, with the pipeline on: S3 notifications and the bus's events delivered to the event
/// functions; MediaConvert's jobs run with ffmpeg and Transcribe's with the repository's Python
/// tools — or, in an account, by the account's stand-ins, its bus bringing every event here.
/// Off: `None`, the tests drive the consumers.
pub(super) async fn start_delivery(
    cfg: &StackConfig,
    emulator: &Emulator,
    buckets: &Buckets,
    events: &Arc<HashMap<String, Arc<dyn EventHandler>>>,
    stand_ins: &StandIns,
    shared: Option<&Account>,
) -> Result<Option<Delivery>, StackError> {
    if !cfg.pipeline {
        return Ok(None);
    }
    let Emulator { template, sdk, .. } = emulator;
    let names = HashMap::from([
        ("RawBucket".to_owned(), buckets.raw.clone()),
        ("MediaBucket".to_owned(), buckets.media.clone()),
        ("UserContentBucket".to_owned(), buckets.user.clone()),
    ]);
    let delivery = Delivery::start(sdk, template, &names, &cfg.table_name, Arc::clone(events)).await?;
    if let Some(shared) = shared {
        shared.subscribe(delivery.events.clone());
    } else {
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
        stand_ins.mediaconvert.run_jobs_with(Runner { s3: s3.clone(), emit: delivery.events.clone() });
        // Speech recognition with the repository's Python tools (scripts/venv.sh).
        let root = find_repo_root(&cfg.template).unwrap_or_else(|| PathBuf::from("."));
        let python =
            std::env::var_os("VIVID_PYTHON").map(PathBuf::from).unwrap_or_else(|| root.join(".venv/bin/python"));
        stand_ins.transcribe.run_jobs_with(Recognizer {
            s3,
            emit: delivery.events.clone(),
            python,
            script: root.join("local/recognize.py"),
        });
    }
    Ok(Some(delivery))
}

/// The gateway serving, and what the stack keeps of it.
pub(super) struct Gateway {
    pub issuer: Arc<TokenIssuer>,
    pub table: Arc<Table>,
    pub server: JoinHandle<()>,
}

/// Phase 8: what AWS applies outside the functions — the buckets' CORS rules (presigned PUTs
/// from the front end) and the media distribution's response headers policy — and the gateway
/// serving on `listener`: every route bound, the API's CORS, and the local-only routes
/// (`/_local/`: tokens, the CDN, the mail SES would have sent).
pub(super) async fn start_gateway(
    cfg: &StackConfig,
    emulator: &Emulator,
    resolver: &Resolver<'_>,
    resources: &Resources,
    google: &Arc<GoogleStandIn>,
    routes: Vec<BoundRoute>,
    listener: TcpListener,
) -> Result<Gateway, StackError> {
    let Emulator { template, sdk, .. } = emulator;
    let Resources { keys, cdn_key, buckets, .. } = resources;
    let base = format!("http://{}", listener.local_addr()?);
    let audience = TokenAudience { issuer: LOCAL_ISSUER.to_owned(), audience: LOCAL_AUDIENCE.to_owned() };
    let issuer = Arc::new(
        TokenIssuer::new(&keys.kid, &keys.private_pem, audience).map_err(|e| StackError::Config(e.to_string()))?,
    );
    let table = Arc::new(Table::new(aws_sdk_dynamodb::Client::new(sdk), &cfg.table_name));
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
    let cors = CorsPolicy::api_gateway(template, resolver)?;
    let bucket_names = [
        ("RawBucket", buckets.raw.as_str()),
        ("MediaBucket", buckets.media.as_str()),
        ("UserContentBucket", buckets.user.as_str()),
    ];
    apply_bucket_cors(sdk, template, &cfg.frontend_origin, &bucket_names).await?;
    let cdn_cors = CorsPolicy::cloudfront(template, &cfg.frontend_origin);
    let state = Arc::new(GatewayState {
        routes,
        cors,
        local: LocalRoutes {
            users: table.clone(),
            issuer: Arc::clone(&issuer),
            google: Arc::clone(google),
            s3,
            media_bucket: buckets.media.clone(),
            cdn_public_der: cdn_key.public_key_raw().to_vec(),
            cdn_cors,
            base,
            mail: mail::MailBox::new(&cfg.aws_endpoint),
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
    Ok(Gateway { issuer, table, server })
}
