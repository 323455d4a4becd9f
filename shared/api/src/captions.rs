//! `PUT` and `DELETE /videos/{videoId}/captions/{lang}` (host, co-host): caption tracks, and
//! `GET` (member): a track as a file to keep, WebVTT or SRT. A track
//! is stored as WebVTT beside the video's media with an HLS media playlist of its own, and the
//! transcoder's master is written again with every track as a subtitles rendition (the master
//! players then load). The tracks are listed on the video and signed with its playback grant.

use std::sync::Arc;

use ::http::{StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};

use vivid_domain::{
    captions::{self, CaptionError, CaptionSource, CaptionTrack, Lang, MAX_BYTES, MAX_TRACKS},
    error::StoreError,
    media::{Bucket, MediaStore},
    types::now_rfc3339,
    video::{CaptionStore, VideoCatalog, VideoStatus, layout},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::videos::{caller_video, manager_of};

/// The media types a caption upload may have.
const TYPES: &[&str] = &["text/vtt", "application/x-subrip", "text/srt"];

fn refused(e: CaptionError) -> ApiError {
    match e {
        CaptionError::TooLarge => ApiError::PayloadTooLarge { limit: MAX_BYTES },
        other => ApiError::unprocessable("invalid_captions", other.to_string()),
    }
}

/// `PUT /videos/{videoId}/captions/{lang}` (host, co-host; the video `READY`): the body is the
/// track as WebVTT (`text/vtt`) or SRT (`application/x-subrip`), up to 1 MiB; `?label=` names it
/// in players' menus. 201 for a new language, 200 for a replaced one; 422 `invalid_captions`
/// names the line at fault.
pub struct PutCaptions {
    pub auth: Arc<TokenVerifier>,
    /// The video and the caller's role in its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The track on the video, and the captioned master.
    pub captions: Arc<dyn CaptionStore>,
    /// The media bucket: the track's files, the master.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for PutCaptions {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        req.caller(&self.auth)?;
        let lang: Lang = req.path("lang")?;
        let label = match req.query("label") {
            Some(l) => {
                // As the document's pattern says: 1 to 100 characters, not all blank, no control
                // or bidirectional-override characters.
                if l.trim().is_empty() || l.chars().count() > 100 || !vivid_domain::types::clean_text(l, false) {
                    return Err(ApiError::bad_request(
                        "invalid_label",
                        "label must have 1 to 100 characters, not all blank, without control characters",
                    ));
                }
                l.trim().to_owned()
            }
            None => captions::default_label(&lang),
        };
        let (mime, bytes) = req.typed_body(MAX_BYTES, TYPES, "text/vtt or application/x-subrip")?;
        let cues = if mime == "text/vtt" { captions::parse_vtt(bytes) } else { captions::parse_srt(bytes) }
            .map_err(refused)?;
        let (_, m) = caller_video(&self.auth, self.catalog.as_ref(), req).await?;
        manager_of(&m)?;
        let video = m.video;
        if video.status != VideoStatus::Ready || video.outputs.hls_master.is_none() {
            return Err(ApiError::conflict(
                "not_ready",
                "captions are added once the video is READY: poll GET /videos/{videoId} until it is",
            ));
        }
        let replacing = video.outputs.captions.contains_key(&lang);
        let id = &video.video_id;
        let track = CaptionTrack {
            lang: lang.clone(),
            label,
            source: CaptionSource::Upload,
            cues: cues.len() as u32,
            updated_at: now_rfc3339(),
        };
        match vivid_domain::tracks::publish(self.captions.as_ref(), self.media.as_ref(), &video, &track, &cues).await {
            Err(StoreError::Condition(vivid_domain::error::Guard::Video)) => return Err(ApiError::NotFound("video")),
            Err(StoreError::Condition(_)) => {
                return Err(ApiError::conflict(
                    "too_many_captions",
                    format!("a video has at most {MAX_TRACKS} caption languages: delete one first"),
                ));
            }
            other => other?,
        };
        tracing::info!(video_id = %id, lang = %lang, cues = track.cues, "captions stored");
        if replacing {
            http::json(StatusCode::OK, &track)
        } else {
            http::created(&format!("/videos/{id}/captions/{lang}"), &track)
        }
    }
}

/// The formats a track is downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Vtt,
    Srt,
}

impl Format {
    fn of(req: &ApiRequest) -> Result<Self, ApiError> {
        match req.query("format") {
            None | Some("vtt") => Ok(Self::Vtt),
            Some("srt") => Ok(Self::Srt),
            Some(_) => Err(ApiError::bad_request("invalid_query", "format is vtt (the default) or srt")),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Vtt => "text/vtt; charset=utf-8",
            Self::Srt => "application/x-subrip; charset=utf-8",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Vtt => "vtt",
            Self::Srt => "srt",
        }
    }
}

/// `GET /videos/{videoId}/captions/{lang}` (member, of a video they see): the track as a file to
/// keep — WebVTT (`?format=vtt`, the default) or SRT (`?format=srt`), as an attachment named
/// `{videoId}.{lang}.{vtt|srt}`. The track as it is now: a host's upload, Transcribe's or the
/// platform's. 404 when the video has no such track; 400 `invalid_query` for another format.
pub struct GetCaptions {
    pub auth: Arc<TokenVerifier>,
    /// The video, the caller's role in its space, and its tracks.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The media bucket: the track's WebVTT.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for GetCaptions {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        req.caller(&self.auth)?;
        let lang: Lang = req.path("lang")?;
        let format = Format::of(req)?;
        let (_, m) = caller_video(&self.auth, self.catalog.as_ref(), req).await?;
        let id = &m.video.video_id;
        if !m.video.outputs.captions.contains_key(&lang) {
            return Err(ApiError::NotFound("captions"));
        }
        let vtt =
            self.media.get(Bucket::Media, &layout::caption(id, &lang)).await?.ok_or(ApiError::NotFound("captions"))?;
        let body = match format {
            Format::Vtt => vtt,
            // What was stored is what parse_vtt accepted (or wrote): a track that no longer
            // reads is the service's fault.
            Format::Srt => captions::to_srt(&captions::parse_vtt(&vtt).map_err(ApiError::internal)?).into_bytes(),
        };
        let disposition = format!("attachment; filename=\"{id}.{lang}.{}\"", format.extension());
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, format.content_type())
            .header(header::CONTENT_DISPOSITION, disposition)
            // A member's copy: a shared cache must not keep it for whoever asks next.
            .header(header::CACHE_CONTROL, "private, no-store")
            .body(Body::Binary(body))
            .map_err(ApiError::internal)
    }
}

/// `DELETE /videos/{videoId}/captions/{lang}` (host, co-host): removes the track from the video,
/// its master and its files. 404 when the video has no such track.
pub struct DeleteCaptions {
    pub auth: Arc<TokenVerifier>,
    /// The video and the caller's role in its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The track taken off the video, and the captioned master.
    pub captions: Arc<dyn CaptionStore>,
    /// The media bucket: the track's files, the master.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for DeleteCaptions {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let lang: Lang = req.path("lang")?;
        let (_, m) = caller_video(&self.auth, self.catalog.as_ref(), req).await?;
        manager_of(&m)?;
        let id = &m.video.video_id;
        let updated = self.captions.remove_caption(id, &lang).await?.ok_or(ApiError::NotFound("captions"))?;
        vivid_domain::tracks::write_master(self.captions.as_ref(), self.media.as_ref(), &updated).await?;
        for key in [layout::caption(id, &lang), layout::caption_playlist(id, &lang)] {
            self.media.delete(Bucket::Media, &key).await?;
        }
        http::no_content()
    }
}
