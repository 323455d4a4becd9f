//! Grade passback: a student's completion of a video linked from a course becomes their score on
//! the video's line item (AGS), posted only when it rises (a grade never goes down).
//!
//! "Completion" is read through [`completion`] alone: the member's watched coverage (0–100,
//! verified by the server: [`crate::coverage`]), 100 once completed. The progress rate a client
//! reports is not a grade.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    roster::SyncError,
    services::{
        ActivityProgress, GradingProgress, LineItem, LineItemSpec, LtiServices, Score, ServiceClient, ServiceError,
    },
};
use crate::{
    error::StoreError,
    imports::InvokeError,
    types::{UserId, VideoId, unix_now},
    video::{COMPLETED_RATE, Progress, Touched},
};

/// The most a video's line item scores: completion in percent.
pub const SCORE_MAXIMUM: f64 = 100.0;

/// A student's completion of a video, 0–100.
pub fn completion(progress: &Progress) -> u8 {
    completion_of(progress.coverage_percent.unwrap_or(0), progress.completed_at.is_some())
}

/// [`completion`] of a coverage of `percent`, `completed` or not (what a watching report knows).
pub fn completion_of(percent: u8, completed: bool) -> u8 {
    if completed { COMPLETED_RATE } else { percent.min(COMPLETED_RATE) }
}

/// Whether `completion` is above what the platform last took (`None`: nothing yet): the one
/// rule of what is posted ([`score_to_post`]) and of when the worker is started ([`job_after`]).
fn rises(completion: u8, last_posted: Option<u8>) -> bool {
    last_posted.is_none_or(|last| completion > last)
}

/// The score to post for `completion` when it is above `last_posted` (the value the platform
/// last took for this student and video): a grade never goes down — a student at 90 % who
/// rewinds to 5 % keeps 90 at the platform. `None` when the platform has as much already, so a
/// retried, repeated or lower progress write posts nothing. At most 101 values are ever posted
/// per student and video (0, then each higher value up to 100).
pub fn score_to_post(platform_user: &str, completion: u8, last_posted: Option<u8>, now: &str) -> Option<Score> {
    let completion = completion.min(COMPLETED_RATE);
    if !rises(completion, last_posted) {
        return None;
    }
    let done = completion >= COMPLETED_RATE;
    Some(Score {
        user_id: platform_user.to_owned(),
        score_given: f64::from(completion),
        score_maximum: SCORE_MAXIMUM,
        activity_progress: if done { ActivityProgress::Completed } else { ActivityProgress::InProgress },
        grading_progress: if done { GradingProgress::FullyGraded } else { GradingProgress::Pending },
        timestamp: now.to_owned(),
    })
}

/// The grade worker's event (`lti-grade-worker`): whose progress on which video, and who they are
/// at the platform (their membership's `ltiSub`, which the progress write read back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GradeJob {
    pub video_id: VideoId,
    pub user_id: UserId,
    pub lti_sub: String,
}

/// The worker's job a progress write calls for, from what the write found ([`Touched`]): only
/// for a participant who came from an LTI course (their membership carries `ltiSub`; a host or
/// co-host, the course's instructors, is not graded), and only when their completion is above
/// what the platform last took (`ltiPosted`; never posted: any completion) **and** above what it
/// was before this write (the first write counts as a rise): a course whose gradebook never takes
/// a score (no line items, a refusing platform) starts at most one worker per percent a student
/// gains, not one per progress write. The worker checks again, consistently, before posting: a
/// job started on a stale `ltiPosted` posts nothing.
pub fn job_after(video: &VideoId, user: &UserId, touched: &Touched) -> Option<GradeJob> {
    if touched.role.manages() {
        return None;
    }
    let sub = touched.lti_sub.as_ref()?;
    let now = completion_of(touched.coverage_percent, touched.completed);
    let rose = touched.previous.is_none_or(|before| now > before);
    (rose && rises(now, touched.lti_posted)).then(|| GradeJob {
        video_id: video.clone(),
        user_id: user.clone(),
        lti_sub: sub.clone(),
    })
}

