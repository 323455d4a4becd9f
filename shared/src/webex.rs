//! Webex: the authorization-code flow, the caller's recordings (with transparent token refresh),
//! and the streaming import of a recording into the raw bucket. Every URL is configuration, so
//! tests and the local stack use a stand-in through this very code.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{auth::unix_now, error::ApiError, types::UserId};

/// Where Webex is and who we are to it.
#[derive(Debug, Clone)]
pub struct WebexSettings {
    pub client_id: String,
    pub client_secret: String,
    /// `https://webexapis.com/v1/authorize`
    pub authorize_url: String,
    /// `https://webexapis.com/v1` (`/access_token`, `/recordings` below it)
    pub api_base: String,
    /// Our front end's page that receives `?code&state` and posts them to `POST /webex/token`.
    pub redirect_uri: String,
}

/// A user's Webex tokens. Never returned by the API, never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebexTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: u64,
    pub refresh_expires_at: u64,
}

impl std::fmt::Debug for WebexTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebexTokens")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

impl WebexTokens {
    /// Whether the access token is (about to be) expired.
    pub fn access_expired(&self, now: u64) -> bool {
        self.access_expires_at <= now + 30
    }
}

/// A recording as our API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    pub recording_id: String,
    pub topic: String,
    pub host_email: String,
    pub time_recorded: String,
    pub duration_seconds: u64,
    pub size_bytes: u64,
}

/// How a Webex call failed.
#[derive(Debug, thiserror::Error)]
pub enum WebexError {
    /// 401: the access token is expired or revoked.
    #[error("the Webex access token was refused")]
    Unauthorized,
    /// The refresh token was refused: the user must connect again.
    #[error("the Webex connection must be renewed")]
    ReconnectRequired,
    /// 429 with the server's `Retry-After`.
    #[error("Webex is rate limiting (retry after {0:?})")]
    RateLimited(Option<Duration>),
    /// 404 of a recording.
    #[error("no such Webex recording")]
    NotFound,
    /// 4xx of the authorization code.
    #[error("the Webex authorization code was refused")]
    BadCode,
    /// 5xx, transport failures, unreadable answers.
    #[error("Webex failed: {0}")]
    Unavailable(String),
}

impl From<WebexError> for ApiError {
    fn from(e: WebexError) -> Self {
        match e {
            WebexError::ReconnectRequired | WebexError::Unauthorized => ApiError::conflict(
                "webex_reconnect_required",
                "the Webex connection has expired or was revoked: connect Webex again",
            ),
            WebexError::RateLimited(_) => ApiError::upstream("webex_rate_limited", "Webex is busy; try again shortly"),
            WebexError::NotFound => ApiError::NotFound("recording"),
            WebexError::BadCode => ApiError::bad_request("invalid_code", "Webex refused the authorization code"),
            WebexError::Unavailable(detail) => {
                tracing::warn!(detail, "Webex unavailable");
                ApiError::upstream("webex_unavailable", "Webex did not answer properly; try again later")
            }
        }
    }
}

/// A page of recordings and the link to the next.
#[derive(Debug, Clone)]
pub struct RecordingPage {
    pub items: Vec<Recording>,
    pub next: Option<String>,
}

/// A download: a stream of chunks.
pub type ByteStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, WebexError>> + Send>>;

#[async_trait]
pub trait WebexApi: Send + Sync {
    fn authorize_url(&self, state: &str) -> String;
    async fn exchange_code(&self, code: &str) -> Result<WebexTokens, WebexError>;
    async fn refresh(&self, refresh_token: &str) -> Result<WebexTokens, WebexError>;
    /// Recordings between `from` and `to` (RFC 3339), `max` a page; `page` a next link.
    async fn recordings(
        &self,
        access_token: &str,
        from: Option<&str>,
        to: Option<&str>,
        max: u16,
        page: Option<&str>,
    ) -> Result<RecordingPage, WebexError>;
    /// A recording's details and its temporary download link.
    async fn recording(&self, access_token: &str, id: &str) -> Result<(Recording, String), WebexError>;
    /// Streams a download link's body.
    async fn download(&self, link: &str) -> Result<ByteStream, WebexError>;
}

