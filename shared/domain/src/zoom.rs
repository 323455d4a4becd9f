//! Zoom: cloud recordings as our API shows them, the calls beyond the shared connector, the
//! month windows Zoom's listing is limited to, and the automatic import of new recordings.

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub mod filter;

pub use filter::{FilterRequest, ImportFilter};

use crate::{
    access::require_manager,
    connectors::{ConnectorError, RecordingSource},
    error::StoreError,
    spaces::SpaceAccess,
    types::{SpaceId, UserId},
};

/// Zoom answers at most this many days of recordings per call.
pub const WINDOW_DAYS: i64 = 30;
/// The longest range one listing may span (twelve windows).
pub const MAX_RANGE_DAYS: i64 = 366;

/// A file of a recording that can become a video (an MP4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoomFile {
    pub recording_file_id: String,
    /// `shared_screen_with_speaker_view`, `active_speaker`, ...
    pub recording_type: String,
    pub size_bytes: u64,
    /// When the file's segment started: a meeting recorded, stopped and recorded again has a
    /// video per segment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recording_start: String,
}

/// A meeting's cloud recording: its video files, and its transcript when Zoom made one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoomMeeting {
    /// The meeting instance's UUID (what the recording belongs to).
    pub meeting_id: String,
    pub topic: String,
    pub start_time: String,
    pub duration_minutes: u64,
    pub total_size_bytes: u64,
    /// The importable files (video only: audio, chat and timeline files are left out).
    pub files: Vec<ZoomFile>,
    /// A WebVTT transcript (`TRANSCRIPT` or `CC`), noted for captions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_file_id: Option<String>,
}

/// One page of Zoom's listing within a window, and its next-page token (valid 15 minutes).
#[derive(Debug, Clone)]
pub struct ZoomPage {
    pub meetings: Vec<ZoomMeeting>,
    pub next_page_token: Option<String>,
}

/// The reference of a recording file for the import worker: `{meetingId}/{recordingFileId}`.
pub fn file_ref(meeting_id: &str, file_id: &str) -> String {
    format!("{meeting_id}/{file_id}")
}

/// The parts of a file reference.
pub fn parse_file_ref(reference: &str) -> Option<(&str, &str)> {
    reference.rsplit_once('/').filter(|(m, f)| !m.is_empty() && !f.is_empty())
}

/// The meeting instance a Zoom file reference belongs to (what Zoom's later events about the
/// recording name); `None` for a reference of another platform (no `/` in it).
pub fn meeting_of(reference: &str) -> Option<&str> {
    parse_file_ref(reference).map(|(meeting, _)| meeting)
}

#[async_trait]
pub trait ZoomApi: RecordingSource {
    /// The connected Zoom user's id (what webhooks name as `host_id`).
    async fn user_id(&self, access_token: &str) -> Result<String, ConnectorError>;
    /// Recordings that started between `from` and `to` (dates, at most [`WINDOW_DAYS`] apart).
    async fn recordings(
        &self,
        access_token: &str,
        from: &str,
        to: &str,
        page_size: u16,
        next_page_token: Option<&str>,
    ) -> Result<ZoomPage, ConnectorError>;
    /// One meeting's recording, with its files.
    async fn meeting(&self, access_token: &str, meeting_id: &str) -> Result<ZoomMeeting, ConnectorError>;
}

/// A space that imports its host's new Zoom recordings automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoImport {
    pub space_id: SpaceId,
    /// The VIVID user whose Zoom account is linked (the space's host when enabled).
    pub user_id: UserId,
    pub zoom_user_id: String,
    pub enabled_at: String,
    /// Which recordings it imports (none set: every one).
    #[serde(default, skip_serializing_if = "ImportFilter::is_empty")]
    pub filter: ImportFilter,
}

/// Whether a link still imports into its space: the user who made it still hosts or co-hosts
/// it, and the space is not being deleted. Read consistently at each delivery, so a removal,
/// demotion or departure stops the imports at once, even where the link outlived it.
pub fn link_holds(linking_user: Option<SpaceAccess>) -> bool {
    require_manager(linking_user).is_ok()
}

/// Where auto-import links and delivered webhooks are kept.
#[async_trait]
pub trait AutoImportStore: Send + Sync {
    async fn put_auto_import(&self, link: &AutoImport) -> Result<(), StoreError>;
    async fn delete_auto_import(&self, space: &SpaceId) -> Result<(), StoreError>;
    /// Removes the space's link only while it names `user` (a condition on the item): `true`
    /// when it went, `false` when there was none or another manager's link took its place.
    async fn remove_auto_import_of(&self, space: &SpaceId, user: &UserId) -> Result<bool, StoreError>;
    async fn auto_import(&self, space: &SpaceId) -> Result<Option<AutoImport>, StoreError>;
    /// The spaces linked to a Zoom user.
    async fn auto_imports_of(&self, zoom_user_id: &str) -> Result<Vec<AutoImport>, StoreError>;
    /// Every link a VIVID user made (to remove them with the connection or the account).
    async fn auto_imports_by(&self, user: &UserId) -> Result<Vec<AutoImport>, StoreError>;
    /// Claims the import of one file into one space: `true` the first time only, however many
    /// times the webhook is delivered.
    async fn claim_delivery(&self, space: &SpaceId, file_ref: &str, now: u64) -> Result<bool, StoreError>;
    /// Gives a claim back (its import could not start for now), so that Zoom's next delivery of
    /// the webhook imports the file.
    async fn release_delivery(&self, space: &SpaceId, file_ref: &str) -> Result<(), StoreError>;
}

