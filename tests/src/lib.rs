//! The test harness: `TestApp::spawn()` starts the local stack (gateway + real handlers) on a
//! free loopback port against the AWS emulator with a fresh table, seeds users, mints tokens,
//! and speaks HTTP to it like a client.
//!
//! Each app starts its own moto server from the repository's `.venv` (moto's transactions are not
//! isolated across tests sharing a server); `VIVID_AWS_ENDPOINT` points the apps at one you run
//! yourself, for quick runs of a single test.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use vivid_domain::{
    sessions::AccessTokenIssuer,
    types::{Email, now_rfc3339},
    users::{User, UserStore},
};
use vivid_local::{
    account::Account,
    emulator::{Moto, moto_server_path},
    stack::{Stack, StackConfig},
};
use vivid_tokens::{TokenAudience, TokenIssuer};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A seeded user and a valid access token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub user: User,
    pub token: String,
}

impl TestUser {
    pub fn id(&self) -> String {
        self.user.user_id.to_string()
    }
    pub fn email(&self) -> String {
        self.user.email.to_string()
    }
}

/// A response: status, headers and the body as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

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
        // A test sends hundreds of requests a minute as one user and from one address
        // (127.0.0.1): the per-caller rate limits out of the way, every request still counted
        // (tests/tests/stack/rate_limits.rs lowers them).
        config.parameters.insert("RateLimitPerUser".into(), "1000000".into());
        config.parameters.insert("RateLimitPerIp".into(), "1000000".into());
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

    /// Waits (a minute at most) until every deletion started so far has ended — its worker run,
    /// with Lambda's retries — and returns the worker's counts.
    pub async fn deletions_settled(&self) -> vivid_local::emulator::async_invoke::AsyncCounts {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let counts = self.stack.async_invocations().counts("deletion-worker");
            if counts.in_flight == 0 {
                return counts;
            }
            assert!(std::time::Instant::now() < deadline, "deletions still running after a minute: {counts:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// `DELETE path` as `token`: asserts the 202 `{"status": "deleting"}`, then waits for the
    /// deletion worker to finish (bounded, and without a run that failed every retry).
    pub async fn delete_and_wait(&self, path: &str, token: &str) -> Reply {
        let r = self.call(Method::DELETE, path, Some(token), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "DELETE {path}: {:?}", r.body);
        assert_eq!(r.body["status"], "deleting", "DELETE {path}");
        let counts = self.deletions_settled().await;
        assert_eq!(counts.exhausted, 0, "a deletion failed every retry: {counts:?}");
        r
    }

    /// The asynchronous invocations that failed every retry and wait in the template's
    /// `FailedEventsQueue` (Lambda's on-failure records), without taking them off the queue.
    pub async fn failed_events(&self) -> Vec<Value> {
        let queue = self.stack.async_invocations().queue_url("FailedEventsQueue").expect("the failed-events queue");
        let sqs = aws_sdk_sqs::Client::new(&self.stack.sdk);
        let out = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .expect("receive");
        out.messages().iter().filter_map(|m| m.body().and_then(|b| serde_json::from_str(b).ok())).collect()
    }

    /// What `scripts/replay-failed.sh QUEUE_URL` does: each on-failure record of the
    /// failed-events queue is invoked again (`InvocationType: Event`) on the function its
    /// `requestContext.functionArn` names, with its `requestPayload`, and deleted once Lambda
    /// accepted it (202). How many were replayed.
    pub async fn replay_failed_events(&self) -> usize {
        let queue = self.stack.async_invocations().queue_url("FailedEventsQueue").expect("the failed-events queue");
        let sqs = aws_sdk_sqs::Client::new(&self.stack.sdk);
        let lambda = aws_sdk_lambda::Client::new(&self.stack.sdk);
        let mut replayed = 0;
        loop {
            let out = sqs
                .receive_message()
                .queue_url(&queue)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .send()
                .await
                .expect("receive");
            if out.messages().is_empty() {
                return replayed;
            }
            for m in out.messages() {
                let record: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("an on-failure record");
                let function = record["requestContext"]["functionArn"].as_str().expect("requestContext.functionArn");
                let payload = serde_json::to_vec(&record["requestPayload"]).expect("payload");
                let accepted = lambda
                    .invoke()
                    .function_name(function)
                    .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                    .payload(aws_sdk_lambda::primitives::Blob::new(payload))
                    .send()
                    .await
                    .expect("invoke");
                assert_eq!(accepted.status_code(), 202, "Lambda accepts the replay");
                sqs.delete_message()
                    .queue_url(&queue)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
                replayed += 1;
            }
        }
    }

    /// Every item of the table (for "nothing half-written / nothing left behind" checks).
    pub async fn scan_all(&self) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let resp =
                self.dynamo().scan().table_name(&self.table).set_exclusive_start_key(start).send().await.expect("scan");
            // The rate limiter's counters (`RATE#`, one per caller and minute, written by every
            // request) are no route's state: tests/tests/stack/rate_limits.rs reads them.
            out.extend(resp.items.unwrap_or_default().into_iter().filter(|i| !pk(i).starts_with("RATE#")));
            start = resp.last_evaluated_key;
            if start.is_none() {
                return out;
            }
        }
    }
}

