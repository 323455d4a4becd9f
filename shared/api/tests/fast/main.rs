//! The fast tier: the HTTP handlers, built from the in-memory world of `vivid-testkit` exactly as
//! `functions/*/src/lib.rs` builds them from the adapters (struct literals of named ports), called
//! with `lambda_http` requests through the edge's one dispatcher (`vivid_edge::http::dispatch`:
//! the error to problem+json mapping included), with access tokens signed by a test key. No stack,
//! no emulator: the whole binary runs in about a second. It sits under the black-box tier
//! (`tests/tests/stack`), which stays the safety net for what the in-memory world does not model
//! (see `vivid_testkit::memory`): index lag, real DynamoDB and S3, the gateway, the rate limit.
//!
//! Modules by area: `routes` (the handlers wired on the world), `spaces`, `members`, `videos`,
//! `uploads` (creation to `READY` with the event consumers), `progress`, `notes` (bookmarks and
//! snapshots).

mod members;
mod notes;
mod progress;
mod routes;
mod spaces;
mod uploads;
mod videos;

use std::sync::Arc;

use lambda_http::Body;
use serde_json::Value;
use vivid_domain::{
    quota::Quotas,
    spaces::{Role, Space},
    types::{UserId, unix_now},
    users::User,
    video::{Video, VideoStatus},
};
use vivid_edge::{cursor::Cursors, http::Handler};
use vivid_testkit::{
    memory::{Memory, uploading},
    requests::{Req, es256_pair},
};
use vivid_tokens::{TokenAudience, TokenIssuer, TokenVerifier};

/// The world, the token key and the settings every handler is built with.
pub(crate) struct App {
    pub(crate) memory: Arc<Memory>,
    issuer: TokenIssuer,
    auth: Arc<TokenVerifier>,
    cursors: Arc<Cursors>,
    pub(crate) quotas: Quotas,
    /// Uploads larger than this are multipart.
    pub(crate) multipart_threshold: u64,
}

/// Someone signed up, with an access token of a sign-in now.
pub(crate) struct Person {
    pub(crate) user: User,
    pub(crate) token: String,
}

impl Person {
    pub(crate) fn id(&self) -> &UserId {
        &self.user.user_id
    }
    pub(crate) fn bearer(&self) -> Option<&str> {
        Some(&self.token)
    }
}

/// A shared space with one person of each standing towards it.
pub(crate) struct Class {
    pub(crate) space: Space,
    pub(crate) host: Person,
    pub(crate) cohost: Person,
    pub(crate) member: Person,
    pub(crate) stranger: Person,
}

impl Class {
    /// Each caller but the host's co-host, with a label: anonymous, a stranger, a participant,
    /// the host.
    pub(crate) fn callers(&self) -> [(&'static str, Option<&str>); 4] {
        [
            ("anonymous", None),
            ("stranger", self.stranger.bearer()),
            ("participant", self.member.bearer()),
            ("host", self.host.bearer()),
        ]
    }
}

/// A handler's answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    /// The problem document's `code` (empty for a success).
    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// The ids of a list's items (`idField` of each).
    pub(crate) fn ids(&self, field: &str) -> Vec<String> {
        let items = self.body["items"].as_array().cloned().unwrap_or_default();
        items.iter().filter_map(|i| i[field].as_str().map(str::to_owned)).collect()
    }
}

impl App {
    pub(crate) fn new() -> Self {
        let (private, public) = es256_pair();
        let who = TokenAudience { issuer: "https://api.vivid.test".into(), audience: "vivid-test".into() };
        let issuer = TokenIssuer::new("test", &private, who.clone()).expect("issuer");
        let auth = Arc::new(TokenVerifier::new([("test", public.as_str())], &who).expect("verifier"));
        let quotas = Quotas {
            hosted_spaces: 3,
            videos_per_space: 4,
            bookmarks_per_video: 3,
            snapshots_per_video: 3,
            storage_bytes: 10_000,
            ..Quotas::default()
        };
        Self {
            memory: Arc::new(Memory::new()),
            issuer,
            auth,
            cursors: Arc::new(Cursors::new(&"c".repeat(32)).expect("cursor key")),
            quotas,
            multipart_threshold: 1024 * 1024,
        }
    }