/// The user's Webex connection in the store.
#[async_trait]
pub trait WebexStore: Send + Sync {
    async fn webex_tokens(&self, user: &UserId) -> Result<Option<WebexTokens>, crate::error::StoreError>;
    async fn put_webex_tokens(&self, user: &UserId, tokens: &WebexTokens) -> Result<(), crate::error::StoreError>;
    async fn delete_webex_tokens(&self, user: &UserId) -> Result<(), crate::error::StoreError>;
    /// A short-lived state bound to the user; taken once.
    async fn put_webex_state(
        &self,
        state: &str,
        user: &UserId,
        expires_at: u64,
    ) -> Result<(), crate::error::StoreError>;
    async fn take_webex_state(&self, state: &str, user: &UserId, now: u64) -> Result<bool, crate::error::StoreError>;
}

/// The user's tokens, refreshed (and stored) when the access token has expired.
pub async fn fresh_tokens(api: &dyn WebexApi, store: &dyn WebexStore, user: &UserId) -> Result<WebexTokens, ApiError> {
    let tokens = store
        .webex_tokens(user)
        .await?
        .ok_or_else(|| ApiError::conflict("webex_not_connected", "connect Webex first"))?;
    if !tokens.access_expired(unix_now()) {
        return Ok(tokens);
    }
    refresh_and_store(api, store, user, &tokens).await
}

pub async fn refresh_and_store(
    api: &dyn WebexApi,
    store: &dyn WebexStore,
    user: &UserId,
    tokens: &WebexTokens,
) -> Result<WebexTokens, ApiError> {
    let fresh = api.refresh(&tokens.refresh_token).await?;
    store.put_webex_tokens(user, &fresh).await?;
    tracing::info!(user_id = %user, "Webex access token refreshed");
    Ok(fresh)
}

