//! EventBridge Transcribe Job State Change: a finished transcript becomes captions and a
//! searchable word-timed transcript; a failed one is retried (three jobs in all), then recorded.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::{media::Bucket, transcripts::JobNames};
use vivid_dynamo::Table;
use vivid_events::{OnTranscribeEvent, Retries};
use vivid_s3::S3Media;
use vivid_transcribe::Transcribe;

pub async fn wire(cfg: Config) -> Result<OnTranscribeEvent, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Media])?);
    // The stack's name (`AWS::StackName`): its jobs are named after it.
    let jobs = JobNames::of_stack(&cfg.var("VIVID_APPLICATION")?);
    // A failed job's retry reads the MP4 and writes its result into the media bucket.
    let retries =
        Retries { transcriber: Arc::new(Transcribe::from_config(&cfg)?), media_bucket: cfg.var("VIVID_MEDIA_BUCKET")? };
    Ok(OnTranscribeEvent {
        catalog: table.clone(),
        captions: table.clone(),
        media,
        index: table,
        jobs,
        retries: Some(retries),
    })
}
