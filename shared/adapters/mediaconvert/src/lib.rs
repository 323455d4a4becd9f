//! The MediaConvert adapter: the job settings (built with the SDK's own types) and `CreateJob` on
//! the regional endpoint, idempotent by a client request token derived from the video id; `Probe`
//! of a source's container before any job, and every job clipped at the longest lecture allowed.

use async_trait::async_trait;
use aws_sdk_mediaconvert::{
    Client,
    types::{
        AacCodingMode, AacSettings, AudioCodec, AudioCodecSettings, AudioDefaultSelection, AudioDescription,
        AudioSelector, ContainerSettings, ContainerType, FileGroupSettings, FrameCaptureSettings, H264CodecProfile,
        H264GopSizeUnits, H264RateControlMode, H264SceneChangeDetect, H264Settings, HlsGroupSettings,
        HlsImageBasedTrickPlay, HlsImageBasedTrickPlaySettings, HlsIntervalCadence, Input, InputClipping,
        InputTimecodeSource, JobSettings, Output, OutputGroup, OutputGroupSettings, OutputGroupType, ProbeInputFile,
        ProbeResult, ScalingBehavior, StatusUpdateInterval, VideoCodec, VideoCodecSettings, VideoDescription,
    },
};

use vivid_config::{Config, ConfigError, OnDemand};
use vivid_domain::{
    storyboard,
    transcode::{LADDER, Rendition, SourceProbe, THUMBNAIL_INTERVAL_SECS, TranscodeError, Transcoder},
    types::VideoId,
    video::layout,
};

pub struct MediaConvert {
    client: OnDemand<Client>,
    role_arn: String,
    queue: Option<String>,
    /// The `application` of the jobs' metadata: the stack's name, so that the rule of each stack
    /// sees its own jobs' events only (two stacks share an account's MediaConvert events).
    application: String,
    /// The longest lecture in seconds (`lectureSeconds` of `VIVID_QUOTAS`): each job ends there.
    lecture_seconds: u64,
}

/// The jobs' `application` when no stack names them (`VIVID_APPLICATION` unset).
pub const DEFAULT_APPLICATION: &str = "vivid";

impl MediaConvert {
    pub fn new(client: impl Into<OnDemand<Client>>, role_arn: impl Into<String>, queue: Option<String>) -> Self {
        Self {
            client: client.into(),
            role_arn: role_arn.into(),
            queue,
            application: DEFAULT_APPLICATION.to_owned(),
            lecture_seconds: vivid_domain::quota::Quotas::default().lecture_seconds,
        }
    }

    /// Jobs end at `seconds` of their source (the longest lecture allowed).
    pub fn with_lecture_seconds(mut self, seconds: u64) -> Self {
        self.lecture_seconds = seconds;
        self
    }

    /// The jobs carry `application` in their metadata (what the EventBridge rule matches).
    pub fn with_application(mut self, application: impl Into<String>) -> Self {
        self.application = application.into();
        self
    }

    /// The role jobs run as (`VIVID_MEDIACONVERT_ROLE_ARN`), the queue (`VIVID_MEDIACONVERT_QUEUE`,
    /// the account's default when absent) and, locally, the endpoint of the stand-in
    /// (`VIVID_MEDIACONVERT_ENDPOINT`; in AWS the SDK resolves the regional endpoint).
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let mut conf = aws_sdk_mediaconvert::config::Builder::from(cfg.sdk()?);
        if let Some(endpoint) = cfg.optional("VIVID_MEDIACONVERT_ENDPOINT") {
            conf = conf.endpoint_url(endpoint);
        }
        let quotas: vivid_domain::quota::Quotas = cfg.parsed(vivid_domain::quota::QUOTAS_VAR)?.unwrap_or_default();
        let converter = Self::new(
            OnDemand::with({
                let conf = conf.build();
                move || Client::from_conf(conf.clone())
            }),
            cfg.var("VIVID_MEDIACONVERT_ROLE_ARN")?,
            cfg.optional("VIVID_MEDIACONVERT_QUEUE"),
        )
        .with_lecture_seconds(quotas.lecture_seconds);
        Ok(match cfg.optional("VIVID_APPLICATION") {
            Some(application) => converter.with_application(application),
            None => converter,
        })
    }
}

/// The client request token of a video's job: the same video never starts a second job. It
/// carries the stack (`application`): the account's MediaConvert keeps the tokens of every stack,
/// and a video id two tables hold (a restored backup) must not find the other stack's job.
pub fn client_request_token(application: &str, video: &VideoId) -> String {
    format!("{application}-{video}")
}

