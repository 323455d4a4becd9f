//! The video: its lifecycle, its descriptive texts and the media it landed.

use serde::{Deserialize, Serialize};

use crate::{
    spaces::{Membership, Space},
    types::{Description, Invalid, SpaceId, UserId, VideoId},
};

use super::{Chapter, Progress, Shown, Visibility, layout};

/// Where a video is in its life. Transitions only move forward (see [`VideoStatus::predecessors`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VideoStatus {
    Uploading,
    Importing,
    Uploaded,
    Transcoding,
    Ready,
    Failed,
}

impl VideoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "UPLOADING",
            Self::Importing => "IMPORTING",
            Self::Uploaded => "UPLOADED",
            Self::Transcoding => "TRANSCODING",
            Self::Ready => "READY",
            Self::Failed => "FAILED",
        }
    }

    /// The statuses a video may move to `self` from.
    pub fn predecessors(self) -> &'static [VideoStatus] {
        use VideoStatus::*;
        match self {
            Uploading | Importing => &[],
            Uploaded => &[Uploading, Importing],
            Transcoding => &[Uploaded],
            // A job's end can be reported before we recorded its start.
            Ready => &[Uploaded, Transcoding],
            Failed => &[Uploading, Importing, Uploaded, Transcoding],
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Ready | Self::Failed)
    }

    /// Still waiting for its bytes (an upload or an import).
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Uploading | Self::Importing)
    }
}