/// Zoom's webhook secret token: verifies `x-zm-signature` and answers URL validations.
pub struct WebhookSigner {
    key: Hmac<Sha256>,
}

/// How old a webhook's timestamp may be (replays beyond it are refused).
pub const WEBHOOK_TOLERANCE_SECS: u64 = 300;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl WebhookSigner {
    /// With the app's secret token (from the secret store); `None` for an empty one.
    pub fn new(secret_token: &str) -> Option<Self> {
        if secret_token.is_empty() {
            return None;
        }
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret_token.as_bytes()).ok().map(|key| Self { key })
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.key.clone();
        mac.update(b"v0:");
        mac.update(timestamp.as_bytes());
        mac.update(b":");
        mac.update(body);
        mac
    }

    /// `v0=` + hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}")), as Zoom signs.
    pub fn signature(&self, timestamp: &str, body: &[u8]) -> String {
        format!("v0={}", hex(&self.mac(timestamp, body).finalize().into_bytes()))
    }

    /// Whether a delivery is Zoom's: the signature matches (compared in constant time) and the
    /// timestamp (seconds or milliseconds) is within the tolerance of `now`.
    pub fn verify(&self, timestamp: &str, body: &[u8], signature: &str, now: u64) -> bool {
        let timestamp = timestamp.trim();
        let Ok(ts) = timestamp.parse::<u64>() else { return false };
        let ts = if ts > 10_000_000_000 { ts / 1000 } else { ts };
        if ts.abs_diff(now) > WEBHOOK_TOLERANCE_SECS {
            return false;
        }
        let Some(hex) = signature.trim().strip_prefix("v0=") else { return false };
        let Some(tag) = (0..hex.len())
            .step_by(2)
            .map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        self.mac(timestamp, body).verify_slice(&tag).is_ok()
    }

    /// The answer to `endpoint.url_validation`: hex(HMAC-SHA256(secret, plainToken)).
    pub fn encrypt_token(&self, plain_token: &str) -> String {
        let mut mac = self.key.clone();
        mac.update(plain_token.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_for_its_body_and_time_only() {
        let s = WebhookSigner::new("secret").expect("signer");
        let body = br#"{"event":"recording.completed"}"#;
        let sig = s.signature("1795613662", body);
        assert!(s.verify("1795613662", body, &sig, 1_795_613_700));
        assert!(s.verify("1795613662000", body, &s.signature("1795613662000", body), 1_795_613_700), "milliseconds");
        assert!(!s.verify("1795613662", b"{}", &sig, 1_795_613_700), "another body");
        assert!(!s.verify("1795613662", body, &sig, 1_795_613_662 + 301), "too old");
        assert!(!s.verify("1795613662", body, "v0=00", 1_795_613_700), "forged");
        let other = WebhookSigner::new("other").expect("signer").signature("1795613662", body);
        assert!(!s.verify("1795613662", body, &other, 1_795_613_700), "another secret");
        assert!(!s.verify("x", body, &sig, 0));
        assert!(WebhookSigner::new("").is_none());
    }

    #[test]
    fn a_link_holds_for_a_manager_of_a_live_space_only() {
        use crate::{
            spaces::{Membership, Role, Space},
            types::{Description, SpaceName},
        };
        let user = UserId::generate();
        let access = |role: Option<Role>, deleting: bool| {
            let mut space = Space::new(SpaceName::personal(), Description::default(), UserId::generate(), false, "t");
            space.deleting = deleting;
            let membership = role.map(|role| Membership {
                space_id: space.space_id.clone(),
                user_id: user.clone(),
                role,
                personal: false,
                joined_at: "t".into(),
            });
            Some(SpaceAccess { space, membership })
        };
        assert!(link_holds(access(Some(Role::Host), false)));
        assert!(link_holds(access(Some(Role::CoHost), false)));
        assert!(!link_holds(access(Some(Role::Participant), false)), "demoted");
        assert!(!link_holds(access(None, false)), "removed or left");
        assert!(!link_holds(access(Some(Role::CoHost), true)), "the space is being deleted");
        assert!(!link_holds(None), "the space is gone");
    }

    #[test]
    fn a_file_reference_splits_back_into_meeting_and_file() {
        let r = file_ref("aBc/d==", "f1");
        assert_eq!(parse_file_ref(&r), Some(("aBc/d==", "f1")));
        assert_eq!(parse_file_ref("nofile/"), None);
        assert_eq!(parse_file_ref("plain"), None);
    }
}
