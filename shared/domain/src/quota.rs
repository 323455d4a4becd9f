//! Quotas: how much one account may hold and start, so open sign-up cannot turn into unbounded
//! storage and transcoding. Counts are kept by the store next to what they count and checked in
//! the same conditional write (never read-then-write); see `docs/data-model.md`.

use std::fmt;

use crate::types::Invalid;

/// What a quota bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quota {
    /// Spaces a user hosts besides their personal space.
    HostedSpaces,
    /// Videos in one space.
    VideosPerSpace,
    /// One member's snapshots of one video.
    SnapshotsPerVideo,
    /// One member's drawings on one video.
    DrawingsPerVideo,
    /// One member's memo checkpoints on one video.
    CheckpointsPerVideo,
    /// One member's bookmarks in one video.
    BookmarksPerVideo,
    /// Bytes a user sends to transcoding per UTC day (uploads and imports).
    DailyTranscodeBytes,
    /// Invitation e-mails a user asks for per UTC day.
    DailyInvitationMails,
    /// Minutes of media a user sends to MediaConvert per UTC day (each video's source length).
    DailyTranscodeMinutes,
    /// Minutes of media a user's videos send to Transcribe per UTC day.
    DailyTranscribeMinutes,
    /// Bytes of one account's notes across every space: snapshots, drawings and memo checkpoints.
    StorageBytes,
}

impl Quota {
    pub const ALL: [Quota; 11] = [
        Quota::HostedSpaces,
        Quota::VideosPerSpace,
        Quota::SnapshotsPerVideo,
        Quota::DrawingsPerVideo,
        Quota::CheckpointsPerVideo,
        Quota::BookmarksPerVideo,
        Quota::DailyTranscodeBytes,
        Quota::DailyInvitationMails,
        Quota::DailyTranscodeMinutes,
        Quota::DailyTranscribeMinutes,
        Quota::StorageBytes,
    ];

    /// The name in configuration and in the API's `usage`.
    pub fn name(self) -> &'static str {
        match self {
            Quota::HostedSpaces => "hostedSpaces",
            Quota::VideosPerSpace => "videosPerSpace",
            Quota::SnapshotsPerVideo => "snapshotsPerVideo",
            Quota::DrawingsPerVideo => "drawingsPerVideo",
            Quota::CheckpointsPerVideo => "checkpointsPerVideo",
            Quota::BookmarksPerVideo => "bookmarksPerVideo",
            Quota::DailyTranscodeBytes => "dailyTranscodeBytes",
            Quota::DailyInvitationMails => "dailyInvitationMails",
            Quota::DailyTranscodeMinutes => "dailyTranscodeMinutes",
            Quota::DailyTranscribeMinutes => "dailyTranscribeMinutes",
            Quota::StorageBytes => "storageBytes",
        }
    }

    /// Whether waiting lifts it (a daily budget) rather than deleting something.
    pub fn resets_daily(self) -> bool {
        matches!(
            self,
            Quota::DailyTranscodeBytes
                | Quota::DailyInvitationMails
                | Quota::DailyTranscodeMinutes
                | Quota::DailyTranscribeMinutes
        )
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A quota a write would have passed, with its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub quota: Quota,
    pub limit: u64,
}

/// The configured limits (the template's parameters, through one `VIVID_QUOTAS` variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub hosted_spaces: u64,
    pub videos_per_space: u64,
    pub snapshots_per_video: u64,
    pub drawings_per_video: u64,
    pub checkpoints_per_video: u64,
    pub bookmarks_per_video: u64,
    pub daily_transcode_bytes: u64,
    /// The largest upload (also bound into the upload URL).
    pub upload_bytes: u64,
    /// The largest recording an import downloads.
    pub import_bytes: u64,
    /// Invitation e-mails one user may ask for per UTC day.
    pub daily_invitation_mails: u64,
    /// Invitation e-mails one address may receive per UTC day, from all inviters together.
    pub daily_mails_per_recipient: u64,
    /// Minutes of media one user may send to transcoding per UTC day.
    pub daily_transcode_minutes: u64,
    /// Minutes of media one user's videos may send to transcription per UTC day.
    pub daily_transcribe_minutes: u64,
    /// Bytes one account's snapshots, drawings and memo checkpoints may take, all spaces together.
    pub storage_bytes: u64,
    /// The longest lecture, in seconds: a longer source is not transcoded, and every job is
    /// clipped there.
    pub lecture_seconds: u64,
    /// Requests one signed-in user may make per minute (`shared/domain/src/rate_limit.rs`).
    pub rate_per_user: u64,
    /// Requests one address (an IPv6 /64) may make per minute without a valid access token.
    pub rate_per_ip: u64,
}

