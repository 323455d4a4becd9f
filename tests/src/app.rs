//! The app under test: the local stack started on a free loopback port against the emulator,
//! seeded users and their tokens, requests sent as a client sends them.

use std::{net::SocketAddr, sync::Arc};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use vivid_domain::{
    sessions::AccessTokenIssuer,
    types::{Email, now_rfc3339},
    users::{User, UserStore},
};
use vivid_local::{
    infra::account::Account,
    infra::emulator::{Moto, moto_server_path},
    stack::{Stack, StackConfig},
};
use vivid_tokens::{TokenAudience, TokenIssuer};

use crate::{Reply, TestUser, repo_root};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub stack: Stack,
    pub table: String,
    pub aws_endpoint: String,
    // Declared last: dropped after the stack.
    _moto: Option<Moto>,
}

impl TestApp {
    /// A stack whose event consumers the test drives itself.
    pub async fn spawn() -> Self {
        Self::spawn_with(false).await
    }

    /// A stack running the whole pipeline: S3 notifications and job-state events delivered to
    /// the event functions, MediaConvert jobs run with ffmpeg.
    pub async fn spawn_pipeline() -> Self {
        Self::spawn_with(true).await
    }

    async fn spawn_with(pipeline: bool) -> Self {
        Self::spawn_configured(|config| config.pipeline = pipeline).await
    }

    /// A stack configured by `configure` (template parameters, environment overrides) on top of
    /// the test defaults; consumers driven by the test unless it turns the pipeline on.
    pub async fn spawn_configured(configure: impl FnOnce(&mut StackConfig)) -> Self {
        // `RUST_LOG=debug cargo nextest run ... --no-capture` shows what the handlers log.
        if std::env::var_os("RUST_LOG").is_some() {
            vivid_config::telemetry::init();
        }
        let (moto, endpoint) = match std::env::var("VIVID_AWS_ENDPOINT") {
            Ok(endpoint) => (None, endpoint),
            Err(_) => {
                let moto = Moto::start(&moto_server_path(&repo_root()))
                    .await
                    .unwrap_or_else(|e| panic!("no emulator: {e} (or run through `make test`)"));
                let endpoint = moto.endpoint.clone();
                (Some(moto), endpoint)
            }
        };
        let mut config = Self::test_config(&endpoint);
        configure(&mut config);
        let table = config.table_name.clone();
        let stack = Stack::start(config).await.expect("the local stack starts");
        Self::around(stack, table, endpoint, moto)
    }

    /// A stack in `account` beside its other stacks (one emulator; the account's MediaConvert,
    /// Transcribe and event bus): the test defaults with the whole pipeline on, then `configure`
    /// (which may name the stack, `table_name`).
    pub async fn spawn_in(account: &Account, configure: impl FnOnce(&mut StackConfig)) -> Self {
        let mut config = Self::test_config(&account.aws_endpoint);
        config.pipeline = true;
        configure(&mut config);
        let table = config.table_name.clone();
        let stack = Stack::start_in(config, account).await.expect("the stack starts in the account");
        Self::around(stack, table, account.aws_endpoint.clone(), None)
    }

    /// The test defaults on the emulator at `endpoint`, under a fresh stack name.
    fn test_config(endpoint: &str) -> StackConfig {
        // A stack name as an operator would choose it (at most 28 characters: the longest bucket
        // name, `{stack}-media-{account}-{region}`, must fit S3's 63); the ULID's random end.
        let ulid = ulid::Ulid::new().to_string().to_lowercase();
        let table = format!("vt-{}", &ulid[ulid.len() - 16..]);
        let mut config = StackConfig::new(
            repo_root().join("template.yaml"),
            endpoint.to_owned(),
            table,
            SocketAddr::from(([127, 0, 0, 1], 0)),
        );
        // Small enough that a test file of a few tens of MiB goes multipart.
        config.overrides.insert("VIVID_MULTIPART_THRESHOLD_BYTES".into(), (16 * 1024 * 1024).to_string());
        config.parameters.insert("MaxUploadBytes".into(), (64 * 1024 * 1024).to_string());
        // Tests upload bytes that are no video (a probe reads no length: each is charged the
        // longest lecture, 360 minutes) and many videos per host; the minutes' own tests set
        // their budgets low.
        config.parameters.insert("DailyTranscodeMinutes".into(), "10000000".into());
        config.parameters.insert("DailyTranscribeMinutes".into(), "10000000".into());
        // New spaces start without transcription (the stack's default is on): a test's READY
        // videos start no Transcribe job unless it turns transcription on, or the default
        // (tests/tests/stack/transcripts.rs).
        config.parameters.insert("TranscriptionDefault".into(), "off".into());
        // A test sends hundreds of requests a minute as one user and from one address
        // (127.0.0.1): the per-caller rate limits out of the way, every request still counted
        // (tests/tests/stack/rate_limits.rs lowers them).
        config.parameters.insert("RateLimitPerUser".into(), "1000000".into());
        config.parameters.insert("RateLimitPerIp".into(), "1000000".into());
        // The LTI tool's administrator (`TestApp::lti_admin`); the template's default names nobody.
        config.parameters.insert("LtiAdmins".into(), crate::lti_platform::LTI_ADMIN.into());
        config.pipeline = false;
        // SES's sandbox, as on a new account, with the domains the tests mail verified (as an
        // operator verifies the testers' addresses there); a test may take the account out.
        config.ses_verified_identities = vec!["example.com".into(), "example.org".into()];
        config
    }

