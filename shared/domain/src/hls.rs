//! HLS for every player: a video's playlists served through the API with every URI they name
//! signed, so a player that never copies the master's query to what it fetches next (Safari's
//! and iOS's native HLS, ffmpeg/ffplay, VLC) still presents the grant on each request.
//!
//! The grant is the one `GET /videos/{videoId}/playback` issues (CloudFront's custom policy over
//! `media/{videoId}/*`, [`crate::playback::Playback::signed_query`]): a playlist is rewritten by
//! appending that same query to each reference, other playlists by their name on the HLS route
//! (relative, so the route's own address is kept), media by their absolute CDN URL.

use std::{fmt, str::FromStr};

use crate::{
    captions::Lang,
    types::{Invalid, VideoId},
    video::{MediaOutputs, layout},
};

/// The media type of an HLS playlist.
pub const CONTENT_TYPE: &str = "application/vnd.apple.mpegurl";
/// The longest a signed playlist may be kept by the player's cache (never past its grant).
pub const MAX_CACHE_SECS: u64 = 300;
/// The longest name after `index_` (MediaConvert's name modifiers: `_720p`, `_thumb`).
const MAX_MODIFIER: usize = 32;

/// A playlist of a video by its name on the HLS route: only the names the transcode and the
/// captions write, one path segment (no `/`, no `..`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaylistName {
    /// A playlist beside the master in `hls/`: `index.m3u8` (the master), `index_<modifier>.m3u8`
    /// (a rendition or the image playlist), `captioned-<version>.m3u8` (the master with captions).
    Hls(String),
    /// A caption track's media playlist (`captions/{lang}.m3u8`), named `captions-{lang}.m3u8`.
    Captions(Lang),
}

fn invalid() -> Invalid {
    Invalid(
        "playlist must be one of the video's HLS playlists: index.m3u8, index_<rendition>.m3u8, captioned-<n>.m3u8 or captions-<lang>.m3u8".into(),
    )
}

fn is_hls_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".m3u8") else { return false };
    if stem == "index" {
        return true;
    }
    if let Some(modifier) = stem.strip_prefix("index_") {
        return (1..=MAX_MODIFIER).contains(&modifier.len())
            && modifier.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    }
    stem.strip_prefix("captioned-").is_some_and(|n| (1..=9).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

impl FromStr for PlaylistName {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        if let Some(lang) = s.strip_prefix("captions-").and_then(|r| r.strip_suffix(".m3u8")) {
            return Lang::try_from(lang.to_owned()).map(Self::Captions).map_err(|_| invalid());
        }
        if is_hls_name(s) { Ok(Self::Hls(s.to_owned())) } else { Err(invalid()) }
    }
}

impl fmt::Display for PlaylistName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hls(name) => f.write_str(name),
            Self::Captions(lang) => write!(f, "captions-{lang}.m3u8"),
        }
    }
}

impl PlaylistName {
    /// The playlist's key in the media bucket.
    pub fn key(&self, video: &VideoId) -> String {
        match self {
            Self::Hls(name) => format!("{}hls/{name}", layout::media_prefix(video)),
            Self::Captions(lang) => layout::caption_playlist(video, lang),
        }
    }

    /// The route's name of the playlist at `key` (`None`: not one the route serves).
    pub fn of_key(video: &VideoId, key: &str) -> Option<Self> {
        let rest = key.strip_prefix(&layout::media_prefix(video))?;
        if let Some(name) = rest.strip_prefix("hls/") {
            return is_hls_name(name).then(|| Self::Hls(name.to_owned()));
        }
        let raw = rest.strip_prefix("captions/")?.strip_suffix(".m3u8")?;
        let lang = Lang::try_from(raw.to_owned()).ok()?;
        (lang.as_str() == raw).then_some(Self::Captions(lang))
    }
}

/// The route's URL path of a video's playlist (`/videos/{videoId}/hls/{playlist}`).
pub fn playlist_path(video: &VideoId, name: &PlaylistName) -> String {
    format!("/videos/{video}/hls/{name}")
}

/// The master a player is given (the captioned one when there are captions) on the HLS route of
/// the API at `api_origin` (`https://api.example.com`), with the grant's query: `None` without
/// a master or an origin.
pub fn master_url(api_origin: Option<&str>, video: &VideoId, outputs: &MediaOutputs, query: &str) -> Option<String> {
    let key = outputs.captioned_master.as_deref().or(outputs.hls_master.as_deref())?;
    let name = PlaylistName::of_key(video, key)?;
    Some(format!("{}{}?{query}", api_origin?.trim_end_matches('/'), playlist_path(video, &name)))
}

/// A playlist that cannot be served signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// A relative reference leads out of the video's media (`../../other/...`): nothing the
    /// transcode writes does, and no grant of this video would cover it.
    #[error("the playlist {playlist} names {uri}, outside the video's media")]
    OutsideVideo { playlist: String, uri: String },
}

/// Where a rewritten playlist's references go and with what.
pub struct Signing<'a> {
    pub video: &'a VideoId,
    /// The CDN's base URL (`https://media.example.com`, no trailing `/`).
    pub cdn_url: &'a str,
    /// The grant's query (`Policy=...&Signature=...&Key-Pair-Id=...&Hash-Algorithm=SHA256`).
    pub query: &'a str,
}

