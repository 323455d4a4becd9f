//! Why a video or its transcript failed, as members are told: a small closed set of stable codes,
//! each with one fixed text. What a service said (MediaConvert's `errorMessage`, Transcribe's
//! `FailureReason`, a platform's error) names buckets, keys, accounts and hosts: it goes to the
//! logs only, never into an item or an answer.
//!
//! The item stores the code (`failureReason` on the video and on its transcript); a value that is
//! no code of this set (an item written before the set existed held the service's own text) reads
//! as [`FailureReason::Unspecified`], so no stored text of a service ever reaches a member.

use serde::{Deserialize, Serialize};

/// Why a video (or its transcript) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// The host aborted the upload.
    UploadAborted,
    /// The uploaded object is larger than one upload may be.
    UploadTooLarge,
    /// The uploaded object is not the one announced (its size or type differs).
    UploadMismatch,
    /// The upload did not finish before the sweeper's deadline.
    UploadTimedOut,
    /// The import did not finish before the sweeper's deadline.
    ImportTimedOut,
    /// The platform's download could not be started (refused, not found, a link we do not follow),
    /// broke off, or brought more than an import may.
    ImportFailed,
    /// The platform's recording is empty.
    ImportEmpty,
    /// The source is longer than the longest lecture allowed (`MaxLectureSeconds`).
    LectureTooLong,
    /// Who created the video no longer hosts or co-hosts its space when the upload landed (a
    /// demoted or removed co-host's upload URL publishes nothing).
    UploaderNotManager,
    /// The creator's transcoding minutes of the day would be passed (`DailyTranscodeMinutes`).
    TranscodeMinutesExceeded,
    /// The transcoder could not convert the source.
    TranscodeFailed,
    /// The transcoding job was cancelled.
    TranscodeCanceled,
    /// The creator's transcription minutes of the day would be passed (`DailyTranscribeMinutes`).
    TranscribeMinutesExceeded,
    /// The transcription service refused the job (the media, the language).
    TranscriptionRefused,
    /// The transcription job failed.
    TranscriptionFailed,
    /// A reason recorded before this set existed (or by a later version): the generic text.
    Unspecified,
}

impl FailureReason {
    pub const ALL: [FailureReason; 16] = [
        Self::UploadAborted,
        Self::UploadTooLarge,
        Self::UploadMismatch,
        Self::UploadTimedOut,
        Self::ImportTimedOut,
        Self::ImportFailed,
        Self::ImportEmpty,
        Self::LectureTooLong,
        Self::UploaderNotManager,
        Self::TranscodeMinutesExceeded,
        Self::TranscodeFailed,
        Self::TranscodeCanceled,
        Self::TranscribeMinutesExceeded,
        Self::TranscriptionRefused,
        Self::TranscriptionFailed,
        Self::Unspecified,
    ];

    /// The stable code (`failureCode` in the API, the stored value).
    pub fn code(self) -> &'static str {
        match self {
            Self::UploadAborted => "upload_aborted",
            Self::UploadTooLarge => "upload_too_large",
            Self::UploadMismatch => "upload_mismatch",
            Self::UploadTimedOut => "upload_timed_out",
            Self::ImportTimedOut => "import_timed_out",
            Self::ImportFailed => "import_failed",
            Self::ImportEmpty => "import_empty",
            Self::LectureTooLong => "lecture_too_long",
            Self::UploaderNotManager => "uploader_not_manager",
            Self::TranscodeMinutesExceeded => "transcode_minutes_exceeded",
            Self::TranscodeFailed => "transcode_failed",
            Self::TranscodeCanceled => "transcode_canceled",
            Self::TranscribeMinutesExceeded => "transcribe_minutes_exceeded",
            Self::TranscriptionRefused => "transcription_refused",
            Self::TranscriptionFailed => "transcription_failed",
            Self::Unspecified => "unspecified",
        }
    }

    /// The fixed text members read (`failureReason` in the API).
    pub fn text(self) -> &'static str {
        match self {
            Self::UploadAborted => "the upload was aborted",
            Self::UploadTooLarge => "the uploaded file is larger than one upload may be",
            Self::UploadMismatch => "the uploaded file is not the one announced: its size or type differs",
            Self::UploadTimedOut => "the upload did not finish in time; delete the video and try again",
            Self::ImportTimedOut => "the import did not finish in time; delete the video and try again",
            Self::ImportFailed => {
                "the recording could not be downloaded from the platform, or is larger than an import may be"
            }
            Self::ImportEmpty => "the platform's recording is empty",
            Self::LectureTooLong => "the video is longer than the longest lecture allowed",
            Self::UploaderNotManager => "who uploaded the video no longer hosts or co-hosts the space",
            Self::TranscodeMinutesExceeded => {
                "today's transcoding minutes are used up; upload the video again after midnight UTC"
            }
            Self::TranscodeFailed => {
                "the video could not be converted: the file may be damaged or in a format that is not supported"
            }
            Self::TranscodeCanceled => "the conversion of the video was stopped",
            Self::TranscribeMinutesExceeded => "today's transcription minutes were used up when the video was ready",
            Self::TranscriptionRefused => "the transcription service could not take this video",
            Self::TranscriptionFailed => "the transcription failed",
            Self::Unspecified => "the video could not be processed",
        }
    }

    /// The reason a stored code names; anything else is [`FailureReason::Unspecified`].
    pub fn from_code(code: &str) -> Self {
        Self::ALL.into_iter().find(|r| r.code() == code).unwrap_or(Self::Unspecified)
    }
}

impl std::fmt::Display for FailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for FailureReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for FailureReason {
    /// Never fails on a string: a stored text that is no code reads as `Unspecified`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::from_code(&s))
    }
}

/// A failure as the API shows it: the stable code and its fixed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureView {
    pub failure_code: &'static str,
    pub failure_reason: &'static str,
}

impl From<FailureReason> for FailureView {
    fn from(r: FailureReason) -> Self {
        Self { failure_code: r.code(), failure_reason: r.text() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_read_back() {
        let mut codes: Vec<&str> = FailureReason::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), FailureReason::ALL.len());
        for r in FailureReason::ALL {
            assert_eq!(FailureReason::from_code(r.code()), r);
            let json = serde_json::to_string(&r).expect("serializes");
            assert_eq!(serde_json::from_str::<FailureReason>(&json).expect("reads"), r);
        }
    }

    #[test]
    fn a_stored_service_message_reads_as_the_generic_text() {
        let stored = "\"transcoding failed (1040): cannot read s3://vivid-raw-123456789012/raw/01J\"";
        let r: FailureReason = serde_json::from_str(stored).expect("reads");
        assert_eq!(r, FailureReason::Unspecified);
        assert_eq!(r.text(), "the video could not be processed");
    }

    #[test]
    fn no_text_names_a_bucket_a_key_or_a_number() {
        for r in FailureReason::ALL {
            let t = r.text();
            assert!(!t.contains("s3://") && !t.contains('/') && !t.chars().any(|c| c.is_ascii_digit()), "{t}");
        }
    }
}