/// Starts the grade worker without waiting for it: a Lambda `Event` invocation in AWS (the
/// progress write never waits for an LMS).
#[async_trait]
pub trait GradeInvoker: Send + Sync {
    async fn start(&self, job: &GradeJob) -> Result<(), InvokeError>;
}

/// What the platform last took for a student's video: the value and the line item it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub value: u8,
    pub line_item: String,
}

/// Where a student's scores for a video go: the course's AGS container and the student there.
#[derive(Debug, Clone)]
pub struct GradeTarget {
    pub client: ServiceClient,
    /// The launch's AGS `lineitems` URL.
    pub lineitems_url: String,
    /// The student's platform `user_id` (their `sub`).
    pub platform_user: String,
    /// The gradebook column's title (the video's title).
    pub label: String,
    pub resource_link_id: Option<String>,
}

impl GradeTarget {
    /// Where `platform_user`'s scores for a video titled `label` go in a linked course; `None`
    /// when the course's launches offered no line-item container (AGS without `lineitems`).
    pub fn of(
        link: &super::model::ContextLink,
        registration: &super::model::Registration,
        platform_user: &str,
        label: &str,
    ) -> Option<Self> {
        let lineitems_url = link.ags.as_ref()?.lineitems.clone()?;
        Some(Self {
            client: ServiceClient::of(registration),
            lineitems_url,
            platform_user: platform_user.to_owned(),
            label: label.to_owned(),
            resource_link_id: None,
        })
    }
}

/// How long a worker's claim to make a video's gradebook column holds: past it, another worker
/// may make it (the first one failed between its claim and its record).
pub const COLUMN_CLAIM_SECS: u64 = 120;

/// A video's gradebook column in a course, as the tool keeps it: one per (course's line-item
/// container, video), so that the first scores of a whole class, posted by workers running side
/// by side, go to one column rather than each making its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// Recorded: the line item's URL.
    Known(String),
    /// This worker claimed the making of it (for [`COLUMN_CLAIM_SECS`]): it finds or makes the
    /// line item at the platform and records it.
    Claimed,
    /// Another worker's live claim: this one tries again later (the invocation fails and Lambda
    /// retries it, a minute on).
    Busy,
}

/// The posted values, kept beside the student's progress on the video, and the course's column
/// of each video.
#[async_trait]
pub trait GradeStore: Send + Sync {
    /// The student's progress as it is now (read consistently: the worker's event may be older
    /// than the last write) with what the platform last took; `None` when the progress is gone.
    async fn current(&self, progress: &Progress) -> Result<Option<(Progress, Option<Posted>)>, StoreError>;
    /// Records what the platform took, only when it is above what is recorded (two workers
    /// finishing out of order never lower it); nothing when the progress is gone meanwhile.
    async fn record_posted(&self, progress: &Progress, posted: &Posted) -> Result<(), StoreError>;
    /// The video's column in the course whose container is `lineitems`: recorded, or claimed by
    /// this call (when none is recorded and no other claim is live at `now`), or busy.
    async fn column(&self, lineitems: &str, video: &VideoId, now: u64) -> Result<Column, StoreError>;
    /// Records the column made or found under this call's claim.
    async fn record_column(&self, lineitems: &str, video: &VideoId, line_item: &str) -> Result<(), StoreError>;
    /// Forgets the column `line_item` (the instructor deleted it), only while it is the one
    /// recorded: the next post makes a new one.
    async fn forget_column(&self, lineitems: &str, video: &VideoId, line_item: &str) -> Result<(), StoreError>;
    /// Drops this worker's claim when it could not make the column (the platform failed), while
    /// no column is recorded: the retry, a minute on, claims it again instead of meeting its own
    /// claim.
    async fn release_column(&self, lineitems: &str, video: &VideoId) -> Result<(), StoreError>;
}

