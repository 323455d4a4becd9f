//! The Webex REST adapter (reqwest, rustls): the OAuth authorization-code flow, recordings, and
//! the download of a recording's file. Every URL is configuration, so tests and the local stack
//! use a stand-in through this very code.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use serde::Deserialize;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    connectors::{ByteStream, ConnectorError, OAuthClient, OAuthTokens, Provider, RecordingSource},
    types::unix_now,
    webex::{Recording, RecordingPage, WebexApi},
};

/// Where Webex is and who we are to it.
#[derive(Debug, Clone)]
pub struct WebexSettings {
    pub client_id: String,
    /// Only the functions that exchange or refresh tokens have it (from the secret store).
    pub client_secret: Option<String>,
    /// `https://webexapis.com/v1/authorize`
    pub authorize_url: String,
    /// `https://webexapis.com/v1` (`/access_token`, `/recordings` below it)
    pub api_base: String,
    /// Our front end's page that receives `?code&state` and posts them to `POST /webex/token`.
    pub redirect_uri: String,
}

impl WebexSettings {
    pub fn from_config(cfg: &Config, client_secret: Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            client_id: cfg.var("VIVID_WEBEX_CLIENT_ID")?,
            client_secret,
            authorize_url: cfg
                .optional("VIVID_WEBEX_AUTHORIZE_URL")
                .unwrap_or_else(|| "https://webexapis.com/v1/authorize".to_owned()),
            api_base: cfg.optional("VIVID_WEBEX_API_BASE").unwrap_or_else(|| "https://webexapis.com/v1".to_owned()),
            redirect_uri: cfg.var("VIVID_WEBEX_REDIRECT_URI")?,
        })
    }
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

fn unavailable(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Unavailable(e.to_string())
}

/// A transport failure, without its URL: download links carry a temporary token, and the
/// message ends up in logs and in a video's failure reason.
fn transport(e: reqwest::Error) -> ConnectorError {
    ConnectorError::Unavailable(e.without_url().to_string())
}

impl WebexHttp {
    pub fn new(http: reqwest::Client, settings: WebexSettings) -> Self {
        Self { http, settings, max_wait: Duration::from_secs(5) }
    }

    /// With an HTTP client of its own (rustls, 5-second connect timeout), built once at init.
    pub fn with_settings(settings: WebexSettings) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ConfigError::Client { what: "the Webex HTTP client", detail: e.to_string() })?;
        Ok(Self::new(http, settings))
    }

    fn secret(&self) -> Result<&str, ConnectorError> {
        self.settings.client_secret.as_deref().ok_or_else(|| unavailable("no Webex client secret configured"))
    }

    async fn tokens(&self, form: &[(&str, &str)], code_flow: bool) -> Result<OAuthTokens, ConnectorError> {
        let resp = self
            .http
            .post(format!("{}/access_token", self.settings.api_base))
            .form(form)
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        if status.is_client_error() {
            return Err(if code_flow { ConnectorError::BadCode } else { ConnectorError::ReconnectRequired });
        }
        if !status.is_success() {
            return Err(unavailable(format!("token endpoint answered {status}")));
        }
        let t: TokenResponse = resp.json().await.map_err(transport)?;
        let now = unix_now();
        Ok(OAuthTokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            access_expires_at: now + t.expires_in,
            refresh_expires_at: now + t.refresh_token_expires_in,
        })
    }

    /// A GET with the access token; a 429 is waited out once when `Retry-After` is short.
    async fn get(&self, url: &str, access_token: &str) -> Result<reqwest::Response, ConnectorError> {
        for attempt in 0..2 {
            let resp = self.http.get(url).bearer_auth(access_token).send().await.map_err(transport)?;
            match resp.status().as_u16() {
                200..=299 => return Ok(resp),
                401 => return Err(ConnectorError::Unauthorized),
                404 => return Err(ConnectorError::NotFound),
                429 => {
                    let wait = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    match wait {
                        Some(w) if attempt == 0 && w <= self.max_wait => tokio::time::sleep(w).await,
                        _ => return Err(ConnectorError::RateLimited(wait)),
                    }
                }
                status => return Err(unavailable(format!("Webex answered {status}"))),
            }
        }
        Err(ConnectorError::RateLimited(None))
    }
}