const GIB: u64 = 1024 * 1024 * 1024;

impl Default for Quotas {
    /// Generous for a teacher's real term, small enough that one account cannot run up a bill:
    /// see `docs/quotas.md` for the reasoning behind each number.
    fn default() -> Self {
        Self {
            hosted_spaces: 50,
            videos_per_space: 500,
            snapshots_per_video: 200,
            drawings_per_video: 200,
            checkpoints_per_video: 500,
            bookmarks_per_video: 500,
            daily_transcode_bytes: 20 * GIB,
            upload_bytes: 10 * GIB,
            import_bytes: 10 * GIB,
            daily_invitation_mails: 500,
            daily_mails_per_recipient: 5,
            daily_transcode_minutes: 600,
            daily_transcribe_minutes: 600,
            storage_bytes: GIB,
            lecture_seconds: 6 * 3600,
            rate_per_user: 600,
            rate_per_ip: 1200,
        }
    }
}

impl Quotas {
    /// The limit of one quota.
    pub fn limit(&self, quota: Quota) -> u64 {
        match quota {
            Quota::HostedSpaces => self.hosted_spaces,
            Quota::VideosPerSpace => self.videos_per_space,
            Quota::SnapshotsPerVideo => self.snapshots_per_video,
            Quota::DrawingsPerVideo => self.drawings_per_video,
            Quota::CheckpointsPerVideo => self.checkpoints_per_video,
            Quota::BookmarksPerVideo => self.bookmarks_per_video,
            Quota::DailyTranscodeBytes => self.daily_transcode_bytes,
            Quota::DailyInvitationMails => self.daily_invitation_mails,
            Quota::DailyTranscodeMinutes => self.daily_transcode_minutes,
            Quota::DailyTranscribeMinutes => self.daily_transcribe_minutes,
            Quota::StorageBytes => self.storage_bytes,
        }
    }

    pub fn exceeded(&self, quota: Quota) -> Exceeded {
        Exceeded { quota, limit: self.limit(quota) }
    }

    /// From `name=value` pairs separated by commas (`hostedSpaces=50,uploadBytes=1073741824`);
    /// a name left out keeps its default, an unknown name or a value that is not a positive whole
    /// number is refused (a typo in the template must not silently lift a limit).
    pub fn parse(spec: &str) -> Result<Self, Invalid> {
        let mut q = Self::default();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) =
                pair.split_once('=').ok_or_else(|| Invalid(format!("quota `{pair}` is not name=value")))?;
            let value: u64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| Invalid(format!("quota {name}: `{value}` is not a positive whole number")))?;
            let slot = match name.trim() {
                "hostedSpaces" => &mut q.hosted_spaces,
                "videosPerSpace" => &mut q.videos_per_space,
                "snapshotsPerVideo" => &mut q.snapshots_per_video,
                "drawingsPerVideo" => &mut q.drawings_per_video,
                "checkpointsPerVideo" => &mut q.checkpoints_per_video,
                "bookmarksPerVideo" => &mut q.bookmarks_per_video,
                "dailyTranscodeBytes" => &mut q.daily_transcode_bytes,
                "uploadBytes" => &mut q.upload_bytes,
                "importBytes" => &mut q.import_bytes,
                "dailyInvitationMails" => &mut q.daily_invitation_mails,
                "dailyMailsPerRecipient" => &mut q.daily_mails_per_recipient,
                "dailyTranscodeMinutes" => &mut q.daily_transcode_minutes,
                "dailyTranscribeMinutes" => &mut q.daily_transcribe_minutes,
                "storageBytes" => &mut q.storage_bytes,
                "lectureSeconds" => &mut q.lecture_seconds,
                "ratePerUser" => &mut q.rate_per_user,
                "ratePerIp" => &mut q.rate_per_ip,
                other => return Err(Invalid(format!("unknown quota `{other}`"))),
            };
            *slot = value;
        }
        Ok(q)
    }
}