/// Posts the student's completion of the video, as it is now, when it is above what the platform
/// last took (the video's line item found or created on the first post); answers the value
/// posted, `None` when there was nothing to post. The score's `timestamp` is the progress write's
/// (`lastAccessAt`), so the platform orders two workers' posts by the writes, not by which ran
/// last. Safe to repeat: a retry after a post whose record failed posts the same value again,
/// which the platform keeps as the latest.
pub async fn pass_back(
    services: &dyn LtiServices,
    store: &dyn GradeStore,
    target: &GradeTarget,
    progress: &Progress,
) -> Result<Option<u8>, SyncError> {
    let Some((progress, last)) = store.current(progress).await? else {
        return Ok(None);
    };
    let progress = &progress;
    let value = completion(progress);
    let stamp = progress.last_access_at.as_str();
    let Some(score) = score_to_post(&target.platform_user, value, last.as_ref().map(|p| p.value), stamp) else {
        return Ok(None);
    };
    let spec = LineItemSpec {
        resource_id: progress.video_id.to_string(),
        resource_link_id: target.resource_link_id.clone(),
        label: target.label.clone(),
        score_maximum: SCORE_MAXIMUM,
    };
    let line_item = match last {
        Some(p) => {
            let known = LineItem { id: p.line_item };
            match services.post_score(&target.client, &known, &score).await {
                Ok(()) => known,
                // The instructor deleted the gradebook column: the video gets a new one.
                Err(ServiceError::NotFound) => {
                    store.forget_column(&target.lineitems_url, &progress.video_id, &known.id).await?;
                    post_to_column(services, store, target, &spec, &progress.video_id, &score).await?
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => post_to_column(services, store, target, &spec, &progress.video_id, &score).await?,
    };
    store.record_posted(progress, &Posted { value, line_item: line_item.id }).await?;
    tracing::info!(video = %progress.video_id, value, "score posted to the platform");
    Ok(Some(value))
}

/// Posts to the video's column in the course: the one recorded, or found or made at the platform
/// under this worker's claim (and recorded). A column the instructor deleted since it was
/// recorded is forgotten and made again once.
async fn post_to_column(
    services: &dyn LtiServices,
    store: &dyn GradeStore,
    target: &GradeTarget,
    spec: &LineItemSpec,
    video: &VideoId,
    score: &Score,
) -> Result<LineItem, SyncError> {
    let container = &target.lineitems_url;
    for _ in 0..2 {
        let item = match store.column(container, video, unix_now()).await? {
            Column::Known(id) => LineItem { id },
            Column::Claimed => match services.line_item(&target.client, container, spec).await {
                Ok(item) => {
                    store.record_column(container, video, &item.id).await?;
                    item
                }
                Err(e) => {
                    store.release_column(container, video).await?;
                    return Err(e.into());
                }
            },
            Column::Busy => {
                return Err(ServiceError::Unavailable(
                    "another worker is making the video's gradebook column: retried later".into(),
                )
                .into());
            }
        };
        match services.post_score(&target.client, &item, score).await {
            Ok(()) => return Ok(item),
            Err(ServiceError::NotFound) => store.forget_column(container, video, &item.id).await?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::NotFound.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_value_is_posted_and_an_equal_one_is_not() {
        let first = score_to_post("u1", 40, None, "2026-01-01T00:00:00Z").expect("first value posted");
        assert_eq!(first.score_given, 40.0);
        assert_eq!(first.score_maximum, 100.0);
        assert_eq!(first.activity_progress, ActivityProgress::InProgress);
        assert_eq!(first.grading_progress, GradingProgress::Pending);
        assert_eq!(score_to_post("u1", 40, Some(40), "later"), None, "the platform has it");
        let done = score_to_post("u1", 100, Some(40), "later").expect("a change is posted");
        assert_eq!(done.activity_progress, ActivityProgress::Completed);
        assert_eq!(done.grading_progress, GradingProgress::FullyGraded);
    }

    #[test]
    fn a_grade_never_goes_down() {
        assert!(score_to_post("u1", 80, None, "t1").is_some());
        assert_eq!(score_to_post("u1", 30, Some(80), "t2"), None, "a rewind to 30 posts nothing");
        assert_eq!(score_to_post("u1", 0, Some(80), "t2"), None);
        assert_eq!(score_to_post("u1", 81, Some(80), "t3").map(|s| s.score_given), Some(81.0));
        assert_eq!(score_to_post("u1", 100, Some(100), "t4"), None);
    }

    #[test]
    fn completion_is_sticky_and_capped() {
        let mut p: Progress = serde_json::from_value(serde_json::json!({
            "videoId": crate::types::VideoId::generate(), "userId": crate::types::UserId::generate(),
            "spaceId": crate::types::SpaceId::generate(), "progressRate": 95, "coveragePercent": 30,
            "positionSeconds": 12.0, "lastAccessAt": "2026-01-01T00:00:00Z"
        }))
        .expect("a progress item");
        assert_eq!(completion(&p), 30, "the watched coverage, not the rate the client reported");
        p.coverage_percent = None;
        assert_eq!(completion(&p), 0, "nothing watched");
        p.coverage_percent = Some(30);
        p.completed_at = Some("2026-01-01T00:00:00Z".into());
        assert_eq!(completion(&p), 100, "a completed video stays completed when rewound");
        assert_eq!(score_to_post("u", 250, None, "t").map(|s| s.score_given), Some(100.0));
    }

    fn touched(role: crate::spaces::Role, sub: Option<&str>, rate: u8, completed: bool, posted: Option<u8>) -> Touched {
        Touched {
            previous: None,
            space_id: crate::types::SpaceId::generate(),
            coverage_percent: rate,
            completed,
            role,
            lti_sub: sub.map(str::to_owned),
            lti_posted: posted,
        }
    }

    #[test]
    fn a_course_participant_s_rising_completion_starts_the_worker_and_nothing_else_does() {
        use crate::spaces::Role::{CoHost, Host, Participant};
        let (video, user) = (VideoId::generate(), UserId::generate());
        let job = |t: Touched| job_after(&video, &user, &t);
        let started = job(touched(Participant, Some("sub-1"), 40, false, None)).expect("never posted: started");
        assert_eq!(started, GradeJob { video_id: video.clone(), user_id: user.clone(), lti_sub: "sub-1".into() });
        assert!(job(touched(Participant, Some("sub-1"), 0, false, None)).is_some(), "a first 0 is news too");
        assert!(job(touched(Participant, Some("sub-1"), 41, false, Some(40))).is_some());
        assert_eq!(job(touched(Participant, Some("sub-1"), 40, false, Some(40))), None, "the platform has it");
        assert_eq!(job(touched(Participant, Some("sub-1"), 10, false, Some(40))), None, "a rewind");
        assert_eq!(job(touched(Participant, Some("sub-1"), 10, true, Some(100))), None, "completed and posted");
        assert!(job(touched(Participant, Some("sub-1"), 10, true, Some(90))).is_some(), "completion is sticky");
        assert_eq!(job(touched(Participant, None, 40, false, None)), None, "not from a course");
        assert_eq!(job(touched(Host, Some("sub-t"), 40, false, None)), None, "the instructor is not graded");
        assert_eq!(job(touched(CoHost, Some("sub-ta"), 40, false, None)), None);
        // A write that does not raise the student's completion starts nothing, whatever the
        // gradebook took (one that never takes a score is asked once per percent gained).
        let same = Touched { previous: Some(40), ..touched(Participant, Some("sub-1"), 40, false, None) };
        assert_eq!(job(same), None, "no rise since the last write");
        let up = Touched { previous: Some(40), ..touched(Participant, Some("sub-1"), 41, false, None) };
        assert!(job(up).is_some());
        let wire = serde_json::to_value(&started).expect("json");
        assert_eq!(wire, serde_json::json!({ "videoId": video, "userId": user, "ltiSub": "sub-1" }));
    }

    /// A gradebook whose column `gone` was deleted by the instructor; `columns` the tool's record
    /// of the course's columns (`None`: claimed, not recorded yet).
    #[derive(Default)]
    struct Gradebook {
        gone: &'static str,
        posted: std::sync::Mutex<Vec<(String, f64)>>,
        kept: std::sync::Mutex<Option<Posted>>,
        columns: std::sync::Mutex<std::collections::HashMap<String, Option<String>>>,
        made: std::sync::Mutex<u32>,
        /// The platform fails the line-item calls (5xx).
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl LtiServices for Gradebook {
        async fn members(
            &self,
            _: &ServiceClient,
            _: &str,
            _: super::super::services::RosterBounds,
        ) -> Result<Vec<super::super::services::PlatformMember>, ServiceError> {
            Ok(vec![])
        }
        async fn line_item(&self, _: &ServiceClient, _: &str, _: &LineItemSpec) -> Result<LineItem, ServiceError> {
            if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(ServiceError::Unavailable("503".into()));
            }
            *self.made.lock().expect("lock") += 1;
            Ok(LineItem { id: "https://lms/li/2".into() })
        }
        async fn post_score(&self, _: &ServiceClient, item: &LineItem, score: &Score) -> Result<(), ServiceError> {
            if item.id == self.gone {
                return Err(ServiceError::NotFound);
            }
            self.posted.lock().expect("lock").push((item.id.clone(), score.score_given));
            Ok(())
        }
    }

    #[async_trait]
    impl GradeStore for Gradebook {
        async fn current(&self, progress: &Progress) -> Result<Option<(Progress, Option<Posted>)>, StoreError> {
            Ok(Some((progress.clone(), self.kept.lock().expect("lock").clone())))
        }
        async fn record_posted(&self, _: &Progress, posted: &Posted) -> Result<(), StoreError> {
            *self.kept.lock().expect("lock") = Some(posted.clone());
            Ok(())
        }
        async fn column(&self, lineitems: &str, video: &VideoId, _: u64) -> Result<Column, StoreError> {
            let mut columns = self.columns.lock().expect("lock");
            Ok(match columns.get(&format!("{lineitems} {video}")) {
                Some(Some(url)) => Column::Known(url.clone()),
                Some(None) => Column::Busy,
                None => {
                    columns.insert(format!("{lineitems} {video}"), None);
                    Column::Claimed
                }
            })
        }
        async fn record_column(&self, lineitems: &str, video: &VideoId, line_item: &str) -> Result<(), StoreError> {
            self.columns.lock().expect("lock").insert(format!("{lineitems} {video}"), Some(line_item.to_owned()));
            Ok(())
        }
        async fn forget_column(&self, lineitems: &str, video: &VideoId, line_item: &str) -> Result<(), StoreError> {
            let mut columns = self.columns.lock().expect("lock");
            let key = format!("{lineitems} {video}");
            if columns.get(&key) == Some(&Some(line_item.to_owned())) {
                columns.remove(&key);
            }
            Ok(())
        }
        async fn release_column(&self, lineitems: &str, video: &VideoId) -> Result<(), StoreError> {
            let mut columns = self.columns.lock().expect("lock");
            let key = format!("{lineitems} {video}");
            if columns.get(&key) == Some(&None) {
                columns.remove(&key);
            }
            Ok(())
        }
    }

    fn target() -> GradeTarget {
        GradeTarget {
            client: ServiceClient { token_url: "https://lms/token".into(), client_id: "c".into(), audience: None },
            lineitems_url: "https://lms/li".into(),
            platform_user: "sub".into(),
            label: "Lecture".into(),
            resource_link_id: None,
        }
    }

    fn progress(rate: u8) -> Progress {
        serde_json::from_value(serde_json::json!({
            "videoId": crate::types::VideoId::generate(), "userId": crate::types::UserId::generate(),
            "spaceId": crate::types::SpaceId::generate(), "progressRate": 0, "coveragePercent": rate,
            "positionSeconds": 12.0, "lastAccessAt": "2026-01-01T00:00:00Z"
        }))
        .unwrap_or_else(|e| panic!("a progress item: {e}"))
    }

    /// A class's first scores go to one column: the first worker claims and makes it, one that
    /// runs meanwhile is told to come back (the invocation fails, Lambda retries it), and later
    /// ones post to the recorded column without asking the platform again.
    #[tokio::test]
    async fn a_class_s_first_scores_make_one_column() {
        let book = Gradebook::default();
        let first = progress(40);
        let video = first.video_id.clone();
        let second = Progress { user_id: crate::types::UserId::generate(), ..first.clone() };
        // A claim by another worker is live: this one is busy (a retryable platform error).
        book.columns.lock().expect("lock").insert(format!("https://lms/li {video}"), None);
        let busy = pass_back(&book, &book, &target(), &second).await;
        assert!(matches!(busy, Err(SyncError::Platform(ref e)) if e.is_transient()), "{busy:?}");
        book.columns.lock().expect("lock").clear();
        assert_eq!(pass_back(&book, &book, &target(), &first).await.expect("posted"), Some(40));
        *book.kept.lock().expect("lock") = None; // the second student has posted nothing
        assert_eq!(pass_back(&book, &book, &target(), &second).await.expect("posted"), Some(40));
        assert_eq!(*book.made.lock().expect("lock"), 1, "one column asked of the platform");
        assert_eq!(book.posted.lock().expect("lock").len(), 2);
    }

    /// A claimer the platform fails lets its claim go: its retry claims again rather than meeting
    /// its own claim until it expires.
    #[tokio::test]
    async fn a_failed_claim_is_released_for_the_retry() {
        let book = Gradebook::default();
        let p = progress(40);
        book.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let failed = pass_back(&book, &book, &target(), &p).await;
        assert!(matches!(failed, Err(SyncError::Platform(ref e)) if e.is_transient()), "{failed:?}");
        assert!(book.columns.lock().expect("lock").is_empty(), "the claim is dropped");
        book.down.store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(pass_back(&book, &book, &target(), &p).await.expect("posted"), Some(40));
    }

    #[tokio::test]
    async fn a_deleted_line_item_is_made_again() {
        let book = Gradebook {
            gone: "https://lms/li/1",
            kept: std::sync::Mutex::new(Some(Posted { value: 40, line_item: "https://lms/li/1".into() })),
            ..Gradebook::default()
        };
        let target = target();
        let p = progress(70);
        // The deleted column is the one recorded for the course: forgotten, then made again.
        book.columns
            .lock()
            .expect("lock")
            .insert(format!("https://lms/li {}", p.video_id), Some("https://lms/li/1".into()));
        assert_eq!(pass_back(&book, &book, &target, &p).await.expect("posted"), Some(70));
        assert_eq!(*book.posted.lock().expect("lock"), vec![("https://lms/li/2".to_owned(), 70.0)]);
        assert_eq!(
            book.kept.lock().expect("lock").clone(),
            Some(Posted { value: 70, line_item: "https://lms/li/2".into() })
        );
        assert_eq!(pass_back(&book, &book, &target, &p).await.expect("nothing"), None);
        // Rewound to 30 before completing: the platform keeps 70, nothing is posted.
        let rewound = Progress { coverage_percent: Some(30), ..p.clone() };
        assert_eq!(pass_back(&book, &book, &target, &rewound).await.expect("nothing"), None);
        assert_eq!(book.posted.lock().expect("lock").len(), 1, "no lower score posted");
        assert_eq!(book.kept.lock().expect("lock").as_ref().map(|p| p.value), Some(70));
    }
}