#[derive(Deserialize)]
struct Items {
    items: Vec<WxRecording>,
}

#[async_trait]
impl OAuthClient for WebexHttp {
    fn provider(&self) -> Provider {
        Provider::Webex
    }

    fn authorize_url(&self, state: &str) -> String {
        let params = [
            ("client_id", self.settings.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
            ("scope", "spark:recordings_read meeting:recordings_read"),
            ("state", state),
        ];
        match reqwest::Url::parse_with_params(&self.settings.authorize_url, &params) {
            Ok(url) => url.into(),
            Err(_) => self.settings.authorize_url.clone(),
        }
    }

    async fn exchange_code(&self, code: &str) -> Result<OAuthTokens, ConnectorError> {
        let s = &self.settings;
        self.tokens(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &s.client_id),
                ("client_secret", self.secret()?),
                ("code", code),
                ("redirect_uri", &s.redirect_uri),
            ],
            true,
        )
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<OAuthTokens, ConnectorError> {
        self.tokens(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &self.settings.client_id),
                ("client_secret", self.secret()?),
                ("refresh_token", refresh_token),
            ],
            false,
        )
        .await
    }

    /// Webex integrations have no token revocation endpoint.
    async fn revoke(&self, _tokens: &OAuthTokens) -> Result<(), ConnectorError> {
        Ok(())
    }
}

#[async_trait]
impl RecordingSource for WebexHttp {
    /// The recording's temporary download link, then its body.
    async fn open(&self, access_token: &str, recording: &str) -> Result<ByteStream, ConnectorError> {
        let link = self.details(access_token, recording).await?.1;
        let resp = self.http.get(&link).send().await.map_err(transport)?;
        if !resp.status().is_success() {
            return Err(unavailable(format!("the download answered {}", resp.status())));
        }
        Ok(Box::pin(resp.bytes_stream().map_err(transport)))
    }
}

impl WebexHttp {
    /// A recording and its temporary download link.
    async fn details(&self, access_token: &str, id: &str) -> Result<(Recording, String), ConnectorError> {
        let url = self.url(&["recordings", id], &[])?;
        let resp = self.get(url.as_str(), access_token).await?;
        let mut r: WxRecording = resp.json().await.map_err(transport)?;
        let link = r
            .temporary_direct_download_links
            .take()
            .and_then(|l| l.recording_download_link)
            .ok_or_else(|| unavailable("the recording has no download link"))?;
        Ok((r.into(), link))
    }

    /// A URL below the API base, with its path segment and query encoded.
    fn url(&self, path: &[&str], query: &[(&str, &str)]) -> Result<reqwest::Url, ConnectorError> {
        let mut url = reqwest::Url::parse(&format!("{}/", self.settings.api_base.trim_end_matches('/')))
            .map_err(|e| unavailable(format!("the Webex API base is not a URL: {e}")))?;
        {
            let mut segments =
                url.path_segments_mut().map_err(|_| unavailable("the Webex API base cannot have paths"))?;
            segments.pop_if_empty();
            segments.extend(path);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }
}

#[async_trait]
impl WebexApi for WebexHttp {
    async fn recordings(
        &self,
        access_token: &str,
        from: Option<&str>,
        to: Option<&str>,
        max: u16,
        page: Option<&str>,
    ) -> Result<RecordingPage, ConnectorError> {
        let url = match page {
            // Only links on Webex's own base are followed.
            Some(link) if link.starts_with(&self.settings.api_base) => link.to_owned(),
            Some(_) => return Err(unavailable("a next link outside the Webex API")),
            None => {
                let max = max.to_string();
                let mut query = vec![("max", max.as_str())];
                query.extend(from.map(|f| ("from", f)));
                query.extend(to.map(|t| ("to", t)));
                self.url(&["recordings"], &query)?.into()
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

    async fn recording(&self, access_token: &str, id: &str) -> Result<Recording, ConnectorError> {
        Ok(self.details(access_token, id).await?.0)
    }
}
