//! Private playback: a grant scoped to one video's media, handed to players as signed URLs, a
//! query to append (HLS players: to every request), or cookies (native HLS on a same-site CDN).

use std::time::Duration;

use serde::Serialize;

use crate::{
    transcode::THUMBNAIL_INTERVAL_SECS,
    types::{VideoId, rfc3339_at},
    video::{MediaOutputs, layout},
};

/// A grant outlives the lecture it plays by this much (pauses, rewinds).
pub const GRANT_MARGIN: Duration = Duration::from_secs(30 * 60);
/// The shortest grant, for short clips and videos of unknown length.
pub const GRANT_MIN: Duration = Duration::from_secs(60 * 60);
/// The longest grant: a leaked URL stops working within this, whatever the video's length.
pub const GRANT_MAX: Duration = Duration::from_secs(12 * 60 * 60);

/// How long a grant for a video of this length lasts: its duration plus the margin, at least
/// [`GRANT_MIN`] and at most [`GRANT_MAX`]. Players renew it cheaply (`GET /videos/{id}/playback`).
pub fn grant_lifetime(duration_seconds: Option<f64>) -> Duration {
    let length = duration_seconds
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(|d| Duration::from_secs_f64(d.min(GRANT_MAX.as_secs_f64())))
        .unwrap_or_default();
    (length + GRANT_MARGIN).clamp(GRANT_MIN, GRANT_MAX)
}

/// Signed access to one video's media.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Playback {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hls_url: Option<String>,
    /// The same master through the API (`GET /videos/{videoId}/hls/{playlist}`), every URI it
    /// names signed: plays in any player given this one URL, native HLS (Safari, iOS), ffplay and
    /// VLC included, with no query to copy and no cookie ([`crate::hls::master_url`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_hls_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp4_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    /// The WebVTT storyboard: seek previews, each cue a region of a sprite sheet named relative to
    /// the storyboard (append `signedQuery` to the sheets' URLs too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storyboard_url: Option<String>,
    /// The caption tracks, each a WebVTT file (also in the HLS master as subtitles renditions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub captions: Vec<SignedCaption>,
    /// The thumbnails: a URL template and how many there are (`GET /videos/{videoId}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnails: Option<Thumbnails>,
    /// Append to any URL under the video's media prefix (HLS players: to every request).
    pub signed_query: String,
    /// The same grant as CDN cookies (`CloudFront-Policy`, ...): set by the API as HttpOnly
    /// cookies for the parent domain when the CDN is on the front end's site, never in the body.
    #[serde(skip)]
    pub cookies: Vec<(String, String)>,
    /// The path under which the cookies apply (`/media/{videoId}/`).
    #[serde(skip)]
    pub cookie_path: String,
    /// When the grant ends, RFC 3339.
    pub expires_at: String,
    /// The grant's lifetime in seconds (cookies' `Max-Age`).
    #[serde(skip)]
    pub lifetime_secs: u64,
}

/// What a signer made for one grant: how a key of the video's media becomes its signed URL, the
/// query that signs any URL under the video's prefix, the same grant as cookies, and its end.
pub struct Grant<F: Fn(&str) -> String> {
    pub url: F,
    pub signed_query: String,
    pub cookies: Vec<(String, String)>,
    /// When the grant ends, Unix seconds.
    pub expires_at: u64,
    pub lifetime: Duration,
}

impl Playback {
    /// The video's playback under a grant: each output it has, signed (with captions, the master
    /// that lists them as subtitles renditions is the one to play).
    pub fn granted<F: Fn(&str) -> String>(video: &VideoId, outputs: &MediaOutputs, grant: Grant<F>) -> Self {
        let signed = &grant.url;
        Playback {
            hls_url: outputs.captioned_master.as_deref().or(outputs.hls_master.as_deref()).map(signed),
            captions: outputs
                .captions
                .values()
                .map(|t| SignedCaption {
                    lang: t.lang.clone(),
                    label: t.label.clone(),
                    source: t.source,
                    url: signed(&layout::caption(video, &t.lang)),
                })
                .collect(),
            native_hls_url: None,
            mp4_url: outputs.mp4.as_deref().map(signed),
            poster_url: outputs.poster(video).as_deref().map(signed),
            storyboard_url: outputs.storyboard.as_deref().map(signed),
            thumbnails: outputs.thumbnail_count.filter(|n| *n > 0).map(|count| Thumbnails {
                count,
                interval_seconds: THUMBNAIL_INTERVAL_SECS.unsigned_abs(),
                url_template: signed(&layout::thumbnail_template(video)),
            }),
            cookies: grant.cookies,
            signed_query: grant.signed_query,
            cookie_path: format!("/{}", layout::media_prefix(video)),
            expires_at: rfc3339_at(grant.expires_at),
            lifetime_secs: grant.lifetime.as_secs(),
        }
    }
}

/// A video's thumbnails without a URL each: thumbnail `i` (from 0) is `url_template` with
/// `{index}` replaced by `i` in seven digits, showing the video at `i * interval_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Thumbnails {
    pub count: u32,
    pub interval_seconds: u32,
    pub url_template: String,
}

/// A caption track with its signed WebVTT URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedCaption {
    pub lang: crate::captions::Lang,
    pub label: String,
    pub source: crate::captions::CaptionSource,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signing key cannot be read now (its first read was throttled or failed): the same
    /// request may succeed in a few seconds (503).
    #[error("the playback signing key is not available now: {0}")]
    KeyUnavailable(String),
    #[error("cannot sign playback: {0}")]
    Failed(String),
}

/// Signs playback grants (CloudFront in AWS, the local CDN's same rule on a laptop). Async: the
/// signing key may be read by the first grant rather than at init.
#[async_trait::async_trait]
pub trait PlaybackSigner: Send + Sync {
    /// Signed URLs for a video's outputs, valid from `now` (seconds) for `lifetime`.
    async fn sign(
        &self,
        video: &VideoId,
        outputs: &MediaOutputs,
        now: u64,
        lifetime: Duration,
    ) -> Result<Playback, SignError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_outlasts_the_lecture_within_bounds() {
        assert_eq!(grant_lifetime(None), GRANT_MIN);
        assert_eq!(grant_lifetime(Some(10.0)), GRANT_MIN);
        assert_eq!(grant_lifetime(Some(5400.0)), Duration::from_secs(5400) + GRANT_MARGIN);
        assert_eq!(grant_lifetime(Some(20.0 * 3600.0)), GRANT_MAX);
        assert_eq!(grant_lifetime(Some(f64::NAN)), GRANT_MIN);
        assert_eq!(grant_lifetime(Some(-5.0)), GRANT_MIN);
    }
}
