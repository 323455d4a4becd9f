//! Webex: what its recordings look like to our API, and the calls beyond the shared connector.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::connectors::{ConnectorError, RecordingSource};

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
