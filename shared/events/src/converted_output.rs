//! `on-converted-output`: records converted objects as they land; removes those of a video that
//! is gone (deleted while its job ran).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use vivid_domain::{
    media::{Bucket, MediaStore},
    video::{VideoStore, layout},
};

use crate::{EventError, EventHandler, s3_objects};

/// `on-converted-output`: records converted objects as they land.
pub struct OnConvertedOutput {
    videos: Arc<dyn VideoStore>,
    media: Arc<dyn MediaStore>,
}

impl OnConvertedOutput {
    pub fn new(videos: Arc<dyn VideoStore>, media: Arc<dyn MediaStore>) -> Self {
        Self { videos, media }
    }
}

#[async_trait]
impl EventHandler for OnConvertedOutput {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let media_bucket = self.media.bucket_name(Bucket::Media).to_owned();
        for (bucket, key) in s3_objects(event)? {
            if bucket != media_bucket {
                continue;
            }
            match layout::classify(&key) {
                Some((video, kind)) => {
                    if !self.videos.record_output(&video, &kind, &key).await? {
                        tracing::info!(video_id = %video, "output of a deleted video removed");
                        self.media.delete(Bucket::Media, &key).await?;
                    }
                }
                None => tracing::warn!(key, "object outside media/{{videoId}}/ ignored"),
            }
        }
        Ok(Value::Null)
    }
}