/// The Webex REST adapter (reqwest, rustls).
pub struct WebexHttp {
    http: reqwest::Client,
    settings: WebexSettings,
    /// The longest `Retry-After` waited for before giving up.
    max_wait: Duration,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    refresh_token: String,
    refresh_token_expires_in: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WxRecording {
    id: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    host_email: String,
    #[serde(default)]
    time_recorded: String,
    #[serde(default)]
    duration_seconds: u64,
    #[serde(default)]
    size_bytes: u64,
    #[serde(default)]
    temporary_direct_download_links: Option<DownloadLinks>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DownloadLinks {
    recording_download_link: Option<String>,
}

impl From<WxRecording> for Recording {
    fn from(r: WxRecording) -> Self {
        Self {
            recording_id: r.id,
            topic: r.topic,
            host_email: r.host_email,
            time_recorded: r.time_recorded,
            duration_seconds: r.duration_seconds,
            size_bytes: r.size_bytes,
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> WebexError {
    WebexError::Unavailable(e.to_string())
}

/// A transport failure, without its URL: download links carry a temporary token, and the
/// message ends up in logs and in a video's failure reason.
fn transport(e: reqwest::Error) -> WebexError {
    WebexError::Unavailable(e.without_url().to_string())
}

fn enc(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl WebexHttp {
    pub fn new(http: reqwest::Client, settings: WebexSettings) -> Self {
        Self { http, settings, max_wait: Duration::from_secs(5) }
    }

    async fn tokens(&self, form: &[(&str, &str)], code_flow: bool) -> Result<WebexTokens, WebexError> {
        let body = form.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&");
        let resp = self
            .http
            .post(format!("{}/access_token", self.settings.api_base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        if status.is_client_error() {
            return Err(if code_flow { WebexError::BadCode } else { WebexError::ReconnectRequired });
        }
        if !status.is_success() {
            return Err(unavailable(format!("token endpoint answered {status}")));
        }
        let t: TokenResponse = resp.json().await.map_err(transport)?;
        let now = unix_now();
        Ok(WebexTokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            access_expires_at: now + t.expires_in,
            refresh_expires_at: now + t.refresh_token_expires_in,
        })
    }

    /// A GET with the access token; a 429 is waited out once when `Retry-After` is short.
    async fn get(&self, url: &str, access_token: &str) -> Result<reqwest::Response, WebexError> {
        for attempt in 0..2 {
            let resp = self.http.get(url).bearer_auth(access_token).send().await.map_err(transport)?;
            match resp.status().as_u16() {
                200..=299 => return Ok(resp),
                401 => return Err(WebexError::Unauthorized),
                404 => return Err(WebexError::NotFound),
                429 => {
                    let wait = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    match wait {
                        Some(w) if attempt == 0 && w <= self.max_wait => tokio::time::sleep(w).await,
                        _ => return Err(WebexError::RateLimited(wait)),
                    }
                }
                status => return Err(unavailable(format!("Webex answered {status}"))),
            }
        }
        Err(WebexError::RateLimited(None))
    }
}

#[derive(Deserialize)]
struct Items {
    items: Vec<WxRecording>,
}

#[async_trait]
impl WebexApi for WebexHttp {
    fn authorize_url(&self, state: &str) -> String {
        format!(
            "{}?client_id={}&response_type=code&redirect_uri={}&scope={}&state={}",
            self.settings.authorize_url,
            enc(&self.settings.client_id),
            enc(&self.settings.redirect_uri),
            enc("spark:recordings_read meeting:recordings_read"),
            enc(state)
        )
    }

    async fn exchange_code(&self, code: &str) -> Result<WebexTokens, WebexError> {
        let s = &self.settings;
        self.tokens(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &s.client_id),
                ("client_secret", &s.client_secret),
                ("code", code),
                ("redirect_uri", &s.redirect_uri),
            ],
            true,
        )
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<WebexTokens, WebexError> {
        let s = &self.settings;
        self.tokens(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &s.client_id),
                ("client_secret", &s.client_secret),
                ("refresh_token", refresh_token),
            ],
            false,
        )
        .await
    }

    async fn recordings(
        &self,
        access_token: &str,
        from: Option<&str>,
        to: Option<&str>,
        max: u16,
        page: Option<&str>,
    ) -> Result<RecordingPage, WebexError> {
        let url = match page {
            // Only links on Webex's own base are followed.
            Some(link) if link.starts_with(&self.settings.api_base) => link.to_owned(),
            Some(_) => return Err(unavailable("a next link outside the Webex API")),
            None => {
                let mut url = format!("{}/recordings?max={max}", self.settings.api_base);
                if let Some(f) = from {
                    url.push_str(&format!("&from={}", enc(f)));
                }
                if let Some(t) = to {
                    url.push_str(&format!("&to={}", enc(t)));
                }
                url
            }
        };
        let resp = self.get(&url, access_token).await?;
        let next = resp
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.split(',').find(|p| p.contains("rel=\"next\"")))
            .and_then(|p| p.split(';').next())
            .map(|u| u.trim().trim_start_matches('<').trim_end_matches('>').to_owned());
        let items: Items = resp.json().await.map_err(transport)?;
        Ok(RecordingPage { items: items.items.into_iter().map(Recording::from).collect(), next })
    }

    async fn recording(&self, access_token: &str, id: &str) -> Result<(Recording, String), WebexError> {
        let resp = self.get(&format!("{}/recordings/{}", self.settings.api_base, enc(id)), access_token).await?;
        let mut r: WxRecording = resp.json().await.map_err(transport)?;
        let link = r
            .temporary_direct_download_links
            .take()
            .and_then(|l| l.recording_download_link)
            .ok_or_else(|| unavailable("the recording has no download link"))?;
        Ok((r.into(), link))
    }

    async fn download(&self, link: &str) -> Result<ByteStream, WebexError> {
        use futures_util::TryStreamExt;
        let resp = self.http.get(link).send().await.map_err(transport)?;
        if !resp.status().is_success() {
            return Err(unavailable(format!("the download answered {}", resp.status())));
        }
        Ok(Box::pin(resp.bytes_stream().map_err(transport)))
    }
}
