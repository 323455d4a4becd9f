//! The Zoom REST adapter: the OAuth authorization-code flow of a user-level app (client
//! credentials as HTTP Basic; refresh tokens rotate on every use), cloud recordings, the download
//! of a recording file (with the user's access token, redirects to Zoom's hosts only). Every URL
//! is configuration, so tests and the local stack use a stand-in through this very code.

use async_trait::async_trait;
use serde::Deserialize;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    connectors::{ByteStream, ConnectorError, OAuthClient, OAuthTokens, Provider, RecordingSource, read_bounded},
    zoom::{ZoomApi, ZoomFile, ZoomMeeting, ZoomPage, parse_file_ref},
};
use vivid_oauth::{ClientAuth, DownloadRules, PlatformHttp, transport};
pub use vivid_oauth::{ClientSecret, client_secret};

/// Where recording downloads may be served from.
const DOWNLOAD_HOSTS: &str = "zoom.us,*.zoom.us";

/// Where Zoom is and who we are to it.
#[derive(Debug, Clone)]
pub struct ZoomSettings {
    pub client_id: String,
    /// Only the functions that exchange, refresh or revoke tokens have it (secret store).
    pub client_secret: Option<ClientSecret>,
    /// `https://zoom.us` (`/oauth/authorize`, `/oauth/token`, `/oauth/revoke`).
    pub oauth_base: String,
    /// `https://api.zoom.us/v2`.
    pub api_base: String,
    /// The front end's page Zoom returns to with `code` and `state`.
    pub redirect_uri: String,
}

impl ZoomSettings {
    pub fn from_config(cfg: &Config, client_secret: Option<ClientSecret>) -> Result<Self, ConfigError> {
        let url = |var: &str, default: &str| cfg.optional(var).unwrap_or_else(|| default.to_owned());
        Ok(Self {
            client_id: cfg.var("VIVID_ZOOM_CLIENT_ID")?,
            client_secret,
            oauth_base: url("VIVID_ZOOM_OAUTH_BASE", "https://zoom.us"),
            api_base: url("VIVID_ZOOM_API_BASE", "https://api.zoom.us/v2"),
            redirect_uri: cfg.var("VIVID_ZOOM_REDIRECT_URI")?,
        })
    }
}

pub struct ZoomHttp {
    http: PlatformHttp,
    settings: ZoomSettings,
    downloads: DownloadRules,
}

fn unavailable(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Unavailable(e.to_string())
}

#[derive(Deserialize)]
struct ZmFile {
    #[serde(default)]
    id: String,
    #[serde(default)]
    file_type: String,
    #[serde(default)]
    recording_type: String,
    #[serde(default)]
    file_size: u64,
    #[serde(default)]
    download_url: String,
    #[serde(default)]
    status: String,
    /// When the file's segment of the meeting started: a meeting recorded, stopped and recorded
    /// again has a video (and a transcript) per segment.
    #[serde(default)]
    recording_start: String,
}

#[derive(Deserialize)]
struct ZmMeeting {
    /// The meeting instance's UUID; a listing entry without one (Zoom's docs mark no field
    /// required) cannot be imported and is left out, not a failure of the whole page.
    #[serde(default)]
    uuid: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    duration: u64,
    #[serde(default)]
    total_size: u64,
    #[serde(default)]
    recording_files: Vec<ZmFile>,
}

impl ZmFile {
    fn is_video(&self) -> bool {
        self.file_type.eq_ignore_ascii_case("MP4") && !self.id.is_empty() && self.status != "processing"
    }

    fn is_transcript(&self) -> bool {
        matches!(self.file_type.to_ascii_uppercase().as_str(), "TRANSCRIPT" | "CC") && !self.id.is_empty()
    }
}

impl From<ZmMeeting> for ZoomMeeting {
    fn from(m: ZmMeeting) -> Self {
        let transcript_file_id = m.recording_files.iter().find(|f| f.is_transcript()).map(|f| f.id.clone());
        let files = m
            .recording_files
            .into_iter()
            .filter(ZmFile::is_video)
            .map(|f| ZoomFile {
                recording_file_id: f.id,
                recording_type: f.recording_type,
                size_bytes: f.file_size,
                recording_start: f.recording_start,
            })
            .collect();
        Self {
            meeting_id: m.uuid,
            topic: m.topic,
            start_time: m.start_time,
            duration_minutes: m.duration,
            total_size_bytes: m.total_size,
            files,
            transcript_file_id,
        }
    }
}

#[derive(Deserialize)]
struct ZmList {
    #[serde(default)]
    meetings: Vec<ZmMeeting>,
    #[serde(default)]
    next_page_token: String,
}

#[derive(Deserialize)]
struct ZmUser {
    id: String,
}

