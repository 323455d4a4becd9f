//! Webex: what its recordings look like to our API, and the calls beyond the shared connector.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::connectors::{ConnectorError, RecordingSource};

/// The one format of Webex recording that can become a video. Webex's others: `ARF`, its own
/// format that only its Network Recording Player plays, and `UPLOADED` (a file a person uploaded,
/// of any type).
pub const IMPORTABLE_FORMAT: &str = "MP4";

/// A Webex recording as our API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    pub recording_id: String,
    pub topic: String,
    pub host_email: String,
    pub time_recorded: String,
    pub duration_seconds: u64,
    pub size_bytes: u64,
    /// The file's format as Webex names it (`MP4`, `ARF`, `UPLOADED`); empty when it says none.
    pub format: String,
}

impl Recording {
    /// Whether the recording can be imported: an MP4 (what MediaConvert takes).
    pub fn is_importable(&self) -> bool {
        self.format.eq_ignore_ascii_case(IMPORTABLE_FORMAT)
    }

    /// The rule of an import: an MP4, else `UnsupportedFormat` naming the format (`unknown` when
    /// Webex names none, or names it with more than a short word).
    pub fn importable(&self) -> Result<(), ConnectorError> {
        if self.is_importable() {
            return Ok(());
        }
        let named = (1..=16).contains(&self.format.len()) && self.format.bytes().all(|b| b.is_ascii_alphanumeric());
        let format = if named { self.format.clone() } else { "unknown".to_owned() };
        Err(ConnectorError::UnsupportedFormat(format))
    }
}

/// A page of recordings and the platform's link to the next.
#[derive(Debug, Clone)]
pub struct RecordingPage {
    pub items: Vec<Recording>,
    pub next: Option<String>,
}

#[async_trait]
pub trait WebexApi: RecordingSource {
    /// Recordings between `from` and `to` (RFC 3339), `max` a page; `page` a next link.
    async fn recordings(
        &self,
        access_token: &str,
        from: Option<&str>,
        to: Option<&str>,
        max: u16,
        page: Option<&str>,
    ) -> Result<RecordingPage, ConnectorError>;
    /// One recording's details.
    async fn recording(&self, access_token: &str, id: &str) -> Result<Recording, ConnectorError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(format: &str) -> Recording {
        Recording {
            recording_id: "r".into(),
            topic: "t".into(),
            host_email: String::new(),
            time_recorded: String::new(),
            duration_seconds: 1,
            size_bytes: 1,
            format: format.into(),
        }
    }

    #[test]
    fn only_mp4_recordings_are_importable() {
        assert!(recording("MP4").importable().is_ok());
        assert!(recording("mp4").importable().is_ok());
        for (format, named) in
            [("ARF", "ARF"), ("UPLOADED", "UPLOADED"), ("", "unknown"), ("MP4 ", "unknown"), ("\u{202e}ARF", "unknown")]
        {
            let r = recording(format);
            assert!(!r.is_importable(), "{format:?}");
            match r.importable() {
                Err(ConnectorError::UnsupportedFormat(f)) => assert_eq!(f, named, "{format:?}"),
                other => panic!("{format:?}: {other:?}"),
            }
        }
    }
}
