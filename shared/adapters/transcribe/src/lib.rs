//! Amazon Transcribe: `StartTranscriptionJob` with the video's MP4 as media, the result written
//! into the media bucket (`OutputBucketName`, `OutputKey`), the language given or identified. A
//! job's name is its video's, so a start repeated (a redelivered event) finds the job and starts
//! nothing. `VIVID_TRANSCRIBE_ENDPOINT` points the client elsewhere (the local stand-in).

use async_trait::async_trait;
use aws_sdk_transcribe::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata},
    types::{LanguageCode, Media, MediaFormat},
};
use vivid_config::{Config, ConfigError, OnDemand};
use vivid_domain::transcripts::{TranscribeError, Transcriber, TranscriptionJob};

pub struct Transcribe {
    client: OnDemand<Client>,
}

impl Transcribe {
    pub fn new(client: Client) -> Self {
        Self { client: OnDemand::ready(client) }
    }

    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let mut conf = aws_sdk_transcribe::config::Builder::from(cfg.sdk()?);
        if let Some(endpoint) = cfg.optional("VIVID_TRANSCRIBE_ENDPOINT") {
            conf = conf.endpoint_url(endpoint);
        }
        let conf = conf.build();
        Ok(Self { client: OnDemand::with(move || Client::from_conf(conf.clone())) })
    }
}

#[async_trait]
impl Transcriber for Transcribe {
    async fn start(&self, job: &TranscriptionJob) -> Result<(), TranscribeError> {
        let mut req = self
            .client
            .get()
            .start_transcription_job()
            .transcription_job_name(&job.name)
            .media(Media::builder().media_file_uri(&job.media_uri).build())
            .media_format(MediaFormat::Mp4)
            .output_bucket_name(&job.output_bucket)
            .output_key(&job.output_key);
        req = match &job.language {
            Some(code) => req.language_code(LanguageCode::from(code.as_str())),
            None => req.identify_language(true),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            // The job of that name exists: it was started by an earlier delivery.
            Err(e) if e.code() == Some("ConflictException") => Ok(()),
            Err(e) => {
                let detail = DisplayErrorContext(&e).to_string();
                match e.code() {
                    Some("BadRequestException") => Err(TranscribeError::Refused(detail)),
                    _ => Err(TranscribeError::Unavailable(detail)),
                }
            }
        }
    }
}