macro_rules! text {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// From text of another system (a meeting's topic): control characters dropped, cut
            /// to the length allowed, `fallback` when nothing is left.
            pub fn lossy(s: &str, fallback: &str) -> Self {
                let kept: String = s.chars().filter(|&c| !crate::types::forbidden_char(c, false)).collect();
                let cut: String = kept.trim().chars().take($max).collect();
                let cut = cut.trim();
                Self(if cut.is_empty() { fallback.to_owned() } else { cut.to_owned() })
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                // The length as sent (what a client's `maxLength` counts), the content trimmed.
                let t = s.trim();
                if t.is_empty() || s.chars().count() > $max {
                    return Err(Invalid(format!(concat!($what, " must have 1 to {} characters, not all blank"), $max)));
                }
                if !crate::types::clean_text(t, false) {
                    return Err(Invalid(concat!($what, " must not contain control or bidirectional-override characters").to_owned()));
                }
                Ok(Self(t.to_owned()))
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

text!(
    /// A video's title.
    Title,
    "title",
    200
);
text!(
    /// A bookmark's label: what the moment is, in the member's words.
    BookmarkLabel,
    "label",
    200
);
text!(
    /// The name of the uploaded file, as the person chose it (kept for display and download).
    FileName,
    "fileName",
    255
);

/// A `video/*` media type, lower case, without parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VideoContentType(String);

impl VideoContentType {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VideoContentType {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        // As browsers give a file's type: `video/` and a lower-case subtype, nothing around it.
        let ok = s.strip_prefix("video/").is_some_and(|sub| {
            (1..=64).contains(&sub.len())
                && sub.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
        });
        if ok { Ok(Self(s)) } else { Err(Invalid("contentType must be video/ and a lower-case subtype".to_owned())) }
    }
}

impl From<VideoContentType> for String {
    fn from(v: VideoContentType) -> String {
        v.0
    }
}

/// An image media type for snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageContentType(String);

impl ImageContentType {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ImageContentType {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        let t = s.trim().to_ascii_lowercase();
        if ["image/png", "image/jpeg", "image/webp"].contains(&t.as_str()) {
            Ok(Self(t))
        } else {
            Err(Invalid("contentType must be image/png, image/jpeg or image/webp".to_owned()))
        }
    }
}

impl From<ImageContentType> for String {
    fn from(v: ImageContentType) -> String {
        v.0
    }
}

/// Where the media of a video landed, as `on-converted-output` and `on-transcode-event` record it
/// (keys in the media bucket). Thumbnails are numbered frames (`thumb.0000000.jpg`, one every
/// [`crate::transcode::THUMBNAIL_INTERVAL_SECS`]): the item keeps how many have landed, never
/// their keys, so a ten-hour video's item stays as small as a minute's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaOutputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hls_master: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mp4: Option<String>,
    /// One more than the highest thumbnail index that has landed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_count: Option<u32>,
    /// The WebVTT storyboard (seek previews in sprite sheets), written when the job completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storyboard: Option<String>,
    /// The caption tracks, by language.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub captions: std::collections::BTreeMap<crate::captions::Lang, crate::captions::CaptionTrack>,
    /// Raised by every change of the tracks: the captioned master of the latest change wins.
    #[serde(default)]
    pub captions_version: u32,
    /// The transcoder's master with the tracks as subtitles renditions (what players load when
    /// there are captions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captioned_master: Option<String>,
}

impl MediaOutputs {
    /// The first thumbnail, once it landed.
    pub fn poster(&self, video: &VideoId) -> Option<String> {
        self.thumbnail_count.filter(|n| *n > 0).map(|_| layout::thumbnail(video, 0))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Video {
    pub video_id: VideoId,
    pub space_id: SpaceId,
    pub title: Title,
    pub description: Description,
    pub status: VideoStatus,
    pub file_name: FileName,
    pub content_type: VideoContentType,
    pub size_bytes: u64,
    pub created_by: UserId,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Why it failed: a code of a closed set (see [`crate::failure`]), never a service's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<crate::failure::FailureReason>,
    /// The Webex recording this video is imported from (issue 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<String>,
    /// The host's chapters, by start time (see [`Chapter`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chapters: Vec<Chapter>,
    /// The video's place in the host's order of the space's lectures (0 first); `None` until
    /// placed, or after an order that leaves it out (see [`placements`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// The automatic transcript, once one was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<crate::transcripts::TranscriptState>,
    /// The source as the transcoder read it, once it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::transcode::SourceInfo>,
    /// Set when a delete has begun ([`super::VideoRemoval::tombstone_video`]): the video is gone for every
    /// reader and writer from then on, no longer counted in its space, and the deletion worker
    /// removes what is left of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleting: bool,
    #[serde(flatten)]
    pub outputs: MediaOutputs,
    /// Who of the space sees it ([`super::Visibility`]; absent: published).
    #[serde(default, skip_serializing_if = "Visibility::is_published")]
    pub visibility: Visibility,
    /// When a scheduled video is shown, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_at: Option<i64>,
}

impl Video {
    /// Its visibility as set.
    pub fn shown(&self) -> Shown {
        Shown { visibility: self.visibility, publish_at: self.publish_at }
    }

    /// Whether the space's students see it now (its managers always do).
    pub fn shown_to_students(&self) -> bool {
        self.shown().shown_at(time::OffsetDateTime::now_utc().unix_timestamp())
    }
}

/// What a status change writes besides the status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusChange {
    pub job_id: Option<String>,
    pub percent_complete: Option<u8>,
    pub duration_seconds: Option<f64>,
    pub failure_reason: Option<crate::failure::FailureReason>,
    pub hls_master: Option<String>,
    pub mp4: Option<String>,
    pub storyboard: Option<String>,
    /// How many thumbnails the job wrote (from its last frame capture's name).
    pub thumbnail_count: Option<u32>,
    /// Only apply when the video's job is this one (or none is recorded yet).
    pub only_for_job: Option<String>,
}

/// A video as one caller sees it.
#[derive(Debug, Clone)]
pub struct VideoAccess {
    pub video: Video,
    /// The video's space (`None` when it is gone).
    pub space: Option<Space>,
    pub membership: Option<Membership>,
    /// The platform subject the membership came from an LTI course for (its `ltiSub`), read
    /// with it.
    pub lti_sub: Option<String>,
    pub progress: Option<Progress>,
}

/// Changes to a video's descriptive fields.
#[derive(Debug, Clone, Default)]
pub struct VideoPatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    /// The whole list, replacing the previous one (empty: none).
    pub chapters: Option<Vec<Chapter>>,
    /// A new visibility (and its time, or none).
    pub shown: Option<Shown>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_only_move_forward() {
        use VideoStatus::*;
        assert!(Transcoding.predecessors().contains(&Uploaded));
        assert!(!Transcoding.predecessors().contains(&Ready));
        assert!(!Uploaded.predecessors().contains(&Transcoding));
        assert!(Ready.predecessors().iter().all(|s| !s.is_terminal()));
        assert!(Failed.predecessors().iter().all(|s| !s.is_terminal()));
    }

    #[test]
    fn content_types_are_checked() {
        assert!(VideoContentType::try_from("video/mp4".to_owned()).is_ok());
        assert!(VideoContentType::try_from("video/x-matroska".to_owned()).is_ok());
        assert!(VideoContentType::try_from("Video/MP4".to_owned()).is_err(), "as browsers give it: lower case");
        assert!(VideoContentType::try_from(" video/mp4".to_owned()).is_err());
        assert!(VideoContentType::try_from("image/png".to_owned()).is_err());
        assert!(VideoContentType::try_from("video/".to_owned()).is_err());
        assert!(ImageContentType::try_from("image/png".to_owned()).is_ok());
        assert!(ImageContentType::try_from("image/svg+xml".to_owned()).is_err());
    }
}
