//! Playback: a video's details with its grant (`GET /videos/{videoId}`) and the grant alone for
//! players to renew (`GET /videos/{videoId}/playback`), in the body and as cookies.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Serialize;

use vivid_config::Config;
use vivid_domain::{
    hls,
    playback::{Playback, PlaybackSigner, grant_lifetime},
    types::{VideoId, unix_now},
    video::{Video, VideoCatalog, VideoStatus},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use super::{VideoView, caller_video, video_member};

/// Where playback grants go besides the body: as HttpOnly cookies for the parent domain of the
/// front end and the media CDN (`VIVID_COOKIE_DOMAIN`, e.g. `example.com` for `app.` and
/// `media.example.com`), so native HLS players fetch segments without a query string. Without a
/// shared parent domain no cookie can reach the CDN and only the signed query works.
#[derive(Debug, Clone, Default)]
pub struct PlaybackCookies {
    pub domain: Option<String>,
}

impl PlaybackCookies {
    pub fn from_config(cfg: &Config) -> Self {
        Self { domain: cfg.optional("VIVID_COOKIE_DOMAIN").map(|d| d.trim().trim_start_matches('.').to_owned()) }
    }

    fn set(&self, resp: Response<Body>, playback: &Playback) -> Result<Response<Body>, ApiError> {
        let Some(domain) = &self.domain else { return Ok(resp) };
        let cookies: Vec<String> = playback
            .cookies
            .iter()
            .map(|(name, value)| {
                http::cookie(
                    name,
                    value,
                    &playback.cookie_path,
                    playback.lifetime_secs,
                    http::SameSite::Lax,
                    Some(domain.as_str()),
                )
            })
            .collect();
        http::with_cookies(resp, &cookies)
    }
}

/// A grant for a ready video, lasting its duration plus a margin, with its master also on the
/// HLS route of the API this request reached (`nativeHlsUrl`: any player plays it).
async fn grant(signer: &dyn PlaybackSigner, video: &Video, req: &ApiRequest) -> Result<Playback, ApiError> {
    let mut playback =
        signer.sign(&video.video_id, &video.outputs, unix_now(), grant_lifetime(video.duration_seconds)).await?;
    playback.native_hls_url =
        hls::master_url(req.origin().as_deref(), &video.video_id, &video.outputs, &playback.signed_query);
    Ok(playback)
}

/// Signed answers are personal and short-lived: no cache keeps them.
fn private(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut().insert(::http::header::CACHE_CONTROL, ::http::HeaderValue::from_static("private, no-store"));
    resp
}

/// `GET /videos/{videoId}` (member): details, status, the caller's progress and, once ready,
/// playback URLs signed for this video only.
pub struct GetVideo {
    pub auth: Arc<TokenVerifier>,
    /// The video, the caller's membership of its space and their progress.
    pub catalog: Arc<dyn VideoCatalog>,
    pub signer: Arc<dyn PlaybackSigner>,
    pub cookies: PlaybackCookies,
}

#[async_trait]
impl Handler for GetVideo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let (_, m) = caller_video(&self.auth, self.catalog.as_ref(), req).await?;
        let playback = if m.video.status == VideoStatus::Ready {
            Some(grant(self.signer.as_ref(), &m.video, req).await?)
        } else {
            None
        };
        let resp = http::json(StatusCode::OK, &VideoView::new(m.video, m.progress, playback.clone()))?;
        let resp = match &playback {
            Some(p) => self.cookies.set(resp, p)?,
            None => resp,
        };
        Ok(private(resp))
    }
}

/// What `GET /videos/{videoId}/playback` answers: the grant alone.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PlaybackView {
    video_id: VideoId,
    #[serde(flatten)]
    playback: Playback,
}

/// `GET /videos/{videoId}/playback` (member): a fresh grant for a ready video, for players to
/// renew before `expiresAt`, after the full membership check (two round trips); nothing else is
/// read or re-signed.
pub struct GetPlayback {
    pub auth: Arc<TokenVerifier>,
    /// The video and the caller's membership of its space.
    pub catalog: Arc<dyn VideoCatalog>,
    pub signer: Arc<dyn PlaybackSigner>,
    pub cookies: PlaybackCookies,
}

#[async_trait]
impl Handler for GetPlayback {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let id: VideoId = req.path("videoId")?;
        // The membership read consistently at every renewal: a removed member gets no grant,
        // whatever of their data the purge has yet to reach.
        let video = video_member(self.catalog.as_ref(), &id, &caller.user_id).await?.video;
        if video.status != VideoStatus::Ready {
            return Err(ApiError::conflict(
                "not_ready",
                "the video is not ready to play yet: poll GET /videos/{videoId} until its status is READY",
            ));
        }
        let mut playback = grant(self.signer.as_ref(), &video, req).await?;
        // Renewal is for players: the thumbnails stay with `GET /videos/{videoId}`.
        playback.thumbnails = None;
        let resp = http::json(StatusCode::OK, &PlaybackView { video_id: video.video_id, playback: playback.clone() })?;
        Ok(private(self.cookies.set(resp, &playback)?))
    }
}