impl std::str::FromStr for Quotas {
    type Err = Invalid;
    fn from_str(spec: &str) -> Result<Self, Invalid> {
        Self::parse(spec)
    }
}

/// The variable the template sets the quotas in (`Globals`), for every function that counts.
pub const QUOTAS_VAR: &str = "VIVID_QUOTAS";

/// The UTC day a daily quota counts in (`YYYY-MM-DD`) at `unix_secs`, and the seconds left in it.
pub fn utc_day(unix_secs: u64) -> (String, u64) {
    let label = crate::types::rfc3339_at(unix_secs).chars().take(10).collect();
    (label, 86_400 - unix_secs % 86_400)
}

/// The limits a counted note is written within: the member's count of its kind on the video,
/// and the account's storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most of this kind one member may keep on one video.
    pub per_video: u64,
    /// The account's storage, in bytes.
    pub storage_bytes: u64,
}

impl Limits {
    /// `per_video` of one kind, with the account's storage from `quotas`.
    pub fn new(per_video: u64, quotas: &Quotas) -> Self {
        Self { per_video, storage_bytes: quotas.storage_bytes }
    }

    /// The refusal past the storage quota.
    pub fn storage_exceeded(&self) -> Exceeded {
        Exceeded { quota: Quota::StorageBytes, limit: self.storage_bytes }
    }

    /// A charge of `bytes` that no account could hold, refused before anything is written (the
    /// store's condition lets any charge onto an account that has no total yet).
    pub fn check_size(&self, bytes: u64) -> Result<(), Exceeded> {
        if bytes > self.storage_bytes { Err(self.storage_exceeded()) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse_strictly() {
        assert_eq!(Quotas::parse(""), Ok(Quotas::default()));
        let q = Quotas::parse("hostedSpaces=3, uploadBytes=1048576").expect("parses");
        assert_eq!((q.hosted_spaces, q.upload_bytes, q.videos_per_space), (3, 1_048_576, 500));
        let mail = Quotas::parse("dailyInvitationMails=2,dailyMailsPerRecipient=1").expect("parses");
        assert_eq!((mail.daily_invitation_mails, mail.daily_mails_per_recipient), (2, 1));
        let rates = Quotas::parse("ratePerUser=5,ratePerIp=7").expect("parses");
        assert_eq!((rates.rate_per_user, rates.rate_per_ip), (5, 7));
        assert_eq!(Quotas::default().storage_bytes, 1 << 30);
        assert_eq!(Quotas::parse("storageBytes=4096").map(|q| q.storage_bytes), Ok(4096));
        assert!(Quotas::parse("storageBytes=0").is_err(), "no account could keep a note");
        assert!(Quotas::parse("ratePerUser=0").is_err(), "a limit of 0 would refuse everyone");
        for bad in ["hostedSpace=3", "hostedSpaces=0", "hostedSpaces=-1", "hostedSpaces", "hostedSpaces=1e3"] {
            assert!(Quotas::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_day_ends_at_utc_midnight() {
        let at = |t: time::OffsetDateTime| u64::try_from(t.unix_timestamp()).unwrap_or_default();
        let (day, left) = utc_day(at(time::macros::datetime!(2026-11-27 23:59:30 UTC)));
        assert_eq!((day.as_str(), left), ("2026-11-27", 30));
        let (day, left) = utc_day(at(time::macros::datetime!(2026-11-28 00:30:00 +01:00)));
        assert_eq!((day.as_str(), left), ("2026-11-27", 1800));
        assert_eq!(utc_day(at(time::macros::datetime!(2026-11-28 00:00:00 UTC))).1, 86_400);
    }
}