/// A meeting UUID in a URL path: Zoom asks for it double-encoded when it starts with `/` or
/// contains `//`.
fn meeting_path(uuid: &str) -> String {
    let once = reqwest::Url::parse("http://x/").ok().and_then(|mut u| {
        u.path_segments_mut().ok()?.push(uuid);
        Some(u.path().trim_start_matches('/').to_owned())
    });
    let once = once.unwrap_or_default();
    if uuid.starts_with('/') || uuid.contains("//") { once.replace('%', "%25") } else { once }
}

impl ZoomHttp {
    pub fn new(http: PlatformHttp, settings: ZoomSettings, downloads: DownloadRules) -> Self {
        Self { http, settings, downloads }
    }

    /// Settings, download rules (`VIVID_ZOOM_DOWNLOAD_HOSTS`, the import cap and deadline) and an
    /// HTTP client of its own, built once at init.
    pub fn from_config(cfg: &Config, client_secret: Option<ClientSecret>) -> Result<Self, ConfigError> {
        Ok(Self::new(
            PlatformHttp::from_config(cfg)?,
            ZoomSettings::from_config(cfg, client_secret)?,
            DownloadRules::from_config(cfg, "VIVID_ZOOM_DOWNLOAD_HOSTS", DOWNLOAD_HOSTS)?,
        ))
    }

    /// The client's credentials; the secret is read by the first request that needs it (a read
    /// that fails is a 503 and is tried again by the next request).
    async fn client(&self) -> Result<ClientAuth<'_>, ConnectorError> {
        let secret =
            self.settings.client_secret.as_ref().ok_or_else(|| unavailable("no Zoom client secret configured"))?;
        let secret = secret.get().await.map_err(unavailable)?;
        Ok(ClientAuth::Basic { id: &self.settings.client_id, secret })
    }

    fn api(&self, path: &str) -> String {
        format!("{}/{path}", self.settings.api_base.trim_end_matches('/'))
    }

    async fn meeting_raw(&self, access_token: &str, meeting_id: &str) -> Result<ZmMeeting, ConnectorError> {
        // `.` and `..` are not meeting ids: URL building would drop them and name another resource.
        if matches!(meeting_id, "" | "." | "..") {
            return Err(ConnectorError::NotFound);
        }
        let url = self.api(&format!("meetings/{}/recordings", meeting_path(meeting_id)));
        self.http.get(&url, access_token).await?.json().await.map_err(transport)
    }
}

#[async_trait]
impl OAuthClient for ZoomHttp {
    fn provider(&self) -> Provider {
        Provider::Zoom
    }

    fn authorize_url(&self, state: &str) -> String {
        let base = format!("{}/oauth/authorize", self.settings.oauth_base.trim_end_matches('/'));
        let params = [
            ("response_type", "code"),
            ("client_id", self.settings.client_id.as_str()),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
            ("state", state),
        ];
        match reqwest::Url::parse_with_params(&base, &params) {
            Ok(url) => url.into(),
            Err(_) => base,
        }
    }

    async fn exchange_code(&self, code: &str) -> Result<OAuthTokens, ConnectorError> {
        let url = format!("{}/oauth/token", self.settings.oauth_base.trim_end_matches('/'));
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
        ];
        self.http.token(&url, self.client().await?, &form, true).await
    }

    /// Zoom rotates refresh tokens: the pair that comes back replaces the stored one at once.
    async fn refresh(&self, refresh_token: &str) -> Result<OAuthTokens, ConnectorError> {
        let url = format!("{}/oauth/token", self.settings.oauth_base.trim_end_matches('/'));
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        self.http.token(&url, self.client().await?, &form, false).await
    }

    /// `POST /oauth/revoke` as the client (HTTP Basic) with `token` = the access token, as Zoom
    /// documents it: the user's grant (the app's authorization) ends, refresh token included.
    async fn revoke(&self, tokens: &OAuthTokens) -> Result<(), ConnectorError> {
        let url = format!("{}/oauth/revoke", self.settings.oauth_base.trim_end_matches('/'));
        self.http.post_form(&url, self.client().await?, &[("token", tokens.access_token.as_str())]).await
    }

    async fn account_id(&self, access_token: &str) -> Result<Option<String>, ConnectorError> {
        Ok(Some(self.user_id(access_token).await?))
    }
}

#[async_trait]
impl RecordingSource for ZoomHttp {
    /// The file's `download_url` from its meeting's recording, downloaded with the access token.
    async fn open(&self, access_token: &str, recording: &str) -> Result<ByteStream, ConnectorError> {
        let (meeting, file) = parse_file_ref(recording).ok_or(ConnectorError::NotFound)?;
        let m = self.meeting_raw(access_token, meeting).await?;
        let f = m.recording_files.iter().find(|f| f.id == file && f.is_video()).ok_or(ConnectorError::NotFound)?;
        if f.download_url.is_empty() {
            return Err(unavailable("the recording file has no download URL yet"));
        }
        self.http.download(&f.download_url, Some(access_token), &self.downloads).await
    }

