//! EventBridge MediaConvert Job State Change: progress, READY (with the storyboard, and the
//! transcript started in spaces with transcription on) or FAILED; a deleted video's job
//! cancelled, a failed one's media removed.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::{media::Bucket, transcripts::JobNames};
use vivid_dynamo::Table;
use vivid_events::{Minutes, OnTranscodeEvent, Transcription};
use vivid_mediaconvert::MediaConvert;
use vivid_s3::S3Media;
use vivid_transcribe::Transcribe;

pub async fn wire(cfg: Config) -> Result<OnTranscodeEvent, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Raw, Bucket::Media])?);
    let transcoder = Arc::new(MediaConvert::from_config(&cfg)?);
    let transcription = Transcription {
        spaces: table.clone(),
        transcriber: Arc::new(Transcribe::from_config(&cfg)?),
        media_bucket: cfg.var("VIVID_MEDIA_BUCKET")?,
        // The stack's name (`AWS::StackName`): its jobs are named after it.
        jobs: JobNames::of_stack(&cfg.var("VIVID_APPLICATION")?),
    };
    let minutes =
        Minutes { budget: table.clone(), quotas: cfg.parsed(vivid_domain::quota::QUOTAS_VAR)?.unwrap_or_default() };
    Ok(OnTranscodeEvent {
        catalog: table.clone(),
        states: table.clone(),
        captions: table.clone(),
        media,
        transcoder,
        transcription: Some(transcription),
        index: Some(table),
        minutes: Some(minutes),
    })
}
