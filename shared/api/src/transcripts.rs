//! `GET /videos/{videoId}/transcript` (member): the video's automatic transcript as timed cues,
//! or with `?q=` the moments its words are spoken.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Serialize;

use vivid_domain::{
    captions::Cue,
    media::{Bucket, MediaStore},
    transcripts::{self, TranscriptStatus, Word},
    video::VideoCatalog,
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::videos::caller_video;

/// The longest query.
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Moment {
    start_seconds: f64,
    end_seconds: f64,
    text: String,
    /// With `q`: when the first matching word is spoken.
    #[serde(skip_serializing_if = "Option::is_none")]
    match_seconds: Option<f64>,
}

fn ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

impl Moment {
    fn new(c: Cue, at: Option<f64>) -> Self {
        Self { start_seconds: ms(c.start), end_seconds: ms(c.end), text: c.text, match_seconds: at.map(ms) }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TranscriptView {
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    items: Vec<Moment>,
}

/// `GET /videos/{videoId}/transcript[?q=]` (member).
pub struct GetTranscript {
    pub auth: Arc<TokenVerifier>,
    /// The video (its transcript's state) and the caller's membership of its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The media bucket: the word-timed transcript.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for GetTranscript {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        req.caller(&self.auth)?;
        let raw = req.query("q");
        if raw.is_some_and(|q| q.is_empty() || q.chars().count() > MAX_QUERY_CHARS) {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("q must have 1 to {MAX_QUERY_CHARS} characters"),
            ));
        }
        let query = raw.map(|q| q.trim().to_owned());
        let (_, m) = caller_video(&self.auth, self.catalog.as_ref(), req).await?;
        let state = m.video.transcript.filter(|t| t.status == TranscriptStatus::Completed);
        let Some(state) = state else { return Err(ApiError::NotFound("transcript")) };
        let words: Vec<Word> = match self
            .media
            .get(Bucket::Media, &vivid_domain::video::layout::transcript_words(&m.video.video_id))
            .await?
        {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(ApiError::internal)?,
            None => Vec::new(),
        };
        let items = match &query {
            Some(q) => transcripts::search(&words, q).into_iter().map(|(c, at)| Moment::new(c, Some(at))).collect(),
            None => transcripts::cues(&words).into_iter().map(|c| Moment::new(c, None)).collect(),
        };
        let view = TranscriptView { language: state.language, query, items };
        http::json(StatusCode::OK, &view)
    }
}