fn h264(max_bitrate: i32) -> VideoCodecSettings {
    VideoCodecSettings::builder()
        .codec(VideoCodec::H264)
        .h264_settings(
            H264Settings::builder()
                .rate_control_mode(H264RateControlMode::Qvbr)
                .max_bitrate(max_bitrate)
                .codec_profile(H264CodecProfile::Main)
                // Fixed two-second GOPs without scene-cut keyframes: segments cut cleanly.
                .gop_size(2.0)
                .gop_size_units(H264GopSizeUnits::Seconds)
                .scene_change_detect(H264SceneChangeDetect::Disabled)
                .build(),
        )
        .build()
}

fn aac(bitrate: i32) -> AudioDescription {
    AudioDescription::builder()
        .audio_source_name("Audio Selector 1")
        .codec_settings(
            AudioCodecSettings::builder()
                .codec(AudioCodec::Aac)
                .aac_settings(
                    AacSettings::builder()
                        .bitrate(bitrate)
                        .coding_mode(AacCodingMode::CodingMode20)
                        .sample_rate(48_000)
                        .build(),
                )
                .build(),
        )
        .build()
}

fn video(r: &Rendition) -> VideoDescription {
    VideoDescription::builder()
        .width(r.width)
        .height(r.height)
        // Never upscale a smaller source.
        .scaling_behavior(ScalingBehavior::FitNoUpscale)
        .codec_settings(h264(r.max_bitrate))
        .build()
}

/// The end of a job's input clipping at `seconds` of the source (zero-based timecode
/// `HH:MM:SS:FF`); timecodes stop at a day, so a longer limit ends at 23:59:59.
pub fn clip_end_timecode(seconds: u64) -> String {
    let s = seconds.min(86_399);
    format!("{:02}:{:02}:{:02}:00", s / 3600, s % 3600 / 60, s % 60)
}

/// The length a probe result states: the longest of its container's and tracks' durations (a
/// header that understates one of them does not shorten the others).
fn probed_seconds(result: &ProbeResult) -> Option<f64> {
    let container = result.container()?;
    let tracks = container.tracks().iter().filter_map(|t| t.duration());
    container.duration().into_iter().chain(tracks).filter(|d| d.is_finite() && *d > 0.0).reduce(f64::max)
}

