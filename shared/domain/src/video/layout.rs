//! Object keys of a video's media.

use crate::types::VideoId;

pub const RAW_PREFIX: &str = "raw/";
pub const MEDIA_PREFIX: &str = "media/";

pub fn raw(video: &VideoId) -> String {
    format!("{RAW_PREFIX}{video}")
}
/// Every converted object of a video lies under this prefix (also the playback scope).
pub fn media_prefix(video: &VideoId) -> String {
    format!("{MEDIA_PREFIX}{video}/")
}
/// The HLS master playlist MediaConvert writes (`index.m3u8` for destination `hls/index`).
pub fn hls_destination(video: &VideoId) -> String {
    format!("{MEDIA_PREFIX}{video}/hls/index")
}
pub fn mp4_destination(video: &VideoId) -> String {
    format!("{MEDIA_PREFIX}{video}/mp4/video")
}
pub fn thumbnails_destination(video: &VideoId) -> String {
    format!("{MEDIA_PREFIX}{video}/thumbnails/thumb")
}
/// Where a video's transcription job writes its result (Transcribe's format).
pub fn transcript_result(video: &VideoId) -> String {
    format!("{MEDIA_PREFIX}{video}/transcript/transcribe.json")
}
/// The video's word-timed transcript (what transcript searches read).
pub fn transcript_words(video: &VideoId) -> String {
    format!("{MEDIA_PREFIX}{video}/transcript/words.json")
}
/// A caption track's WebVTT file.
pub fn caption(video: &VideoId, lang: &crate::captions::Lang) -> String {
    format!("{MEDIA_PREFIX}{video}/captions/{lang}.vtt")
}
/// A caption track's HLS media playlist (beside its file).
pub fn caption_playlist(video: &VideoId, lang: &crate::captions::Lang) -> String {
    format!("{MEDIA_PREFIX}{video}/captions/{lang}.m3u8")
}
/// The captioned master of one captions version, beside the transcoder's master.
pub fn captioned_master(video: &VideoId, version: u32) -> String {
    format!("{MEDIA_PREFIX}{video}/hls/captioned-{version}.m3u8")
}
/// The key of the thumbnail numbered `index` (MediaConvert's frame-capture naming).
pub fn thumbnail(video: &VideoId, index: u32) -> String {
    format!("{MEDIA_PREFIX}{video}/thumbnails/thumb.{index:07}.jpg")
}
/// A thumbnail key with `{index}` where the seven-digit number goes.
pub fn thumbnail_template(video: &VideoId) -> String {
    format!("{MEDIA_PREFIX}{video}/thumbnails/thumb.{{index}}.jpg")
}
pub fn snapshots_prefix(video: &VideoId) -> String {
    format!("snapshots/{video}/")
}
pub fn snapshot(video: &VideoId, user: &crate::types::UserId, snapshot: &crate::types::SnapshotId) -> String {
    format!("snapshots/{video}/{user}/{snapshot}")
}

/// What a converted object is, from its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaKind {
    HlsMaster,
    HlsOther,
    Mp4,
    /// A numbered thumbnail.
    Thumbnail(u32),
    Other,
}

/// The video and kind of a media-bucket key (`None` outside `media/{videoId}/`).
pub fn classify(key: &str) -> Option<(VideoId, MediaKind)> {
    let rest = key.strip_prefix(MEDIA_PREFIX)?;
    let (id, path) = rest.split_once('/')?;
    let video: VideoId = id.parse().ok()?;
    let kind = match path.split_once('/') {
        Some(("hls", "index.m3u8")) => MediaKind::HlsMaster,
        Some(("hls", _)) => MediaKind::HlsOther,
        Some(("mp4", f)) if f.ends_with(".mp4") => MediaKind::Mp4,
        Some(("thumbnails", f)) => match f.strip_prefix("thumb.").and_then(|f| f.strip_suffix(".jpg")) {
            Some(n) if n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()) => {
                n.parse().map_or(MediaKind::Other, MediaKind::Thumbnail)
            }
            _ => MediaKind::Other,
        },
        _ => MediaKind::Other,
    };
    Some((video, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_keys_are_classified() {
        let id = VideoId::generate();
        let k = |p: &str| classify(&format!("media/{id}/{p}")).map(|(_, k)| k);
        assert_eq!(k("hls/index.m3u8"), Some(MediaKind::HlsMaster));
        assert_eq!(k("hls/index_720p.m3u8"), Some(MediaKind::HlsOther));
        assert_eq!(k("mp4/video.mp4"), Some(MediaKind::Mp4));
        assert_eq!(k("thumbnails/thumb.0000001.jpg"), Some(MediaKind::Thumbnail(1)));
        assert_eq!(k("thumbnails/thumb.1.jpg"), Some(MediaKind::Other));
        assert_eq!(k("thumbnails/x.jpg"), Some(MediaKind::Other));
        let v = VideoId::generate();
        assert_eq!(classify(&thumbnail(&v, 42)), Some((v, MediaKind::Thumbnail(42))));
        assert_eq!(classify("media/nope/hls/index.m3u8"), None);
    }
}
