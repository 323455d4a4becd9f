//! `on-converted-output`: records converted objects as they land; removes those of a video that
//! is gone (deleted while its job ran).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use vivid_domain::{
    media::{Bucket, MediaStore},
    video::{TranscodeState, layout},
};

use crate::{EventError, EventHandler, s3_objects};

/// `on-converted-output`: records converted objects as they land.
pub struct OnConvertedOutput {
    /// Where each object is recorded on its video.
    pub states: Arc<dyn TranscodeState>,
    /// The media bucket (an orphan object is removed from it).
    pub media: Arc<dyn MediaStore>,
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
                    if !self.states.record_output(&video, &kind, &key).await? {
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
