//! What a member watched (issue 29): the player's reports of the intervals it played
//! (`POST /videos/{videoId}/watching`), the member's own coverage (`GET` of the same path), and
//! the class's heatmap and drop-off for the space's host and co-hosts
//! (`GET /videos/{videoId}/heatmap`). The rules are `vivid_domain::coverage`'s; the coverage rides
//! on the member's progress item (docs/data-model.md, "Watched coverage").

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_domain::{
    coverage::{CompletionThreshold, Coverage, CoverageError, Heatmap, Interval, PlayerSession, Timeline, WatchReport},
    error::{Guard, StoreError},
    lti::grades::{self, GradeInvoker},
    spaces::SpaceStore,
    types::{SpaceId, UserId, VideoId, now_rfc3339},
    video::{Progress, ProgressStore, Touched, VideoCatalog},
    watching::{Reported, StoredWatch, WatchStore, take_report},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::videos::{manager_of, video_member};

/// A report's body: at most 64 intervals, well within 8 KiB.
const MAX_BODY: usize = 8 * 1024;
/// Reads and writes of one report before a lost race is the client's to retry (503).
const ATTEMPTS: usize = 4;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReportBody {
    session: String,
    /// A whole number (`4.0` too: JSON Schema's integer).
    #[serde(deserialize_with = "vivid_domain::types::body::whole")]
    seq: u32,
    intervals: Vec<IntervalBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntervalBody {
    start: f64,
    end: f64,
    rate: f64,
}

/// The refusals of a report or setting; stored data the rules cannot read is ours (500).
fn refused(e: CoverageError) -> ApiError {
    match e {
        e @ CoverageError::FasterThanTheClock { .. } => ApiError::unprocessable("faster_than_the_clock", e.to_string()),
        e @ CoverageError::Stale => ApiError::conflict("stale_player_session", e.to_string()),
        e if e.is_client_error() => ApiError::unprocessable("invalid_watch_report", e.to_string()),
        e => ApiError::internal(e),
    }
}

/// A member's coverage of a video, as they see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageView {
    /// Watched share of the video, 0–100 (2-second buckets).
    pub percent: u8,
    pub watched_seconds: u32,
    /// The watched parts, `[start, end)` in seconds, ordered.
    pub ranges: Vec<[u32; 2]>,
    /// Whether the video counts as completed (watched past the completion threshold, or
    /// completed before completion was watched); sticky.
    pub completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Whether this answer is to a report the API had taken already (nothing changed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replay: bool,
}

impl CoverageView {
    fn new(coverage: &Coverage, completed_at: Option<String>, replay: bool) -> Self {
        let step = vivid_domain::coverage::BUCKET_SECONDS;
        Self {
            percent: coverage.percent(),
            watched_seconds: coverage.watched_seconds(),
            ranges: coverage.watched_ranges().into_iter().map(|r| [r.start * step, r.end * step]).collect(),
            completed: completed_at.is_some(),
            completed_at,
            replay,
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The video's duration, from the stored coverage when it has one, else from the video (and
/// only a READY video has one).
async fn duration_of(
    catalog: &dyn VideoCatalog,
    stored: &StoredWatch,
    video: &VideoId,
    user: &UserId,
) -> Result<f64, ApiError> {
    if let Some(d) = stored.duration_s {
        return Ok(d);
    }
    let m = video_member(catalog, video, user).await?.ready()?;
    m.video.duration_seconds.ok_or_else(|| ApiError::conflict("not_ready", "the video's duration is not known yet"))
}

/// How long a function instance keeps a space's completion threshold: a host's change applies to
/// every report within a minute, and a class's reports read the space about once a minute per
/// instance, not once each.
const THRESHOLD_TTL: Duration = Duration::from_secs(60);
/// Spaces whose threshold an instance keeps at most (then it starts over).
const KEPT_THRESHOLDS: usize = 1024;

/// The spaces' completion thresholds (a host's setting, `PATCH /spaces/{spaceId}`), kept a minute.
pub struct SpaceThresholds {
    spaces: Arc<dyn SpaceStore>,
    kept: Mutex<HashMap<SpaceId, (Instant, CompletionThreshold)>>,
}

impl SpaceThresholds {
    pub fn new(spaces: Arc<dyn SpaceStore>) -> Self {
        Self { spaces, kept: Mutex::new(HashMap::new()) }
    }

    fn kept(&self, space: &SpaceId) -> Option<CompletionThreshold> {
        let kept = self.kept.lock().ok()?;
        kept.get(space).filter(|(at, _)| at.elapsed() < THRESHOLD_TTL).map(|(_, t)| *t)
    }

    /// The space's threshold (a space that is gone: the default; the report's write fails then).
    async fn of(&self, space: &SpaceId) -> Result<CompletionThreshold, ApiError> {
        if let Some(t) = self.kept(space) {
            return Ok(t);
        }
        let threshold = self.spaces.get_space(space).await?.map(|s| s.completion()).unwrap_or_default();
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() >= KEPT_THRESHOLDS {
                kept.clear();
            }
            kept.insert(space.clone(), (Instant::now(), threshold));
        }
        Ok(threshold)
    }
}

/// The steps of completion a gradebook hears of.
const GRADE_STEP: u8 = 5;

/// A completion to tell the gradebook of: after the report, and before it (`None`: not known).
struct Graded {
    percent: u8,
    completed: bool,
    before: Option<u8>,
}

/// `POST /videos/{videoId}/watching` (member): a report of the intervals the player played,
/// taken into the member's coverage once (a replayed or reordered report changes nothing), or
/// refused when it claims more playing than the clock allows. Answers the coverage as it is.
pub struct ReportWatching {
    pub auth: Arc<TokenVerifier>,
    /// The member's coverage and the class's counters.
    pub watch: Arc<dyn WatchStore>,
    /// The progress item that carries the coverage, made by the first report of a member who
    /// never played the video.
    pub progress: Arc<dyn ProgressStore>,
    /// The video and the caller's membership, on the first report.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The grade worker (`lti-grade-worker`), started when a course student's completion rose.
    pub grades: Arc<dyn GradeInvoker>,
    /// The space's completion threshold, read while the member has not completed the video.
    pub thresholds: SpaceThresholds,
}

impl ReportWatching {
    /// Starts the grade worker when this report raised the completion above what the course's
    /// gradebook last took (docs/lti-services.md, "Grade passback"): the membership is read only
    /// then, once per percent gained at most. The coverage is written: a failure here is not the
    /// client's (their next gain starts it again).
    ///
    /// Asked after a taken report (`before` its completion before the report) and after a replay
    /// (`before` = `None`: the report may have been taken by an attempt whose answer was lost, so
    /// the worker is started if the gradebook has less than the completion now; `ltiPosted` keeps
    /// it idempotent). Never fails the request: the coverage is written.
    async fn pass_back(&self, stored: &StoredWatch, space: &SpaceId, user: &UserId, video: &VideoId, now: Graded) {
        let Graded { percent, completed, before } = now;
        let after = grades::completion_of(percent, completed);
        // A gradebook hears of every 5 % step (completion, 100, is one), not of every percent:
        // the membership is read at most 20 times a video per student, not 100.
        let stepped = |b: u8| after / GRADE_STEP > b / GRADE_STEP;
        if before.is_some_and(|b| !stepped(b)) || stored.lti_posted.is_some_and(|p| after <= p) {
            return;
        }
        let (role, lti_sub) = match self.watch.graded_as(space, user).await {
            Ok(Some(graded)) => graded,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(%video, %space, error = %e, "the grade passback's membership read failed");
                return;
            }
        };
        let touched = Touched {
            space_id: space.clone(),
            coverage_percent: percent,
            completed,
            role,
            lti_sub,
            lti_posted: stored.lti_posted,
            previous: before,
        };
        if let Some(job) = grades::job_after(video, user, &touched)
            && let Err(e) = self.grades.start(&job).await
        {
            tracing::warn!(%video, %space, error = %e, "the grade passback could not be started");
        }
    }

    /// The member's progress item, made (after the access check) when there is none.
    async fn stored(&self, video: &VideoId, user: &UserId) -> Result<StoredWatch, ApiError> {
        if let Some(stored) = self.watch.watch(video, user).await? {
            return Ok(stored);
        }
        let m = video_member(self.catalog.as_ref(), video, user).await?.ready()?;
        let now = now_rfc3339();
        let progress = Progress {
            video_id: video.clone(),
            user_id: user.clone(),
            space_id: m.video.space_id.clone(),
            progress_rate: 0,
            position_seconds: crate::seconds("positionSeconds", 0.0)?,
            completed_at: None,
            coverage_percent: None,
            last_access_at: now,
        };
        match self.progress.put_progress(&progress).await {
            // Made by a concurrent first write: read it.
            Ok(()) | Err(StoreError::Condition(Guard::Item)) => {}
            Err(e) => return Err(e.into()),
        }
        self.watch.watch(video, user).await?.ok_or(ApiError::NotFound("video"))
    }
}

#[async_trait]
impl Handler for ReportWatching {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let body: ReportBody = req.json(MAX_BODY)?;
        let session = PlayerSession::parse(&body.session).map_err(refused)?;
        let intervals =
            body.intervals.into_iter().map(|i| Interval { start: i.start, end: i.end, rate: i.rate }).collect();
        let report = WatchReport::new(session, body.seq, intervals).map_err(refused)?;
        for _ in 0..ATTEMPTS {
            let stored = self.stored(&video_id, &caller.user_id).await?;
            let duration = duration_of(self.catalog.as_ref(), &stored, &video_id, &caller.user_id).await?;
            // Completion is sticky: once completed, no threshold is asked.
            let threshold = match stored.completed_at {
                Some(_) => CompletionThreshold::default(),
                None => self.thresholds.of(&stored.space_id).await?,
            };
            let now = now_rfc3339();
            let taken = take_report(&stored, &video_id, &caller.user_id, &report, duration, threshold, now_ms(), &now)
                .map_err(refused)?;
            let (write, state) = match taken {
                Reported::Replay(state) => {
                    let graded = Graded {
                        percent: state.coverage.percent(),
                        completed: stored.completed_at.is_some(),
                        before: None,
                    };
                    self.pass_back(&stored, &stored.space_id, &caller.user_id, &video_id, graded).await;
                    let view = CoverageView::new(&state.coverage, stored.completed_at, true);
                    return http::json(StatusCode::OK, &view);
                }
                Reported::Write(write, state) => (write, state),
            };
            match self.watch.save_watch(&write).await {
                Ok(()) => {
                    let completed_at = stored.completed_at.clone().or_else(|| write.completes.then_some(now));
                    let before = grades::completion_of(stored.percent.unwrap_or(0), stored.completed_at.is_some());
                    let graded =
                        Graded { percent: write.percent, completed: completed_at.is_some(), before: Some(before) };
                    self.pass_back(&stored, &write.space_id, &write.user, &write.video, graded).await;
                    return http::json(StatusCode::OK, &CoverageView::new(&state.coverage, completed_at, false));
                }
                // Another report (or a progress write's completion) came between: read again.
                Err(StoreError::Condition(Guard::Item)) => continue,
                // Removed from the space meanwhile: as to a stranger.
                Err(StoreError::Condition(Guard::Grant)) => return Err(ApiError::NotFound("video")),
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::unavailable("the coverage kept changing under the report").into())
    }
}

/// `GET /videos/{videoId}/watching` (member): the caller's own coverage of the video (nothing
/// watched: 0 and no range).
pub struct GetWatching {
    pub auth: Arc<TokenVerifier>,
    pub watch: Arc<dyn WatchStore>,
    pub catalog: Arc<dyn VideoCatalog>,
}

#[async_trait]
impl Handler for GetWatching {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        let duration = m.video.duration_seconds.unwrap_or(0.0);
        let stored = self.watch.watch(&video_id, &caller.user_id).await?;
        let view = match (stored, Timeline::new(duration)) {
            (Some(stored), Ok(timeline)) => {
                let state = stored.state(&timeline).map_err(refused)?;
                CoverageView::new(&state.coverage, stored.completed_at, false)
            }
            (stored, _) => CoverageView {
                percent: 0,
                watched_seconds: 0,
                ranges: Vec::new(),
                completed: stored.as_ref().is_some_and(|s| s.completed_at.is_some()),
                completed_at: stored.and_then(|s| s.completed_at),
                replay: false,
            },
        };
        http::json(StatusCode::OK, &view)
    }
}

/// `GET /videos/{videoId}/heatmap` (host, co-host): per heat bucket the distinct students who
/// watched it and the views (rewatches counted), and the drop-off curve; one query of the video's
/// counter items whatever the class's size.
pub struct GetHeatmap {
    pub auth: Arc<TokenVerifier>,
    pub watch: Arc<dyn WatchStore>,
    pub catalog: Arc<dyn VideoCatalog>,
}

#[async_trait]
impl Handler for GetHeatmap {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        manager_of(&m)?;
        let m = m.ready()?;
        let duration = m.video.duration_seconds.unwrap_or(0.0);
        let (counters, starters) = self.watch.heat(&video_id).await?;
        let heatmap = Heatmap::build(duration, counters, starters).map_err(refused)?;
        http::json(StatusCode::OK, &heatmap)
    }
}