    /// The audio transcript (`TRANSCRIPT`), else the closed captions (`CC`), of the imported
    /// video's segment of the meeting (the same `recording_start`).
    async fn transcript(
        &self,
        access_token: &str,
        recording: &str,
        limit: usize,
    ) -> Result<Option<Vec<u8>>, ConnectorError> {
        let (meeting, file) = parse_file_ref(recording).ok_or(ConnectorError::NotFound)?;
        let m = self.meeting_raw(access_token, meeting).await?;
        // The transcript of the imported video's segment, not another segment's.
        let Some(video) = m.recording_files.iter().find(|f| f.id == file) else { return Ok(None) };
        let ready = |kind: &str| {
            m.recording_files.iter().find(|f| {
                f.is_transcript()
                    && f.file_type.eq_ignore_ascii_case(kind)
                    && f.recording_start == video.recording_start
                    && !f.download_url.is_empty()
                    && f.status != "processing"
            })
        };
        let Some(f) = ready("TRANSCRIPT").or_else(|| ready("CC")) else { return Ok(None) };
        if f.file_size > limit as u64 {
            return Ok(None);
        }
        let body = self.http.download(&f.download_url, Some(access_token), &self.downloads).await?;
        read_bounded(body, limit).await
    }
}

#[async_trait]
impl ZoomApi for ZoomHttp {
    async fn user_id(&self, access_token: &str) -> Result<String, ConnectorError> {
        let user: ZmUser = self.http.get(&self.api("users/me"), access_token).await?.json().await.map_err(transport)?;
        Ok(user.id)
    }

    async fn recordings(
        &self,
        access_token: &str,
        from: &str,
        to: &str,
        page_size: u16,
        next_page_token: Option<&str>,
    ) -> Result<ZoomPage, ConnectorError> {
        let size = page_size.clamp(1, 300).to_string();
        let mut params = vec![("from", from), ("to", to), ("page_size", size.as_str())];
        params.extend(next_page_token.map(|t| ("next_page_token", t)));
        let url = reqwest::Url::parse_with_params(&self.api("users/me/recordings"), &params)
            .map_err(|e| unavailable(format!("the Zoom API base is not a URL: {e}")))?;
        let list: ZmList = self.http.get(url.as_str(), access_token).await?.json().await.map_err(transport)?;
        let (meetings, unnamed): (Vec<ZmMeeting>, Vec<ZmMeeting>) =
            list.meetings.into_iter().partition(|m| !m.uuid.is_empty());
        if !unnamed.is_empty() {
            tracing::warn!(count = unnamed.len(), "Zoom listed recordings without a meeting UUID: left out");
        }
        Ok(ZoomPage {
            meetings: meetings.into_iter().map(ZoomMeeting::from).collect(),
            next_page_token: Some(list.next_page_token).filter(|t| !t.is_empty()),
        })
    }

    async fn meeting(&self, access_token: &str, meeting_id: &str) -> Result<ZoomMeeting, ConnectorError> {
        let mut m = self.meeting_raw(access_token, meeting_id).await?;
        // The instance's UUID is what a file reference names; Zoom answers with it, but a
        // response without one still names the meeting asked for.
        if m.uuid.is_empty() {
            m.uuid = meeting_id.to_owned();
        }
        Ok(m.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_uuids_are_encoded_as_zoom_asks() {
        assert_eq!(meeting_path("abc=="), "abc==");
        assert_eq!(meeting_path("/ajXp112QmuoKj4854875=="), "%252FajXp112QmuoKj4854875==");
        assert_eq!(meeting_path("a//b"), "a%252F%252Fb");
    }

    #[test]
    fn only_mp4_files_are_importable_and_the_transcript_is_noted() {
        let m: ZmMeeting = serde_json::from_value(serde_json::json!({
            "uuid": "u", "topic": "t", "start_time": "2026-11-01T09:00:00Z", "duration": 60, "total_size": 10,
            "recording_files": [
                { "id": "v", "file_type": "MP4", "recording_type": "shared_screen_with_speaker_view", "file_size": 7, "status": "completed" },
                { "id": "a", "file_type": "M4A", "recording_type": "audio_only", "file_size": 2 },
                { "id": "c", "file_type": "CHAT", "recording_type": "chat_file" },
                { "id": "x", "file_type": "TRANSCRIPT", "recording_type": "audio_transcript" },
                { "id": "l", "file_type": "TIMELINE" }
            ]
        }))
        .expect("meeting");
        let m = ZoomMeeting::from(m);
        assert_eq!(m.files.iter().map(|f| f.recording_file_id.as_str()).collect::<Vec<_>>(), ["v"]);
        assert_eq!(m.transcript_file_id.as_deref(), Some("x"));
    }
}
