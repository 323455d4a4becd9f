//! Publishing caption tracks: a track's WebVTT file and HLS playlist beside the video's media,
//! its place on the video item, and the transcoder's master written again with every track as a
//! subtitles rendition. The uploads and the automatic transcripts publish through here.

use crate::{
    captions::{self, CaptionSource, CaptionTrack, Cue, master_with_subtitles, subtitle_playlist, to_vtt},
    error::StoreError,
    media::{Bucket, MediaStore},
    search::{self, SearchIndex},
    transcripts::{self, TranscriptState, TranscriptStatus},
    types::now_rfc3339,
    video::{CaptionStore, Video, VideoStatus, layout},
};

/// Writes the master listing `video`'s tracks (with none left, records that there is none) for
/// its captions version. A later change's master wins: this one is then removed again.
pub async fn write_master(
    captions: &dyn CaptionStore,
    media: &dyn MediaStore,
    video: &Video,
) -> Result<(), StoreError> {
    let id = &video.video_id;
    let version = video.outputs.captions_version;
    if video.outputs.captions.is_empty() {
        if captions.set_captioned_master(id, version, None).await?
            && let Some(previous) = video.outputs.captioned_master.as_deref()
        {
            media.delete(Bucket::Media, previous).await?;
        }
        return Ok(());
    }
    let Some(master_key) = video.outputs.hls_master.as_deref() else { return Ok(()) };
    let master = media
        .get(Bucket::Media, master_key)
        .await?
        .ok_or_else(|| StoreError::backend(format!("the master {master_key} is missing")))?;
    let tracks: Vec<CaptionTrack> = video.outputs.captions.values().cloned().collect();
    // The master sits in `hls/`, the tracks in `captions/`.
    let text =
        master_with_subtitles(&String::from_utf8_lossy(&master), &tracks, |lang| format!("../captions/{lang}.m3u8"));
    let key = layout::captioned_master(id, version);
    media.put(Bucket::Media, &key, "application/vnd.apple.mpegurl", text.into_bytes()).await?;
    if !captions.set_captioned_master(id, version, Some(&key)).await? {
        media.delete(Bucket::Media, &key).await?;
    } else if let Some(previous) = video.outputs.captioned_master.as_deref().filter(|p| *p != key) {
        // The master this one replaces (players that loaded it hold their playlists already).
        media.delete(Bucket::Media, previous).await?;
    }
    Ok(())
}

/// Stores a track of `video`: its WebVTT file and HLS playlist, its place on the video and the
/// captioned master. The video as it now is; `Condition(Video)` when it is gone,
/// `Condition(Item)` when it has [`crate::captions::MAX_TRACKS`] languages and this is another.
pub async fn publish(
    captions: &dyn CaptionStore,
    media: &dyn MediaStore,
    video: &Video,
    track: &CaptionTrack,
    cues: &[Cue],
) -> Result<Video, StoreError> {
    let id = &video.video_id;
    let lang = &track.lang;
    let duration = video.duration_seconds.unwrap_or_else(|| cues.iter().map(|c| c.end).fold(0.0, f64::max));
    // The files first: a track listed on the video always has them.
    media.put(Bucket::Media, &layout::caption(id, lang), "text/vtt; charset=utf-8", to_vtt(cues).into_bytes()).await?;
    let playlist = subtitle_playlist(&format!("{lang}.vtt"), duration);
    media
        .put(Bucket::Media, &layout::caption_playlist(id, lang), "application/vnd.apple.mpegurl", playlist.into_bytes())
        .await?;
    let updated = captions.put_caption(id, track).await?;
    write_master(captions, media, &updated).await?;
    Ok(updated)
}

/// At `READY`: tracks stored before the transcoder's master existed (the platform's transcript
/// an import brought) get their playlists for the video's real duration and the captioned
/// master. Nothing to do when there are none, or the master lists them already (a repeated
/// completion event).
pub async fn publish_at_ready(
    captions: &dyn CaptionStore,
    media: &dyn MediaStore,
    video: &Video,
) -> Result<(), StoreError> {
    if video.outputs.captions.is_empty() || video.outputs.captioned_master.is_some() {
        return Ok(());
    }
    if let Some(duration) = video.duration_seconds {
        for lang in video.outputs.captions.keys() {
            let playlist = subtitle_playlist(&format!("{lang}.vtt"), duration);
            let key = layout::caption_playlist(&video.video_id, lang);
            media.put(Bucket::Media, &key, "application/vnd.apple.mpegurl", playlist.into_bytes()).await?;
        }
    }
    write_master(captions, media, video).await
}

/// A recording platform's transcript (the caption track an import brought) is a `READY` video's
/// transcript: its words, timed by their cues, are searched like a recognised transcript's, and
/// no transcription job is started. `false` when the video has no such track (or is not
/// `READY`); repeated, it changes nothing (the state is recorded only if absent, the postings
/// replace themselves).
pub async fn platform_transcript(
    captions: &dyn CaptionStore,
    media: &dyn MediaStore,
    index: Option<&dyn SearchIndex>,
    v: &Video,
) -> Result<bool, StoreError> {
    let Some(track) = v.outputs.captions.values().find(|t| t.source == CaptionSource::Zoom) else {
        return Ok(false);
    };
    if v.status != VideoStatus::Ready {
        return Ok(false);
    }
    if v.transcript.is_some() {
        return Ok(true);
    }
    let id = &v.video_id;
    let Some(vtt) = media.get(Bucket::Media, &layout::caption(id, &track.lang)).await? else {
        return Ok(false);
    };
    let Ok(cues) = captions::parse_vtt(&vtt) else { return Ok(false) };
    let words = transcripts::words_of_cues(&cues);
    let json = serde_json::to_vec(&words).map_err(|e| StoreError::backend(e.to_string()))?;
    media.put(Bucket::Media, &layout::transcript_words(id), "application/json", json).await?;
    if let Some(index) = index {
        let postings = search::transcript_postings(id, &words);
        index.index_video(&v.space_id, id, search::Source::Transcript, &postings).await?;
    }
    let state = TranscriptState {
        status: TranscriptStatus::Completed,
        language: Some(track.lang.to_string()),
        failure_reason: None,
        updated_at: now_rfc3339(),
        attempt: 1,
    };
    captions.set_transcript(id, &state, true).await?;
    tracing::info!(video_id = %id, words = words.len(), "the platform's transcript is the video's");
    Ok(true)
}
