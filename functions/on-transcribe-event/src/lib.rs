//! EventBridge Transcribe Job State Change: a finished transcript becomes captions and a
//! searchable word-timed transcript; a failed one is recorded.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_config::{Config, ConfigError};
use vivid_domain::{media::Bucket, transcripts::JobNames};
use vivid_dynamo::Table;
use vivid_events::OnTranscribeEvent;
use vivid_s3::S3Media;

pub async fn wire(cfg: Config) -> Result<OnTranscribeEvent, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Media])?);
    // The stack's name (`AWS::StackName`): its jobs are named after it.
    let jobs = JobNames::of_stack(&cfg.var("VIVID_APPLICATION")?);
    Ok(OnTranscribeEvent { catalog: table.clone(), captions: table.clone(), media, index: table, jobs })
}