/// `text` (the playlist at `key`) with each URI it names signed: every URI line and every
/// `URI="..."` attribute of a tag (`EXT-X-MEDIA`, `EXT-X-I-FRAME-STREAM-INF`, `EXT-X-MAP`,
/// `EXT-X-KEY`, ...). A relative reference to a playlist the route serves becomes
/// `{name}?{query}` (relative to the route's URL), any other relative reference the CDN's absolute
/// URL with `?{query}` (a `#fragment` kept after it); absolute URIs (`https://`, `skd://`,
/// `data:`), comments, other tags and line endings (LF or CRLF) are kept as they are, and a
/// root-relative one (`/...`) is refused like any reference outside the video.
pub fn sign_playlist(text: &str, key: &str, s: &Signing<'_>) -> Result<String, RewriteError> {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix("\r\n") {
            Some(b) => (b, "\r\n"),
            None => line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n")),
        };
        let trimmed = body.trim();
        if trimmed.is_empty() || (body.starts_with('#') && !body.starts_with("#EXT")) {
            out.push_str(body);
        } else if body.starts_with('#') {
            out.push_str(&sign_attributes(body, key, s)?);
        } else {
            out.push_str(&sign_uri(trimmed, key, s)?);
        }
        out.push_str(end);
    }
    Ok(out)
}

/// A tag's line with the value of each `URI` attribute signed.
fn sign_attributes(tag: &str, key: &str, s: &Signing<'_>) -> Result<String, RewriteError> {
    let mut out = String::with_capacity(tag.len());
    let mut rest = tag;
    while let Some(at) = rest.find("URI=\"") {
        let preceding = rest[..at].chars().next_back();
        let value_start = at + "URI=\"".len();
        let Some(len) = rest[value_start..].find('"') else { break };
        out.push_str(&rest[..value_start]);
        let value = &rest[value_start..value_start + len];
        // An attribute named exactly URI: at the start of the list or after a comma.
        if matches!(preceding, Some(':' | ',')) {
            out.push_str(&sign_uri(value, key, s)?);
        } else {
            out.push_str(value);
        }
        rest = &rest[value_start + len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a URI names its own scheme (`https://...`, `skd://...`, `data:...`).
fn is_absolute(uri: &str) -> bool {
    let scheme = uri.split_once(':').map(|(scheme, _)| scheme);
    scheme.is_some_and(|sc| {
        sc.starts_with(|c: char| c.is_ascii_alphabetic())
            && sc.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// One reference, signed (absolute ones as they are; a root-relative `/...` or `//host/...` one is
/// refused: it would point at the API's host, with no grant).
fn sign_uri(uri: &str, key: &str, s: &Signing<'_>) -> Result<String, RewriteError> {
    if uri.is_empty() || is_absolute(uri) {
        return Ok(uri.to_owned());
    }
    let (without_fragment, fragment) = match uri.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (uri, None),
    };
    let (path, own_query) = match without_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (without_fragment, None),
    };
    let outside = || RewriteError::OutsideVideo { playlist: key.to_owned(), uri: uri.to_owned() };
    if path.starts_with('/') {
        return Err(outside());
    }
    let target = resolve(key, path).ok_or_else(outside)?;
    if !target.starts_with(&layout::media_prefix(s.video)) {
        return Err(outside());
    }
    let query = match own_query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{q}&{}", s.query),
        None => s.query.to_owned(),
    };
    let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
    Ok(match PlaylistName::of_key(s.video, &target) {
        Some(name) => format!("{name}?{query}{fragment}"),
        None => format!("{}/{target}?{query}{fragment}", s.cdn_url),
    })
}

/// `path` resolved against the directory of `key` (`.` and `..` applied; `None` above the root).
fn resolve(key: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = key.split('/').collect();
    parts.pop();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Why a grant presented to the HLS route is refused (each a 403 saying to get a fresh one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantRefused {
    #[error("no grant: the request lacks one of Policy, Signature, Key-Pair-Id and Hash-Algorithm")]
    Missing,
    #[error("the grant's signature does not verify")]
    Forged,
    #[error("the grant's Key-Pair-Id is not one of the CDN's keys")]
    UnknownKey,
    #[error("the grant's Hash-Algorithm is not SHA256")]
    HashAlgorithm,
    #[error("the grant's policy has conditions no playback grant has")]
    Unsupported,
    #[error("the grant is for other media than this video's")]
    OtherScope,
    #[error("the grant has expired")]
    Expired,
}

/// A grant that verified: when it ends, and the query that presents it to the CDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedGrant {
    /// Unix seconds.
    pub ends: u64,
    /// What to append to each URI a playlist names: the verified policy and signature with the
    /// key pair id that verified them (one the CDN trusts) and the hash, nothing else echoed.
    pub query: String,
}

/// A grant as a request presents it: the four parameters of the signed query, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedGrant<'a> {
    pub policy: &'a str,
    pub signature: &'a str,
    pub key_pair_id: &'a str,
    pub hash_algorithm: &'a str,
}

/// Checks the grants the CDN would accept (CloudFront's custom-policy signatures) without the
/// private key: the public keys (by key pair id) and the distribution's URL only.
pub trait GrantVerifier: Send + Sync {
    /// The grant when it is a valid grant (signed with the key its `Key-Pair-Id` names, one the
    /// CDN trusts; `Hash-Algorithm` `SHA256`) whose one resource is exactly `video`'s media and
    /// which is unexpired at `now`.
    fn verify(&self, video: &VideoId, grant: &PresentedGrant<'_>, now: u64) -> Result<VerifiedGrant, GrantRefused>;
    /// The CDN's base URL (no trailing `/`).
    fn cdn_url(&self) -> &str;
}

/// How long a player may keep a signed playlist: never past the grant, at most [`MAX_CACHE_SECS`].
pub fn cache_secs(grant_ends: u64, now: u64) -> u64 {
    grant_ends.saturating_sub(now).min(MAX_CACHE_SECS)
}

#[cfg(test)]
#[path = "hls_tests.rs"]
mod tests;