/// The job settings for one video: an HLS ladder (360p/540p/720p, ~1/2/3 Mbps, AAC) with sprite
/// sheets of seek previews, a 720p MP4, and a JPEG thumbnail every five seconds — of at most the
/// first `max_seconds` of the source.
pub fn job_settings(video_id: &VideoId, raw_bucket: &str, media_bucket: &str, max_seconds: u64) -> JobSettings {
    let s3 = |key: String| format!("s3://{media_bucket}/{key}");
    let hls_outputs = LADDER.iter().map(|r| {
        Output::builder()
            .name_modifier(format!("_{}p", r.height))
            .container_settings(ContainerSettings::builder().container(ContainerType::M3U8).build())
            .video_description(video(r))
            .audio_descriptions(aac(r.audio_bitrate))
            .build()
    });
    let hls = OutputGroup::builder()
        .name("HLS")
        .output_group_settings(
            OutputGroupSettings::builder()
                .r#type(OutputGroupType::HlsGroupSettings)
                .hls_group_settings(
                    HlsGroupSettings::builder()
                        .destination(s3(layout::hls_destination(video_id)))
                        .segment_length(6)
                        .min_segment_length(0)
                        // Seek previews: thumbnails tiled into sprite sheets and an image media
                        // playlist naming them, from which the suite writes the storyboard.
                        .image_based_trick_play(HlsImageBasedTrickPlay::Advanced)
                        .image_based_trick_play_settings(
                            HlsImageBasedTrickPlaySettings::builder()
                                .interval_cadence(HlsIntervalCadence::FollowCustom)
                                .thumbnail_interval(f64::from(storyboard::INTERVAL_SECS))
                                .thumbnail_width(storyboard::THUMB_WIDTH_PX as i32)
                                .tile_width(storyboard::TILE_COLUMNS as i32)
                                .tile_height(storyboard::TILE_ROWS as i32)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .set_outputs(Some(hls_outputs.collect()))
        .build();
    let top = LADDER[LADDER.len() - 1];
    let mp4 = OutputGroup::builder()
        .name("MP4")
        .output_group_settings(
            OutputGroupSettings::builder()
                .r#type(OutputGroupType::FileGroupSettings)
                .file_group_settings(
                    FileGroupSettings::builder().destination(s3(layout::mp4_destination(video_id))).build(),
                )
                .build(),
        )
        .outputs(
            Output::builder()
                .container_settings(ContainerSettings::builder().container(ContainerType::Mp4).build())
                .video_description(video(&top))
                .audio_descriptions(aac(top.audio_bitrate))
                .build(),
        )
        .build();
    let thumbnails = OutputGroup::builder()
        .name("Thumbnails")
        .output_group_settings(
            OutputGroupSettings::builder()
                .r#type(OutputGroupType::FileGroupSettings)
                .file_group_settings(
                    FileGroupSettings::builder().destination(s3(layout::thumbnails_destination(video_id))).build(),
                )
                .build(),
        )
        .outputs(
            Output::builder()
                .container_settings(ContainerSettings::builder().container(ContainerType::Raw).build())
                .video_description(
                    VideoDescription::builder()
                        .width(480)
                        .height(270)
                        .scaling_behavior(ScalingBehavior::FitNoUpscale)
                        .codec_settings(
                            VideoCodecSettings::builder()
                                .codec(VideoCodec::FrameCapture)
                                .frame_capture_settings(
                                    FrameCaptureSettings::builder()
                                        .framerate_numerator(1)
                                        .framerate_denominator(THUMBNAIL_INTERVAL_SECS)
                                        .max_captures(10_000_000)
                                        .quality(80)
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build();
    let input = Input::builder()
        .file_input(format!("s3://{raw_bucket}/{}", layout::raw(video_id)))
        .timecode_source(InputTimecodeSource::Zerobased)
        // Whatever its header says, no job transcodes more than was charged for it (at most the
        // longest lecture): the bound of a job's cost and of the objects it writes.
        .input_clippings(InputClipping::builder().end_timecode(clip_end_timecode(max_seconds)).build())
        .audio_selectors(
            "Audio Selector 1",
            AudioSelector::builder().default_selection(AudioDefaultSelection::Default).build(),
        )
        .build();
    JobSettings::builder().inputs(input).output_groups(hls).output_groups(mp4).output_groups(thumbnails).build()
}

#[async_trait]
impl Transcoder for MediaConvert {
    async fn probe(&self, video_id: &VideoId, raw_bucket: &str) -> Result<SourceProbe, TranscodeError> {
        let file = ProbeInputFile::builder().file_url(format!("s3://{raw_bucket}/{}", layout::raw(video_id))).build();
        match self.client.get().probe().input_files(file).send().await {
            Ok(out) => Ok(SourceProbe { duration_seconds: out.probe_results().first().and_then(probed_seconds) }),
            // A file the probe cannot read: its length is unknown (the job will tell).
            Err(e) if e.as_service_error().is_some_and(|se| se.is_bad_request_exception()) => {
                tracing::warn!(video_id = %video_id, error = %aws_sdk_mediaconvert::error::DisplayErrorContext(&e), "the probe could not read the source");
                Ok(SourceProbe::default())
            }
            Err(e) => {
                Err(TranscodeError::Backend(aws_sdk_mediaconvert::error::DisplayErrorContext(e).to_string().into()))
            }
        }
    }

    async fn submit(
        &self,
        video_id: &VideoId,
        raw_bucket: &str,
        media_bucket: &str,
        clip_seconds: u64,
    ) -> Result<String, TranscodeError> {
        let resp = self
            .client
            .get()
            .create_job()
            .role(&self.role_arn)
            .set_queue(self.queue.clone())
            .client_request_token(client_request_token(&self.application, video_id))
            .user_metadata("videoId", video_id.to_string())
            .user_metadata("application", &self.application)
            .status_update_interval(StatusUpdateInterval::Seconds10)
            .settings(job_settings(video_id, raw_bucket, media_bucket, clip_seconds.min(self.lecture_seconds)))
            .send()
            .await
            .map_err(|e| {
                TranscodeError::Backend(aws_sdk_mediaconvert::error::DisplayErrorContext(e).to_string().into())
            })?;
        resp.job.and_then(|j| j.id).ok_or_else(|| TranscodeError::Backend("CreateJob returned no job id".into()))
    }

    async fn cancel(&self, job_id: &str) -> Result<bool, TranscodeError> {
        match self.client.get().cancel_job().id(job_id).send().await {
            Ok(_) => Ok(true),
            // A job that completed, failed or was cancelled already: nothing left to stop.
            Err(e)
                if e.as_service_error().is_some_and(|se| se.is_conflict_exception() || se.is_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => {
                Err(TranscodeError::Backend(aws_sdk_mediaconvert::error::DisplayErrorContext(e).to_string().into()))
            }
        }
    }
}
