//! Routes that exist only in the local stack, under `/_local/`. Nothing here is compiled into
//! a Lambda function.

use std::sync::Arc;

use crate::{
    infra::cors::{self, CorsPolicy},
    standins::google::GoogleStandIn,
};
use axum::{body::Body, response::Response};
use http::{StatusCode, header};
use serde_json::json;
use vivid_cdn::verify_grant;
use vivid_domain::{
    error::{Guard, StoreError},
    sessions::AccessTokenIssuer,
    types::{Email, now_rfc3339, unix_now},
    users::{User, UserStore},
};
use vivid_tokens::TokenIssuer;

pub struct LocalRoutes {
    pub users: Arc<dyn UserStore>,
    pub issuer: Arc<TokenIssuer>,
    pub google: Arc<GoogleStandIn>,
    /// The media bucket, served under `/_local/cdn/` with CloudFront's signed-URL rule.
    pub s3: aws_sdk_s3::Client,
    pub media_bucket: String,
    pub cdn_public_der: Vec<u8>,
    /// The distribution's CORS policy (none when the template has none).
    pub cdn_cors: CorsPolicy,
    pub base: String,
    /// What the functions sent through SES.
    pub mail: crate::infra::mail::MailBox,
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
}

/// Where a platform stand-in (Webex, Zoom) returns — the front end's page in production: shows
/// what to post.
fn connected(query: &str, platform: &str) -> Response {
    let code = query_param(query, "code").unwrap_or_default();
    let state = query_param(query, "state").unwrap_or_default();
    reply(
        StatusCode::OK,
        json!({
            "code": code,
            "state": state,
            "next": format!("POST /{platform}/token with this code and state (and your access token) to connect"),
        }),
    )
}

fn html(page: String) -> Response {
    let mut resp = Response::new(Body::from(page));
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html; charset=utf-8"));
    resp
}

/// Where the local Google sign-in lands: shows the access token from the URL fragment, or the
/// refusal the callback put there (`#error=..&error_description=..&status=..`).
fn signed_in_page() -> Response {
    let html = r#"<!doctype html><html><head><title>VIVID local: signed in</title></head><body>
<h1 id="h">Signed in</h1><p id="p">Access token (from the URL fragment; the refresh token is in an HttpOnly cookie):</p>
<pre id="t"></pre>
<script>
const f = new URLSearchParams(location.hash.slice(1));
const el = (id) => document.getElementById(id);
if (f.get('error') && !f.get('accessToken')) {
  el('h').textContent = 'Not signed in';
  el('p').textContent = `${f.get('error')}${f.get('status') ? ` (${f.get('status')})` : ''}`;
  el('t').textContent = f.get('error_description') || 'declined at Google';
} else {
  el('t').textContent = f.get('accessToken') || location.hash;
}
</script>
</body></html>"#;
    let mut resp = Response::new(Body::from(html));
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html; charset=utf-8"));
    resp
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    resp
}

impl LocalRoutes {
    pub async fn serve(&self, parts: &http::request::Parts, _body: &[u8]) -> Response {
        match (parts.method.as_str(), parts.uri.path()) {
            ("GET", "/_local/token") => self.token(parts.uri.query().unwrap_or("")).await,
            ("GET", "/_local/idp/id-token") => self.id_token(parts.uri.query().unwrap_or("")),
            ("GET", "/_local/signed-in") => signed_in_page(),
            ("GET", "/_local/mail") => match self.mail.sent(None).await {
                Ok(mails) => html(crate::infra::mail::page(&mails)),
                Err(e) => reply(StatusCode::BAD_GATEWAY, json!({ "message": e })),
            },
            ("GET", "/_local/mail.json") => {
                let to = query_param(parts.uri.query().unwrap_or(""), "to");
                match self.mail.sent(to.as_deref()).await {
                    Ok(mails) => reply(StatusCode::OK, json!({ "items": mails })),
                    Err(e) => reply(StatusCode::BAD_GATEWAY, json!({ "message": e })),
                }
            }
            ("GET", "/_local/webex-connected") => connected(parts.uri.query().unwrap_or(""), "webex"),
            ("GET", "/_local/zoom-connected") => connected(parts.uri.query().unwrap_or(""), "zoom"),
            ("OPTIONS", path) if path.starts_with("/_local/cdn/") => self.cdn_cors.preflight(&parts.headers),
            ("GET" | "HEAD", path) if path.starts_with("/_local/cdn/") => {
                let mut resp = self.cdn(parts).await;
                if parts.method == http::Method::HEAD {
                    *resp.body_mut() = Body::empty();
                }
                self.cdn_cors.decorate(cors::origin(&parts.headers), resp.headers_mut());
                resp
            }
            _ => reply(StatusCode::NOT_FOUND, json!({ "message": "Not Found" })),
        }
    }