/// The `PK` of an item, for scans.
pub fn pk(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> &str {
    item.get("PK").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("")
}

/// A space with a host, two participants, a registered stranger and a registered user who is
/// not yet invited: the cast of the authorization matrix and the event samples.
pub struct World {
    pub space: String,
    pub host: TestUser,
    pub participant: TestUser,
    /// Another participant: the one removal routes remove.
    pub target: TestUser,
    pub stranger: TestUser,
    pub invitee: TestUser,
    /// A co-host of the space.
    pub cohost: TestUser,
    /// A former participant: they studied the video (progress, memo, drawing, snapshot,
    /// bookmark), then the host removed them, a moment before the world is used — the deletion
    /// worker may not have purged their data yet.
    pub former: TestUser,
    /// A video of the space, ready to play (notes are taken on ready videos only).
    pub video: String,
    /// A snapshot of the participant's on that video.
    pub snapshot: String,
    /// A drawing of the participant's on that video (they also have a memo there).
    pub drawing: String,
    /// A bookmark of the participant's on that video.
    pub bookmark: String,
    /// The host's shareable invitation into the space: its id and code.
    pub invitation: String,
    pub code: String,
}

impl World {
    pub async fn new(app: &TestApp) -> Self {
        let host = app.user("Host").await;
        let participant = app.user("Participant").await;
        let target = app.user("Target").await;
        let stranger = app.user("Stranger").await;
        let invitee = app.user("Invitee").await;
        let cohost = app.user("Co-host").await;
        let former = app.user("Former").await;
        let space = app.space(&host, "Matrix").await;
        app.join(&space, &host, &participant).await;
        app.join(&space, &host, &target).await;
        app.join(&space, &host, &cohost).await;
        app.join(&space, &host, &former).await;
        app.promote(&space, &host, &cohost).await;
        let video = app.ready_video(&space, &host).await;
        let snap = app
            .post(
                &format!("/videos/{video}/snapshots"),
                &participant.token,
                serde_json::json!({ "videoSeconds": 3.0, "contentType": "image/png", "sizeBytes": 1024 }),
            )
            .await;
        assert_eq!(snap.status, StatusCode::CREATED, "{:?}", snap.body);
        let snapshot = snap.body["snapshotId"].as_str().expect("snapshotId").to_owned();
        let memo = app
            .call(
                reqwest::Method::PUT,
                &format!("/videos/{video}/text-memo"),
                Some(&participant.token),
                Some(serde_json::json!({ "stateJson": "<p>notes</p>" })),
            )
            .await;
        assert_eq!(memo.status, StatusCode::CREATED, "{:?}", memo.body);
        let drawing = ulid::Ulid::new().to_string();
        let d = app
            .call(
                reqwest::Method::PUT,
                &format!("/videos/{video}/drawings/{drawing}"),
                Some(&participant.token),
                Some(serde_json::json!({ "kind": "page", "document": { "objects": [] } })),
            )
            .await;
        assert_eq!(d.status, StatusCode::CREATED, "{:?}", d.body);
        let b = app
            .post(
                &format!("/videos/{video}/bookmarks"),
                &participant.token,
                serde_json::json!({ "videoSeconds": 2.5, "label": "Here" }),
            )
            .await;
        assert_eq!(b.status, StatusCode::CREATED, "{:?}", b.body);
        let bookmark = b.body["bookmarkId"].as_str().expect("bookmarkId").to_owned();
        let inv = app.post(&format!("/spaces/{space}/invitations"), &host.token, serde_json::json!({})).await;
        assert_eq!(inv.status, StatusCode::CREATED, "{:?}", inv.body);
        let invitation = inv.body["items"][0]["invitationId"].as_str().expect("invitationId").to_owned();
        let code = inv.body["items"][0]["code"].as_str().expect("code").to_owned();
        let (v, t) = (&video, &former.token);
        for (method, path, body) in [
            (
                Method::PUT,
                format!("/videos/{v}/progress"),
                serde_json::json!({ "progressRate": 30, "positionSeconds": 9.0 }),
            ),
            (Method::PUT, format!("/videos/{v}/text-memo"), serde_json::json!({ "stateJson": "<p>mine</p>" })),
            (
                Method::PUT,
                format!("/videos/{v}/drawings/{drawing}"),
                serde_json::json!({ "kind": "page", "document": { "objects": [] } }),
            ),
            (
                Method::POST,
                format!("/videos/{v}/bookmarks"),
                serde_json::json!({ "videoSeconds": 1.0, "label": "Mine" }),
            ),
        ] {
            let r = app.call(method, &path, Some(t), Some(body)).await;
            assert!(r.status.is_success(), "{path}: {:?}", r.body);
        }
        app.indexes_settled().await;
        let r = app
            .call(Method::DELETE, &format!("/spaces/{space}/members/{}", former.id()), Some(&host.token), None)
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        // A world as it stands a moment later: its indexes caught up (an invitee accepts a code
        // found on one; in AWS the index is behind only for a moment after the code's creation).
        app.indexes_settled().await;
        Self {
            space,
            host,
            participant,
            target,
            stranger,
            invitee,
            cohost,
            former,
            video,
            snapshot,
            drawing,
            bookmark,
            invitation,
            code,
        }
    }

    /// A route path with its parameters filled from this world.
    pub fn fill(&self, path: &str) -> String {
        path.replace("{spaceId}", &self.space)
            .replace("{userId}", &self.target.id())
            .replace("{videoId}", &self.video)
            .replace("{snapshotId}", &self.snapshot)
            .replace("{drawingId}", &self.drawing)
            .replace("{bookmarkId}", &self.bookmark)
            .replace("{invitationId}", &self.invitation)
            .replace("{code}", &self.code)
            .replace("{lang}", "en")
    }

    /// A route called the way its body asks: JSON, or the raw text a caption upload is.
    pub async fn call(&self, app: &TestApp, method: &str, path: &str, token: Option<&str>) -> Reply {
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        if method == "GET" && path == "/spaces/{spaceId}/search" {
            return app.call(m, &format!("{}?q=matrix", self.fill(path)), token, None).await;
        }
        if method == "PUT" && path == "/videos/{videoId}/captions/{lang}" {
            let vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n".to_vec();
            return app.call_raw(m, &self.fill(path), token, "text/vtt", vtt).await;
        }
        app.call(m, &self.fill(path), token, self.body(method, path)).await
    }

    /// A valid body for a route, if it takes one.
    pub fn body(&self, method: &str, path: &str) -> Option<Value> {
        match (method, path) {
            ("POST", "/spaces") => Some(serde_json::json!({ "name": "New space" })),
            ("PATCH", "/spaces/{spaceId}") => Some(serde_json::json!({ "name": "Renamed" })),
            ("POST", "/videos/{videoId}/bookmarks") => {
                Some(serde_json::json!({ "videoSeconds": 4.0, "label": "Mark" }))
            }
            ("POST", "/spaces/{spaceId}/members") => Some(serde_json::json!({ "email": self.invitee.email() })),
            ("POST", "/spaces/{spaceId}/invitations") => {
                Some(serde_json::json!({ "emails": [self.invitee.email()], "role": "participant" }))
            }
            ("PUT", "/spaces/{spaceId}/videos/order") => Some(serde_json::json!({ "videoIds": [self.video] })),
            ("PATCH", "/spaces/{spaceId}/members/{userId}") => Some(serde_json::json!({ "role": "co-host" })),
            ("POST", "/spaces/{spaceId}/transfer") => Some(serde_json::json!({ "userId": self.target.id() })),
            ("POST", "/spaces/{spaceId}/videos") => Some(serde_json::json!({
                "title": "New video", "fileName": "new.mp4", "contentType": "video/mp4", "sizeBytes": 1024,
            })),
            ("PATCH", "/videos/{videoId}") => Some(serde_json::json!({ "title": "Renamed" })),
            ("POST", "/videos/{videoId}/upload/complete") => {
                Some(serde_json::json!({ "parts": [{ "partNumber": 1, "etag": "\"x\"" }] }))
            }
            ("PUT", "/videos/{videoId}/progress") => {
                Some(serde_json::json!({ "progressRate": 10, "positionSeconds": 5.5 }))
            }
            ("POST", "/webex/token" | "/zoom/token") => {
                Some(serde_json::json!({ "code": "not-a-code", "state": "not-a-state" }))
            }
            ("POST", "/spaces/{spaceId}/videos/zoom") => {
                Some(serde_json::json!({ "meetingId": "m==", "recordingFileId": "f1", "title": "T" }))
            }
            ("PUT", "/spaces/{spaceId}/zoom-auto-import") => Some(serde_json::json!({ "enabled": true })),
            ("POST", "/zoom/webhook") => Some(serde_json::json!({ "event": "recording.completed", "payload": {} })),
            ("POST", "/spaces/{spaceId}/videos/webex") => {
                Some(serde_json::json!({ "recordingId": "r1", "title": "T" }))
            }
            ("PUT", "/videos/{videoId}/text-memo") => Some(serde_json::json!({ "stateJson": "<p>more</p>" })),
            ("PUT", "/videos/{videoId}/drawings/{drawingId}") => Some(
                serde_json::json!({ "kind": "overlay", "startSeconds": 1, "endSeconds": 2, "document": { "objects": [1] } }),
            ),
            ("POST", "/videos/{videoId}/snapshots") => {
                Some(serde_json::json!({ "videoSeconds": 1.5, "contentType": "image/png", "sizeBytes": 1024 }))
            }
            _ => None,
        }
    }
}

/// The outcome of a browser sign-in through the Google stand-in.
#[derive(Debug)]
pub struct BrowserSignIn {
    /// Where the callback sent the browser (front end, with the fragment).
    pub location: String,
    pub access_token: String,
    /// The `__Host-vivid_refresh` cookie's value.
    pub refresh_cookie: String,
    /// Every `Set-Cookie` of the callback.
    pub set_cookies: Vec<String>,
}

/// The value of `name` in a list of `Set-Cookie` headers.
pub fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap_or("").to_owned()))
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect()
}

