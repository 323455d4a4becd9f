//! Private playback: a grant scoped to one video's media, handed to players as signed URLs, a
//! query to append, or cookies.

use serde::Serialize;

use crate::{types::VideoId, video::MediaOutputs};

/// Signed access to one video's media.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Playback {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hls_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp4_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    pub thumbnail_urls: Vec<String>,
    /// Append to any URL under the video's media prefix (HLS players: to every request).
    pub signed_query: String,
    /// The same grant as CDN cookies, for a CDN on the front end's site.
    pub cookies: Vec<(String, String)>,
    /// When the grant ends (seconds since the epoch).
    pub expires_at: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot sign playback: {0}")]
pub struct SignError(pub String);

/// Signs playback grants (CloudFront in AWS, the local CDN's same rule on a laptop).
pub trait PlaybackSigner: Send + Sync {
    /// Signed URLs for a video's outputs, valid from `now` for the signer's lifetime.
    fn sign(&self, video: &VideoId, outputs: &MediaOutputs, now: u64) -> Result<Playback, SignError>;
}
