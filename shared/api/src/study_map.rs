//! The class study map (issue 29), `GET /videos/{videoId}/study-map` (any member): per heat
//! bucket of the video, how many distinct members wrote a note, drew, took a snapshot or
//! bookmarked there, each count shown only from k members on, beside the caller's own marks.
//! The class's counts are kept and served for up to ten minutes
//! (`vivid_domain::study_map::MAX_AGE_SECONDS`); the caller's own marks are read afresh
//! (docs/data-model.md, "Watched coverage").

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Serialize;

use vivid_domain::{
    coverage::{KAnonymity, StudyBucket},
    study_map::{ClassCounts, Mark, StudyMarks, own_marks},
    types::{VideoId, rfc3339_at},
    video::VideoCatalog,
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::videos::video_member;

/// One heat bucket as the class sees it: a count is absent where fewer than k members did it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BucketView {
    start_s: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drawings: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshots: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bookmarks: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    any: Option<u32>,
}

impl From<&StudyBucket> for BucketView {
    fn from(b: &StudyBucket) -> Self {
        Self {
            start_s: b.start_s,
            notes: b.notes,
            drawings: b.drawings,
            snapshots: b.snapshots,
            bookmarks: b.bookmarks,
            any: b.any,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StudyMapView {
    bucket_seconds: u32,
    k: u8,
    buckets: Vec<BucketView>,
    /// When the class's counts were counted (they are served for up to ten minutes).
    computed_at: String,
    mine: Vec<Mark>,
}

/// `GET /videos/{videoId}/study-map` (member; the video `READY`).
pub struct GetStudyMap {
    pub auth: Arc<TokenVerifier>,
    /// The video and the caller's membership.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The marks, and the class's counts kept between computations.
    pub marks: Arc<dyn StudyMarks>,
}

impl GetStudyMap {
    /// The class's counts: those kept while they serve, else counted now and kept (a failure to
    /// keep them is logged; the answer is the same).
    async fn class_counts(
        &self,
        video: &VideoId,
        kept: Option<ClassCounts>,
        duration: f64,
        k: KAnonymity,
        now: i64,
    ) -> Result<ClassCounts, ApiError> {
        if let Some(kept) = kept.filter(|c| c.serves(duration, k, now)) {
            return Ok(kept);
        }
        let marks = self.marks.class_marks(video).await?;
        let counts = ClassCounts::count(&marks, duration, k, now);
        if let Err(e) = self.marks.keep_counts(video, &counts).await {
            tracing::warn!(video = %video, error = %e, "the study map could not be kept; counted again next time");
        }
        Ok(counts)
    }
}

#[async_trait]
impl Handler for GetStudyMap {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?.ready()?;
        let duration = m.video.duration_seconds.unwrap_or(0.0);
        let k = m.member.space.study_k();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (kept, mine) = futures_util::try_join!(
            self.marks.kept_counts(&video_id),
            self.marks.own_marks(&video_id, &caller.user_id)
        )?;
        let counts = self.class_counts(&video_id, kept, duration, k, now).await?;
        let view = StudyMapView {
            bucket_seconds: counts.bucket_seconds,
            k: counts.k.get(),
            buckets: counts.buckets.iter().map(BucketView::from).collect(),
            computed_at: rfc3339_at(u64::try_from(counts.computed_at).unwrap_or(0)),
            mine: own_marks(mine),
        };
        http::json(StatusCode::OK, &view)
    }
}
