//! The Webex REST adapter: the OAuth authorization-code flow (client credentials in the form),
//! recordings, and the download of a recording through its temporary link. The HTTP plumbing is
//! the connectors' shared `vivid-oauth`; every URL is configuration, so tests and the local stack
//! use a stand-in through this very code.
//!
//! Webex records in MP4 or in ARF, its own format (a site setting). Only MP4 can be imported: the
//! listing asks Webex for MP4 recordings (`format=MP4`) and drops any other that comes back, and
//! the download refuses any other (the import route refuses them before that).

use async_trait::async_trait;
use serde::Deserialize;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    connectors::{ByteStream, ConnectorError, OAuthClient, OAuthTokens, Provider, RecordingSource},
    webex::{IMPORTABLE_FORMAT, Recording, RecordingPage, WebexApi},
};
use vivid_oauth::{ClientAuth, DownloadRules, PlatformHttp, transport};
pub use vivid_oauth::{ClientSecret, client_secret};

/// Where temporary download links may point (Webex's content hosts).
const DOWNLOAD_HOSTS: &str = "*.webex.com,*.wbx2.com,*.webexcontent.com";

/// Where Webex is and who we are to it.
#[derive(Debug, Clone)]
pub struct WebexSettings {
    pub client_id: String,
    /// Only the functions that exchange or refresh tokens have it (from the secret store).
    pub client_secret: Option<ClientSecret>,
    /// `https://webexapis.com/v1/authorize`
    pub authorize_url: String,
    /// `https://webexapis.com/v1` (`/access_token`, `/recordings` below it)
    pub api_base: String,
    /// Our front end's page that receives `?code&state` and posts them to `POST /webex/token`.
    pub redirect_uri: String,
}

impl WebexSettings {
    pub fn from_config(cfg: &Config, client_secret: Option<ClientSecret>) -> Result<Self, ConfigError> {
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

/// The Webex adapter.
pub struct WebexHttp {
    http: PlatformHttp,
    settings: WebexSettings,
    downloads: DownloadRules,
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
    /// `MP4`, `ARF` or `UPLOADED`; `null` or absent reads as empty (not importable).
    #[serde(default)]
    format: Option<String>,
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
            format: r.format.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
struct Items {
    items: Vec<WxRecording>,
}

fn unavailable(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Unavailable(e.to_string())
}

impl WebexHttp {
    pub fn new(http: PlatformHttp, settings: WebexSettings, downloads: DownloadRules) -> Self {
        Self { http, settings, downloads }
    }

    /// Its settings, the download rules (`VIVID_WEBEX_DOWNLOAD_HOSTS`, the import cap and
    /// deadline) and an HTTP client of its own, built once at init.
    pub fn from_config(cfg: &Config, client_secret: Option<ClientSecret>) -> Result<Self, ConfigError> {
        Ok(Self::new(
            PlatformHttp::from_config(cfg)?,
            WebexSettings::from_config(cfg, client_secret)?,
            DownloadRules::from_config(cfg, "VIVID_WEBEX_DOWNLOAD_HOSTS", DOWNLOAD_HOSTS)?,
        ))
    }

    /// The client's credentials; the secret is read by the first request that needs it (a read
    /// that fails is a 503 and is tried again by the next request).
    async fn client(&self) -> Result<ClientAuth<'_>, ConnectorError> {
        let secret =
            self.settings.client_secret.as_ref().ok_or_else(|| unavailable("no Webex client secret configured"))?;
        let secret = secret.get().await.map_err(unavailable)?;
        Ok(ClientAuth::Form { id: &self.settings.client_id, secret })
    }

    fn token_url(&self) -> String {
        format!("{}/access_token", self.settings.api_base)
    }

    /// A URL below the API base, with its path segments and query encoded.
    fn url(&self, path: &[&str], query: &[(&str, &str)]) -> Result<reqwest::Url, ConnectorError> {
        // `.` and `..` are not ids: URL building would drop them and name another resource.
        if path.iter().any(|seg| matches!(*seg, "" | "." | "..")) {
            return Err(ConnectorError::NotFound);
        }
        let mut url = reqwest::Url::parse(&format!("{}/", self.settings.api_base.trim_end_matches('/')))
            .map_err(|e| unavailable(format!("the Webex API base is not a URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|_| unavailable("the Webex API base cannot have paths"))?
            .pop_if_empty()
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// A recording and its temporary download link.
    async fn details(&self, access_token: &str, id: &str) -> Result<(Recording, String), ConnectorError> {
        let resp = self.http.get(self.url(&["recordings", id], &[])?.as_str(), access_token).await?;
        let mut r: WxRecording = resp.json().await.map_err(transport)?;
        let link = r
            .temporary_direct_download_links
            .take()
            .and_then(|l| l.recording_download_link)
            .ok_or_else(|| unavailable("the recording has no download link"))?;
        Ok((r.into(), link))
    }
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
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
        ];
        self.http.token(&self.token_url(), self.client().await?, &form, true).await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<OAuthTokens, ConnectorError> {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        self.http.token(&self.token_url(), self.client().await?, &form, false).await
    }

    /// Webex's Authorizations API: `DELETE /v1/authorizations?clientId={our client id}` with the
    /// user's access token deletes the user's authorization of this integration, its refresh
    /// and access tokens with it (`docs/vendors.md`). Webex documents the API for admins (scope
    /// `identity:tokens_write`): a user's token without it is refused, which the caller logs.
    async fn revoke(&self, tokens: &OAuthTokens) -> Result<(), ConnectorError> {
        let url = self.url(&["authorizations"], &[("clientId", self.settings.client_id.as_str())])?;
        self.http.delete(url.as_str(), &tokens.access_token).await
    }
}

#[async_trait]
impl RecordingSource for WebexHttp {
    /// The recording's temporary download link, then its body (the link carries its own token);
    /// a recording that is not an MP4 is refused before anything is downloaded.
    async fn open(&self, access_token: &str, recording: &str) -> Result<ByteStream, ConnectorError> {
        let (recording, link) = self.details(access_token, recording).await?;
        recording.importable()?;
        self.http.download(&link, None, &self.downloads).await
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
            // Only importable recordings: Webex filters by format (and its next links keep it).
            None => {
                let max = max.to_string();
                let mut query = vec![("max", max.as_str()), ("format", IMPORTABLE_FORMAT)];
                query.extend(from.map(|f| ("from", f)));
                query.extend(to.map(|t| ("to", t)));
                self.url(&["recordings"], &query)?.into()
            }
        };
        let resp = self.http.get(&url, access_token).await?;
        let next = resp
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.split(',').find(|p| p.contains("rel=\"next\"")))
            .and_then(|p| p.split(';').next())
            .map(|u| u.trim().trim_start_matches('<').trim_end_matches('>').to_owned());
        let items: Items = resp.json().await.map_err(transport)?;
        // Whatever else still comes back (Webex ignoring the filter, a link without it) is left out.
        let items = items.items.into_iter().map(Recording::from).filter(Recording::is_importable).collect();
        Ok(RecordingPage { items, next })
    }

    async fn recording(&self, access_token: &str, id: &str) -> Result<Recording, ConnectorError> {
        Ok(self.details(access_token, id).await?.0)
    }
}