/// One query parameter of a URL (percent-decoded).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| percent_decode(v))
}

pub fn percent_decode(v: &str) -> String {
    percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// The step of a browser sign-in before Google: `/auth/google/login`'s redirect and cookie.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub authorize_url: String,
    pub login_cookie: String,
}

impl TestApp {
    /// `GET /auth/google/login`, as a browser.
    pub async fn start_login(&self, return_to: Option<&str>) -> PendingLogin {
        let mut url = format!("{}/auth/google/login", self.base);
        if let Some(r) = return_to {
            url = format!("{url}?returnTo={}", form_encode(r));
        }
        let resp = self.http.get(url).send().await.expect("login");
        assert_eq!(resp.status(), StatusCode::FOUND);
        let cookies = set_cookies(resp.headers());
        let authorize_url = resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
        PendingLogin { authorize_url, login_cookie: cookie_value(&cookies, "vivid_login").expect("login cookie") }
    }

    /// The person picks an e-mail on the Google stand-in's page; returns the callback URL.
    pub async fn approve_at_google(&self, pending: &PendingLogin, email: &str, name: &str, verified: bool) -> String {
        let page = self.http.get(&pending.authorize_url).send().await.expect("authorize page");
        assert_eq!(page.status(), StatusCode::OK);
        let q = |n: &str| query_param(&pending.authorize_url, n).unwrap_or_default();
        let form = [
            ("client_id", q("client_id")),
            ("redirect_uri", q("redirect_uri")),
            ("state", q("state")),
            ("code_challenge", q("code_challenge")),
            ("nonce", q("nonce")),
            ("email", email.to_owned()),
            ("name", name.to_owned()),
            ("email_verified", verified.to_string()),
        ];
        let body = form.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect::<Vec<_>>().join("&");
        let resp = self
            .http
            .post(format!("{}/o/oauth2/v2/auth/approve", self.stack.google.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("approve");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned()
    }

    /// The browser follows Google's redirect to our callback, with its login cookie.
    pub async fn callback(&self, callback_url: &str, login_cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(callback_url);
        if let Some(c) = login_cookie {
            req = req.header("cookie", format!("vivid_login={c}"));
        }
        req.send().await.expect("callback")
    }

    /// A whole browser sign-in; panics unless it ends at the front end with tokens.
    pub async fn browser_sign_in(&self, email: &str, name: &str) -> BrowserSignIn {
        let pending = self.start_login(None).await;
        let callback = self.approve_at_google(&pending, email, name, true).await;
        let resp = self.callback(&callback, Some(&pending.login_cookie)).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        assert_eq!(status, StatusCode::FOUND, "{:?}", resp.text().await);
        let location = headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
        let fragment = location.split_once('#').map(|(_, f)| f.to_owned()).unwrap_or_default();
        let access_token = fragment
            .split('&')
            .find_map(|p| p.strip_prefix("accessToken=").map(percent_decode))
            .expect("access token in the fragment");
        let cookies = set_cookies(&headers);
        BrowserSignIn {
            location,
            access_token,
            refresh_cookie: cookie_value(&cookies, "__Host-vivid_refresh").expect("refresh cookie"),
            set_cookies: cookies,
        }
    }

    /// `POST /auth/google` with an ID token.
    pub async fn google_token(&self, id_token: &str) -> Reply {
        self.call(Method::POST, "/auth/google", None, Some(serde_json::json!({ "idToken": id_token }))).await
    }
}

fn form_encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A vendor's published sample from `tests/fixtures/vendor/` (its source beside it), as JSON.
pub fn vendor_sample(path: &str) -> Value {
    let file = repo_root().join("tests/fixtures/vendor").join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A sample event from `events/`, as JSON.
pub fn sample_event(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(format!("events/{name}.json"))).expect("sample event");
    serde_json::from_str(&text).expect("sample JSON")
}

/// An S3 object-created event of the real shape for one object (the key URL-encoded as S3 does).
pub fn s3_event(bucket: &str, key: &str, size: u64) -> Value {
    let mut event = sample_event("on-raw-upload");
    let encoded: String = key
        .split('/')
        .map(|seg| {
            percent_encoding::utf8_percent_encode(seg, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%20", "+")
        })
        .collect::<Vec<_>>()
        .join("/");
    let record = &mut event["Records"][0];
    record["s3"]["bucket"]["name"] = bucket.into();
    record["s3"]["bucket"]["arn"] = format!("arn:aws:s3:::{bucket}").into();
    record["s3"]["object"]["key"] = encoded.into();
    record["s3"]["object"]["size"] = size.into();
    event
}

/// A "MediaConvert Job State Change" event for a video's job, from the samples.
pub fn job_event(sample: &str, video: &str, job_id: &str, media_bucket: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(format!("events/{sample}.json"))).expect("sample");
    let text = text
        .replace("01JD6Q5C7B8D9E0F1G2H3J4K5M", video)
        .replace("1795613662000-abc123", job_id)
        .replace("vivid-media-123456789012", media_bucket);
    serde_json::from_str(&text).expect("sample JSON")
}

impl TestApp {
    /// A video of `space` made `READY` without transcoding: uploaded, its job's master playlist
    /// put where the job writes it, and the job's `COMPLETE` event handled.
    pub async fn ready_video(&self, space: &str, host: &TestUser) -> String {
        let video = self.uploaded_video(space, host, vec![1u8; 256]).await;
        let job = self.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
        let media = self.stack.buckets.media.clone();
        let master =
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360\nindex_360p.m3u8\n";
        self.put_object(
            &media,
            &format!("media/{video}/hls/index.m3u8"),
            master.into(),
            "application/vnd.apple.mpegurl",
        )
        .await;
        self.invoke("on-transcode-event", job_event("on-transcode-event", &video, &job, &media)).await.expect("ready");
        // Members list it once it is READY, later than the list's index takes to catch up.
        self.indexes_settled().await;
        video
    }

    /// A `READY` video whose transcript has completed with `words` (word, start, end), as
    /// Transcribe's result and its job-state event deliver them.
    pub async fn transcribed_video(&self, space: &str, host: &TestUser, words: &[(&str, f64, f64)]) -> String {
        let video = self.ready_video(space, host).await;
        let items: Vec<Value> = words
            .iter()
            .map(|(w, s, e)| {
                serde_json::json!({ "type": "pronunciation", "start_time": format!("{s:.3}"), "end_time": format!("{e:.3}"),
                                    "alternatives": [{ "content": w }] })
            })
            .collect();
        let result = serde_json::json!({ "results": { "language_code": "en-US", "items": items } });
        let media = self.stack.buckets.media.clone();
        self.put_object(
            &media,
            &format!("media/{video}/transcript/transcribe.json"),
            result.to_string().into_bytes(),
            "application/json",
        )
        .await;
        let mut event = sample_event("on-transcribe-event");
        event["detail"]["TranscriptionJobName"] = self.transcription_job(&video).into();
        self.invoke("on-transcribe-event", event).await.expect("transcribed");
        self.indexes_settled().await;
        video
    }

    /// The name of a video's transcription job in this stack (`{stack}-{videoId}`).
    pub fn transcription_job(&self, video: &str) -> String {
        let stack = &self.stack.environments["on-transcribe-event"]["VIVID_APPLICATION"];
        vivid_domain::transcripts::JobNames::of_stack(stack).name(&video.parse().expect("a video id"))
    }

    /// Runs an event function's handler (built as its `main` builds it) on an event.
    pub async fn invoke(&self, function: &str, event: Value) -> Result<Value, String> {
        let handler = self.stack.event_handler(function).expect("event function");
        handler.handle(event).await.map_err(|e| e.to_string())
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&self.stack.sdk).force_path_style(true).build())
    }