    /// Someone signed up with `email`.
    pub(crate) fn person(&self, email: &str) -> Person {
        let user = self.memory.sign_up(email);
        let token = self.issuer.issue_signed_in_at(&user.user_id, &user.email, unix_now()).expect("token").token;
        Person { user, token }
    }

    /// Another token of `person`'s: of type `typ`, issued at `iat` for `ttl` seconds.
    pub(crate) fn token(&self, person: &Person, typ: &str, iat: u64, ttl: u64) -> String {
        self.issuer.issue_with(person.id(), &person.user.email, typ, iat, ttl).expect("token").token
    }

    /// A space hosted by `host@…`, with a co-host, a participant, and a stranger to it.
    pub(crate) fn class(&self) -> Class {
        let host = self.person("host@example.com");
        let cohost = self.person("cohost@example.com");
        let member = self.person("member@example.com");
        let stranger = self.person("stranger@example.com");
        let space = self.memory.shared_space(host.id(), "Linear algebra");
        self.memory.join(&space.space_id, cohost.id(), Role::CoHost);
        self.memory.join(&space.space_id, member.id(), Role::Participant);
        Class { space, host, cohost, member, stranger }
    }

    /// A video of the class's space, created by its host, at `status` of its life.
    pub(crate) fn video(&self, class: &Class, status: VideoStatus) -> Video {
        let video = uploading(vivid_domain::types::VideoId::generate(), &class.space.space_id, class.host.id(), 1000);
        self.memory.add_video(&video, status)
    }

    pub(crate) fn auth(&self) -> Arc<TokenVerifier> {
        Arc::clone(&self.auth)
    }

    pub(crate) fn cursors(&self) -> Arc<Cursors> {
        Arc::clone(&self.cursors)
    }

    /// Sends `req` to `handler` through the edge's dispatcher.
    pub(crate) async fn send(&self, handler: &dyn Handler, req: Req) -> Reply {
        let resp = vivid_edge::http::dispatch(handler, req.build()).await;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match resp.into_body() {
            Body::Empty => Value::Null,
            Body::Text(t) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
            Body::Binary(b) => serde_json::from_slice(&b).unwrap_or_else(|_| Value::String(format!("{b:?}"))),
            _ => Value::Null,
        };
        Reply { status, headers, body }
    }
}

/// Every refused token gives 401 `unauthenticated` with a `Bearer` challenge; the tokens a forger
/// could make (none, garbage, expired, refresh-typed, another key's) are all refused.
#[tokio::test]
async fn tokens_that_are_not_the_caller_s_access_token_are_401() {
    let app = App::new();
    let class = app.class();
    let now = unix_now();
    let other = App::new();
    let foreign = other.token(&other.person("host@example.com"), "access", now, 900);
    let expired = app.token(&class.host, "access", now - 3600, 900);
    let refresh = app.token(&class.host, "refresh", now, 900);
    let handler = app.get_space();
    for (label, token) in [
        ("none", None),
        ("garbage", Some("not-a-jwt")),
        ("expired", Some(expired.as_str())),
        ("refresh-typed", Some(refresh.as_str())),
        ("another key", Some(foreign.as_str())),
    ] {
        let req = Req::get("/spaces/{spaceId}").param("spaceId", &class.space.space_id).bearer(token);
        let reply = app.send(&handler, req).await;
        assert_eq!((reply.status, reply.code()), (401, "unauthenticated"), "{label}");
        assert_eq!(reply.header("www-authenticate"), "Bearer", "{label}");
        assert_eq!(reply.header("content-type"), "application/problem+json", "{label}");
    }
    let req = Req::get("/spaces/{spaceId}").param("spaceId", &class.space.space_id).bearer(class.host.bearer());
    assert_eq!(app.send(&handler, req).await.status, 200);
}