    fn around(stack: Stack, table: String, aws_endpoint: String, moto: Option<Moto>) -> Self {
        let base = format!("http://{}", stack.addr);
        // Redirects are part of what is tested: never followed behind the test's back.
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base, http, stack, table, aws_endpoint, _moto: moto }
    }

    pub fn users(&self) -> Arc<dyn UserStore> {
        self.stack.table.clone()
    }

    /// A registered user (with their personal space) and a valid token.
    pub async fn user(&self, name: &str) -> TestUser {
        let email: Email =
            format!("{}.{}@example.com", name.to_lowercase(), ulid::Ulid::new().to_string().to_lowercase())
                .parse()
                .expect("valid email");
        let (user, personal) = User::sign_up(email, name.to_owned(), None, &now_rfc3339());
        self.users().create_user(&user, &personal, None).await.expect("user seeded");
        self.indexes_settled().await;
        let token = self.stack.issuer.issue_access(&user.user_id, &user.email).expect("token").token;
        TestUser { user, token }
    }

    /// An issuer with the stack's private key but another audience or issuer.
    pub fn issuer_with(&self, who: TokenAudience) -> TokenIssuer {
        TokenIssuer::new(&self.stack.keys.kid, &self.stack.keys.private_pem, who).expect("issuer")
    }

    /// Waits until DynamoDB's global secondary indexes have caught up with every write so far
    /// (the local stack's index reads lag its writes, as AWS's do: `VIVID_INDEX_LAG_MS`). A client
    /// that lists right after a write meets the same wait in AWS.
    pub async fn indexes_settled(&self) {
        self.stack.indexes_settled().await;
    }

    pub fn dynamo(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.stack.sdk)
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::reply(req.send().await.expect("request sent")).await
    }

    /// Sends a request with a raw body and content type.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut req =
            self.http.request(method, format!("{}{}", self.base, path)).header("content-type", content_type).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::reply(req.send().await.expect("request sent")).await
    }

    pub async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body read");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Creates a space as `host`; panics unless 201.
    pub async fn space(&self, host: &TestUser, name: &str) -> String {
        let r = self.post("/spaces", &host.token, serde_json::json!({ "name": name })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        self.indexes_settled().await;
        r.body["spaceId"].as_str().expect("spaceId").to_owned()
    }

    /// Adds `who` to the space as participant; panics unless 201.
    pub async fn join(&self, space: &str, host: &TestUser, who: &TestUser) {
        let r = self
            .post(&format!("/spaces/{space}/members"), &host.token, serde_json::json!({ "email": who.email() }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        self.indexes_settled().await;
    }

    /// The host makes a member co-host (`PATCH /spaces/{spaceId}/members/{userId}`).
    pub async fn promote(&self, space: &str, host: &TestUser, who: &TestUser) {
        self.set_role(space, host, who, "co-host").await;
    }

    /// The host makes a co-host a participant again.
    pub async fn demote(&self, space: &str, host: &TestUser, who: &TestUser) {
        self.set_role(space, host, who, "participant").await;
    }

    async fn set_role(&self, space: &str, host: &TestUser, who: &TestUser, role: &str) {
        let r = self
            .call(
                reqwest::Method::PATCH,
                &format!("/spaces/{space}/members/{}", who.id()),
                Some(&host.token),
                Some(serde_json::json!({ "role": role })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["role"], role);
        self.indexes_settled().await;
    }

    /// Follows `nextCursor` through every page of a list.
    pub async fn all_pages(&self, path: &str, token: &str, limit: u16) -> (Vec<Value>, usize) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
                None => format!("{path}{sep}limit={limit}"),
            };
            let r = self.get(&url, token).await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            pages += 1;
            items.extend(r.body["items"].as_array().cloned().unwrap_or_default());
            match r.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(pages < 1000, "pagination does not end");
        }
        (items, pages)
    }
}