    /// Whether an object exists in the emulator.
    pub async fn object_exists(&self, bucket: &str, key: &str) -> bool {
        self.s3().head_object().bucket(bucket).key(key).send().await.is_ok()
    }

    /// An object of the media bucket, as text.
    pub async fn get_object_text(&self, key: &str) -> String {
        let out = self.s3().get_object().bucket(&self.stack.buckets.media).key(key).send().await.expect("get object");
        let bytes = out.body.collect().await.expect("object body").into_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub async fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>, content_type: &str) {
        self.s3()
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .expect("put object");
    }

    /// Keys under a prefix.
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let out = self.s3().list_objects_v2().bucket(bucket).prefix(prefix).send().await.expect("list");
        out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
    }

    /// Creates a video as `host` (201) and returns the body (video + upload instructions).
    pub async fn new_video(&self, space: &str, host: &TestUser, size: u64) -> Value {
        let r = self
            .post(
                &format!("/spaces/{space}/videos"),
                &host.token,
                serde_json::json!({
                    "title": "Lecture", "fileName": "lecture.mp4", "contentType": "video/mp4", "sizeBytes": size,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        self.indexes_settled().await;
        r.body
    }

    /// PUTs `body` to a single-PUT upload's presigned URL, as a browser would.
    pub async fn upload_single(&self, created: &Value, body: Vec<u8>) {
        let resp = self.put_presigned(&created["upload"], body).await;
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    /// PUTs `body` to an upload's presigned URL with every header the instructions name (as a
    /// browser does: they are signed into the URL).
    pub async fn put_presigned(&self, upload: &Value, body: Vec<u8>) -> reqwest::Response {
        assert_eq!(upload["kind"], "single");
        let mut req = self.http.put(upload["url"].as_str().expect("url")).body(body);
        for (name, value) in upload["headers"].as_object().expect("headers") {
            req = req.header(name.as_str(), value.as_str().expect("header value"));
        }
        req.send().await.expect("presigned PUT")
    }

    /// A video uploaded and announced to `on-raw-upload`; returns its id.
    pub async fn uploaded_video(&self, space: &str, host: &TestUser, bytes: Vec<u8>) -> String {
        let created = self.new_video(space, host, bytes.len() as u64).await;
        let id = created["videoId"].as_str().expect("videoId").to_owned();
        let size = bytes.len() as u64;
        self.upload_single(&created, bytes).await;
        self.invoke("on-raw-upload", s3_event(&self.stack.buckets.raw, &format!("raw/{id}"), size))
            .await
            .expect("raw upload handled");
        id
    }
}

impl TestApp {
    /// Webex's authorize URL for `who`, as a browser's `fetch` of `GET /webex/login` gets it.
    pub async fn webex_authorize_url(&self, who: &TestUser) -> String {
        let login = self.get("/webex/login", &who.token).await;
        assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
        assert_eq!(login.header("cache-control"), Some("no-store"));
        login.body["authorizeUrl"].as_str().expect("authorizeUrl").to_owned()
    }

    /// Connects `who`'s Webex account through the stand-in: the authorize URL, Webex's redirect
    /// back to the front end with code and state, `POST /webex/token`.
    pub async fn connect_webex(&self, who: &TestUser) {
        let authorize = self.webex_authorize_url(who).await;
        let back = self.http.get(&authorize).send().await.expect("authorize");
        let callback = back.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned();
        let code = query_param(&callback, "code").expect("code");
        let state = query_param(&callback, "state").expect("state");
        let r = self.post("/webex/token", &who.token, serde_json::json!({ "code": code, "state": state })).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    }
}

/// A `seconds`-long 640×360 H.264 clip made with ffmpeg's test source: real video bytes.
pub fn generated_clip(seconds: u32) -> Vec<u8> {
    generated_clip_as(&format!("{seconds}"), "yuv420p")
}

/// A generated H.264 clip of `seconds` (a decimal) in the pixel format `pix_fmt` (`yuv444p` is
/// what ffmpeg's own defaults give an RGB source; `yuv422p`, `yuv420p10le`, …).
pub fn generated_clip_as(seconds: &str, pix_fmt: &str) -> Vec<u8> {
    let clip = std::env::temp_dir().join(format!("vivid-clip-{}.mp4", ulid::Ulid::new()));
    let source = format!("testsrc=duration={seconds}:size=640x360:rate=25");
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", &source])
        .args(["-c:v", "libx264", "-pix_fmt", pix_fmt, "-preset", "veryfast"])
        .arg(&clip)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ffmpeg: {e} (install it: `make deps`)"));
    assert!(out.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&clip).expect("the clip");
    let _ = std::fs::remove_file(&clip);
    bytes
}

impl TestApp {
    /// Polls `GET /videos/{id}` until `done` holds (two minutes at most); the last answer.
    pub async fn wait_for_video(&self, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let v = self.get(&format!("/videos/{id}"), token).await.body;
            if done(&v) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "timed out: {v}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Whether the raw bucket has no unfinished multipart upload.
    pub async fn no_multipart_uploads(&self) -> bool {
        let out = self.s3().list_multipart_uploads().bucket(&self.stack.buckets.raw).send().await.expect("list");
        out.uploads().is_empty()
    }

    /// Connects `who`'s Zoom account through the stand-in: the authorize URL (`GET /zoom/login`),
    /// Zoom's redirect back with code and state, `POST /zoom/token`.
    pub async fn connect_zoom(&self, who: &TestUser) {
        let (code, state) = self.zoom_code(who).await;
        let r = self.post("/zoom/token", &who.token, serde_json::json!({ "code": code, "state": state })).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    }

    /// A code and state Zoom returned for `who`'s connect, not yet posted.
    /// A host with a space linked to their connected Zoom account (automatic import on).
    pub async fn zoom_linked_host(&self) -> (TestUser, String) {
        let host = self.user("Host").await;
        let space = self.space(&host, "Course").await;
        self.connect_zoom(&host).await;
        let path = format!("/spaces/{space}/zoom-auto-import");
        let r = self.call(Method::PUT, &path, Some(&host.token), Some(serde_json::json!({ "enabled": true }))).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        // Zoom's webhooks find the link on an index; they come minutes after a link, not at once.
        self.indexes_settled().await;
        (host, space)
    }

    pub async fn zoom_code(&self, who: &TestUser) -> (String, String) {
        let login = self.get("/zoom/login", &who.token).await;
        assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
        let authorize = login.body["authorizeUrl"].as_str().expect("authorizeUrl").to_owned();
        let back = self.http.get(&authorize).send().await.expect("authorize");
        let callback = back.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned();
        (query_param(&callback, "code").expect("code"), query_param(&callback, "state").expect("state"))
    }
}