    /// `GET /_local/cdn/{key}`: the media bucket behind CloudFront's rule: a valid, unexpired
    /// custom-policy signature (query or cookies) whose resource covers the URL, else 403.
    async fn cdn(&self, parts: &http::request::Parts) -> Response {
        let path = parts.uri.path();
        let key = percent_encoding::percent_decode_str(path.trim_start_matches("/_local/cdn/"))
            .decode_utf8_lossy()
            .into_owned();
        let query = parts.uri.query().unwrap_or("");
        let cookies: Vec<(String, String)> = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let cookie = |name: &str| cookies.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let raw_param = |name: &str| {
            query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
        };
        let policy = raw_param("Policy").or_else(|| cookie("CloudFront-Policy"));
        let signature = raw_param("Signature").or_else(|| cookie("CloudFront-Signature"));
        let url = format!("{}{path}", self.base);
        let allowed = match (policy, signature) {
            (Some(p), Some(s)) => verify_grant(&self.cdn_public_der, &url, &p, &s, unix_now()),
            _ => false,
        };
        if !allowed {
            // CloudFront answers this with an XML error of its own (MissingKey, AccessDenied); the
            // stand-in also says what a player does about it: fetch a fresh grant.
            return reply(
                StatusCode::FORBIDDEN,
                json!({
                    "message": "Missing or invalid signature: request a fresh playback grant from GET /videos/{videoId}/playback"
                }),
            );
        }
        // One byte range, as CloudFront passes `Range` to S3 (players seek in an MP4 that way).
        let range = parts
            .headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .filter(|r| r.starts_with("bytes=") && !r.contains(','))
            .map(str::to_owned);
        let object = self.s3.get_object().bucket(&self.media_bucket).key(&key).set_range(range).send().await;
        let bytes = match object {
            Ok(out) => {
                let content_range = out.content_range.clone();
                out.body
                    .collect()
                    .await
                    .map(|b| Some((b.into_bytes().to_vec(), content_range)))
                    .map_err(|e| e.to_string())
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => {
                return reply(StatusCode::RANGE_NOT_SATISFIABLE, json!({ "message": "Range Not Satisfiable" }));
            }
            Err(e) => Err(aws_sdk_s3::error::DisplayErrorContext(e).to_string()),
        };
        match bytes {
            Ok(Some((bytes, content_range))) => {
                let mut resp = Response::new(Body::from(bytes));
                resp.headers_mut().insert(header::ACCEPT_RANGES, header::HeaderValue::from_static("bytes"));
                if let Some(v) = content_range.and_then(|r| header::HeaderValue::from_str(&r).ok()) {
                    *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                let ct = match key.rsplit('.').next() {
                    Some("m3u8") => "application/vnd.apple.mpegurl",
                    Some("ts") => "video/mp2t",
                    Some("mp4") => "video/mp4",
                    Some("jpg") => "image/jpeg",
                    _ => "application/octet-stream",
                };
                resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(ct));
                resp
            }
            Ok(None) => reply(StatusCode::NOT_FOUND, json!({ "message": "Not Found" })),
            Err(e) => reply(StatusCode::BAD_GATEWAY, json!({ "message": e })),
        }
    }

    /// `GET /_local/idp/id-token?email=..&name=..`: an ID token the Google stand-in signed, for
    /// `POST /auth/google` from scripts.
    fn id_token(&self, query: &str) -> Response {
        let Some(email) = query_param(query, "email") else {
            return reply(StatusCode::BAD_REQUEST, json!({ "message": "give ?email=<address>" }));
        };
        let name = query_param(query, "name").unwrap_or_else(|| email.clone());
        let token = self.google.id_token(&self.google.claims_for(&email, &name));
        reply(StatusCode::OK, json!({ "idToken": token }))
    }

    /// `GET /_local/token?email=..&name=..`: signs the user up on first use and returns an
    /// access token, for scripted clients and `curl`.
    async fn token(&self, query: &str) -> Response {
        let param = |name: &str| {
            query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| {
                percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned()
            })
        };
        let Some(Ok(email)) = param("email").map(|e| e.parse::<Email>()) else {
            return reply(StatusCode::BAD_REQUEST, json!({ "message": "give ?email=<address>" }));
        };
        let name = param("name").unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("user").to_owned());
        match self.user_for(email, name).await {
            Ok(user) => match self.issuer.issue_access(&user.user_id, &user.email) {
                Ok(t) => reply(
                    StatusCode::OK,
                    json!({ "accessToken": t.token, "expiresIn": t.expires_in, "userId": user.user_id }),
                ),
                Err(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "message": e.to_string() })),
            },
            Err(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "message": e.to_string() })),
        }
    }

    async fn user_for(&self, email: Email, name: String) -> Result<User, StoreError> {
        if let Some(user) = self.users.find_user_by_email(&email).await? {
            return Ok(user);
        }
        let (user, personal) = User::sign_up(email.clone(), name, None, &now_rfc3339());
        match self.users.create_user(&user, &personal, None).await {
            Ok(()) => Ok(user),
            // Two first calls raced: the other one won.
            Err(StoreError::Condition(_)) => {
                self.users.find_user_by_email(&email).await?.ok_or(StoreError::Condition(Guard::Email))
            }
            Err(e) => Err(e),
        }
    }
}
