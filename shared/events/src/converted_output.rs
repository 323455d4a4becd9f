//! `on-converted-output`: records converted objects as they land.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use vivid_config::{Config, ConfigError};
use vivid_domain::video::{VideoStore, layout};

use crate::{EventError, EventHandler, s3_objects};

/// `on-converted-output`: records converted objects as they land.
pub struct OnConvertedOutput {
    videos: Arc<dyn VideoStore>,
    media_bucket: String,
}

impl OnConvertedOutput {
    pub fn new(videos: Arc<dyn VideoStore>, media_bucket: String) -> Self {
        Self { videos, media_bucket }
    }

    pub fn from_config(videos: Arc<dyn VideoStore>, cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self::new(videos, cfg.var("VIVID_MEDIA_BUCKET")?))
    }
}

#[async_trait]
impl EventHandler for OnConvertedOutput {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        for (bucket, key) in s3_objects(event)? {
            if bucket != self.media_bucket {
                continue;
            }
            match layout::classify(&key) {
                Some((video, kind)) => self.videos.record_output(&video, &kind, &key).await?,
                None => tracing::warn!(key, "object outside media/{{videoId}}/ ignored"),
            }
        }
        Ok(Value::Null)
    }
}
