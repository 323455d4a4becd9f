//! An in-memory world that implements the domain's ports, for domain, handler and event tests
//! that run in milliseconds without the local stack.
//!
//! One [`Memory`] holds everything a stack would keep: users, spaces and memberships, videos and
//! their pipeline state, members' progress, snapshots and bookmarks with their counts, quota
//! counters, the search index, objects and multipart uploads, transcoding jobs, and the deletions
//! started. It implements, on one value (share it as `Arc<Memory>` and hand it to every port field
//! of a handler, as the functions hand out their one `Table`):
//!
//! - [`UserStore`](vivid_domain::users::UserStore), [`SpaceStore`](vivid_domain::spaces::SpaceStore)
//!   (`people.rs`);
//! - [`VideoCatalog`](vivid_domain::video::VideoCatalog),
//!   [`VideoRemoval`](vivid_domain::video::VideoRemoval),
//!   [`SearchIndex`](vivid_domain::search::SearchIndex) (`catalog.rs`);
//! - [`UploadStore`](vivid_domain::video::UploadStore),
//!   [`TranscodeState`](vivid_domain::video::TranscodeState),
//!   [`CaptionStore`](vivid_domain::video::CaptionStore),
//!   [`MinutesBudget`](vivid_domain::minutes::MinutesBudget) (`pipeline.rs`);
//! - [`ProgressStore`](vivid_domain::video::ProgressStore),
//!   [`SnapshotStore`](vivid_domain::video::SnapshotStore),
//!   [`BookmarkStore`](vivid_domain::video::BookmarkStore) (`notes.rs`);
//! - [`MediaStore`](vivid_domain::media::MediaStore),
//!   [`Transcoder`](vivid_domain::transcode::Transcoder),
//!   [`PlaybackSigner`](vivid_domain::playback::PlaybackSigner),
//!   [`DeletionInvoker`](vivid_domain::deletion::DeletionInvoker),
//!   [`GradeInvoker`](vivid_domain::lti::grades::GradeInvoker) (`media.rs`).
//!
//! What it keeps of the DynamoDB adapters (`shared/adapters/dynamo`), which a test may rely on:
//! every multi-item write is checked whole and then applied whole (one lock), and when several of
//! its conditions fail the same [`Guard`](vivid_domain::error::Guard) wins as in the adapter's
//! transaction (the first item in the adapter's order); counts are checked in the write that
//! counts (quotas answer `Condition(Quota(..))` with the limit); status changes only move forward
//! and a duplicate, late or foreign one answers `Ok(false)`; a tombstoned video or space reads as
//! the adapter returns it (marked `deleting`, left to the handler to hide) and is written no more;
//! lists come in the adapter's order (a space's videos in the host's order then newest first,
//! memberships personal space first then by joining time, members by user id, notes oldest first)
//! and pages end where DynamoDB's do: a next key whenever a page is full, even when nothing
//! follows; a start key from another query is `ForeignStart`.
//!
//! What it does not model: index lag (every read is consistent, GSIs included — a test that passes
//! here may still need `indexes_settled()` against the stack), concurrency between requests (one
//! lock: no transaction conflict, throttling or `Unavailable`, no retry path is exercised), item
//! and request size limits, TTL expiry (a day's budget lasts), the eventual consistency of batch
//! reads, invitations, sessions, notes other than snapshots and bookmarks (memos, drawings,
//! checkpoints), platform connections and imports' locks beyond the recording lock, and what S3
//! checks of a presigned URL (the URLs it hands out point nowhere: a test puts the bytes with
//! [`MediaStore::put`](vivid_domain::media::MediaStore::put) or `upload_part`).
//!
//! A test starts from users, spaces, members and videos put in through the ports (`seed.rs`:
//! [`Memory::sign_up`], [`Memory::shared_space`], [`Memory::join`], [`Memory::add_video`]). Its
//! futures never wait: [`ready`] runs one to its end without a runtime.

mod catalog;
mod media;
mod notes;
mod people;
mod pipeline;
mod seed;
#[cfg(test)]
mod semantics;

use std::{
    collections::{BTreeMap, BTreeSet},
    future::Future,
    pin::pin,
    sync::{Mutex, MutexGuard, PoisonError},
    task::{Context, Poll, Waker},
};

use vivid_domain::{
    deletion::Deletion,
    error::{Guard, StoreError},
    lti::grades::GradeJob,
    media::Bucket,
    page::{Page, PageKey},
    search::Posting,
    spaces::{Membership, Space, Standing},
    transcode::SourceInfo,
    types::{BookmarkId, Limit, SnapshotId, SpaceId, UserId, VideoId},
    users::User,
    video::{Bookmark, Progress, Snapshot, StatusChange, Video, VideoStatus, layout::MediaKind},
};

pub use media::PLAYBACK_BASE;
pub use seed::uploading;

/// The raw bucket's name (its shape as in AWS: the stack's name and the account).
pub const RAW_BUCKET: &str = "vivid-raw-123456789012";
/// The media bucket's name.
pub const MEDIA_BUCKET: &str = "vivid-media-123456789012";
/// The user-content bucket's name.
pub const USER_BUCKET: &str = "vivid-user-content-123456789012";

/// What a handler asked of the media pipeline's ports, in order: a video read by id, its status
/// and what its job recorded, objects looked at or removed, jobs started or cancelled. Every such
/// call is noted whatever it answered ([`Memory::asked`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Asked {
    GetVideo(VideoId),
    Transition { video: VideoId, to: VideoStatus, change: StatusChange },
    RaisePercent(VideoId, u8),
    RecordSource(VideoId, String, SourceInfo),
    RecordOutput(VideoId, MediaKind, String),
    Head(Bucket, String),
    Delete(Bucket, String),
    DeletePrefix(Bucket, String),
    Submit(VideoId),
    Cancel(String),
}

impl Asked {
    /// Whether the call records a video's state (what a job event is turned into), as opposed to
    /// looking a video up or cleaning up after it.
    pub fn is_status(&self) -> bool {
        matches!(
            self,
            Asked::Transition { .. } | Asked::RaisePercent(..) | Asked::RecordSource(..) | Asked::RecordOutput(..)
        )
    }
}

/// A user's profile and what is counted on it.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub user: User,
    /// Spaces they host besides their personal space.
    pub hosted: i64,
    /// The request that marked the account as deleting.
    pub mark: Option<String>,
}

/// A video and what its item holds besides the [`Video`].
#[derive(Debug, Clone)]
pub(crate) struct VideoRow {
    pub video: Video,
    /// An import run's claim.
    pub claimed_at: Option<String>,
    /// Its charges of minutes: transcoding, transcription.
    pub charges: [Option<MinuteCharge>; 2],
}

#[derive(Debug, Clone)]
pub(crate) struct MinuteCharge {
    pub minutes: u64,
    pub day: String,
    pub settled: bool,
}

/// One member's counts and bytes on one video.
#[derive(Debug, Clone, Default)]
pub(crate) struct Usage {
    pub space: Option<SpaceId>,
    pub snapshots: i64,
    pub bookmarks: i64,
    pub bytes: i64,
}

/// One user's budget of one UTC day.
#[derive(Debug, Clone, Default)]
pub(crate) struct Budget {
    pub bytes: i64,
    /// Minutes: transcoding, transcription.
    pub minutes: [i64; 2],
}

#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub key: String,
    pub content_type: String,
    /// Part number → (ETag, bytes).
    pub parts: BTreeMap<u32, (String, Vec<u8>)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub video: VideoId,
    pub running: bool,
}

/// A term's postings in a space, by video and source.
pub(crate) type Postings = BTreeMap<(VideoId, &'static str), Posting>;

/// Everything the world keeps (one lock).
#[derive(Default)]
pub(crate) struct World {
    pub users: BTreeMap<UserId, UserRow>,
    pub emails: BTreeMap<String, UserId>,
    pub google: BTreeMap<String, UserId>,
    pub spaces: BTreeMap<SpaceId, Space>,
    pub members: BTreeMap<(SpaceId, UserId), (Membership, Standing)>,
    /// The platform subjects of memberships that came from an LTI course (`ltiSub`), beside them.
    pub lti_subs: BTreeMap<(SpaceId, UserId), String>,
    /// Managers' removals of users from spaces.
    pub removed: BTreeSet<(SpaceId, UserId)>,
    /// Recordings imported into spaces, with their videos.
    pub recordings: BTreeMap<(SpaceId, String), VideoId>,
    pub videos: BTreeMap<VideoId, VideoRow>,
    pub progress: BTreeMap<(VideoId, UserId), Progress>,
    /// What a course's gradebook last took of a progress (`ltiPosted`), beside it.
    pub lti_posted: BTreeMap<(VideoId, UserId), u8>,
    pub snapshots: BTreeMap<(VideoId, UserId, SnapshotId), Snapshot>,
    pub bookmarks: BTreeMap<(VideoId, UserId, BookmarkId), Bookmark>,
    pub usage: BTreeMap<(VideoId, UserId), Usage>,
    pub storage: BTreeMap<UserId, i64>,
    pub budgets: BTreeMap<(UserId, String), Budget>,
    /// (space, term) → (video, source) → posting.
    pub postings: BTreeMap<(SpaceId, String), Postings>,
    /// (space, user, term) → video → posting.
    pub note_postings: BTreeMap<(SpaceId, UserId, String), BTreeMap<VideoId, Posting>>,
    /// (bucket, key) → object.
    pub objects: BTreeMap<(u8, String), Object>,
    pub uploads: BTreeMap<String, Upload>,
    pub jobs: BTreeMap<String, Job>,
    /// The length the transcoder reads of every source (`None`: the container does not say).
    pub probe: Option<f64>,
    pub deletions: Vec<Deletion>,
    pub grade_jobs: Vec<GradeJob>,
    pub asked: Vec<Asked>,
    /// For upload and job ids.
    pub next_id: u64,
}

impl World {
    pub fn fresh_id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("{kind}-{:06}", self.next_id)
    }

    /// The account exists and its deletion has not begun.
    pub fn account_live(&self, user: &UserId) -> bool {
        self.users.get(user).is_some_and(|u| !u.user.deleting)
    }

    /// The space exists and is not being deleted.
    pub fn space_live(&self, space: &SpaceId) -> bool {
        self.spaces.get(space).is_some_and(|s| !s.deleting)
    }
}

/// The in-memory world; see the module documentation.
pub struct Memory {
    world: Mutex<World>,
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Memory {
    /// An empty world whose transcoder reads every source as a minute long.
    pub fn new() -> Self {
        Self { world: Mutex::new(World { probe: Some(60.0), ..World::default() }) }
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes a call of the pipeline's ports.
    pub(crate) fn note(&self, asked: Asked) {
        self.world().asked.push(asked);
    }

    /// What the pipeline's ports were asked since the last call, in order.
    pub fn asked(&self) -> Vec<Asked> {
        std::mem::take(&mut self.world().asked)
    }

    /// The deletions started ([`DeletionInvoker`](vivid_domain::deletion::DeletionInvoker)), in
    /// order.
    pub fn deletions(&self) -> Vec<Deletion> {
        self.world().deletions.clone()
    }

    /// The grade worker's jobs started ([`GradeInvoker`](vivid_domain::lti::grades::GradeInvoker)),
    /// in order.
    pub fn grade_jobs(&self) -> Vec<GradeJob> {
        self.world().grade_jobs.clone()
    }

    /// The length the transcoder's probe reads of every source from now on (`None`: it states
    /// none).
    pub fn set_probe(&self, seconds: Option<f64>) {
        self.world().probe = seconds;
    }

    /// The jobs started for a video, with whether each still runs.
    pub fn jobs_of(&self, video: &VideoId) -> Vec<(String, bool)> {
        let w = self.world();
        w.jobs.iter().filter(|(_, j)| j.video == *video).map(|(id, j)| (id.clone(), j.running)).collect()
    }

    /// A user's bytes of notes, all spaces together (`STORAGE`).
    pub fn storage_bytes(&self, user: &UserId) -> i64 {
        self.world().storage.get(user).copied().unwrap_or(0)
    }
}

/// Runs a future of the in-memory ports to its end: they never wait, so one poll finishes it.
///
/// # Panics
/// When the future waits for something (it awaits more than the in-memory ports).
pub fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a future of the in-memory ports waited"),
    }
}

/// The index of a bucket in the object map.
pub(crate) fn slot(bucket: Bucket) -> u8 {
    match bucket {
        Bucket::Raw => 0,
        Bucket::Media => 1,
        Bucket::User => 2,
    }
}

/// A failed condition.
pub(crate) fn failed<T>(guard: Guard) -> Result<T, StoreError> {
    Err(StoreError::Condition(guard))
}

const PARTITION: &str = "partition";
const AFTER: &str = "after";

/// One page of the rows of `partition` (each with its sort key), read forward (ascending sort
/// keys) or backward, from after the start key's sort key. The next key is given whenever the
/// page is full (as DynamoDB's `LastEvaluatedKey`); a start key of another partition, or not of
/// this shape, is `ForeignStart`.
pub(crate) fn page<T>(
    partition: &str,
    mut rows: Vec<(String, T)>,
    limit: Limit,
    start: Option<PageKey>,
    forward: bool,
) -> Result<Page<T>, StoreError> {
    let after = match start {
        None => None,
        Some(key) => {
            let ours = key.len() == 2 && key.get(PARTITION).map(String::as_str) == Some(partition);
            match key.get(AFTER) {
                Some(after) if ours => Some(after.clone()),
                _ => return Err(StoreError::ForeignStart),
            }
        }
    };
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    if !forward {
        rows.reverse();
    }
    let limit = usize::from(limit.get());
    let mut items = Vec::new();
    let mut last = None;
    for (sort, item) in rows {
        let passed = after.as_ref().is_some_and(|a| if forward { sort <= *a } else { sort >= *a });
        if passed {
            continue;
        }
        if items.len() == limit {
            break;
        }
        last = Some(sort);
        items.push(item);
    }
    let next = match last {
        Some(sort) if items.len() == limit => {
            Some(PageKey::from([(PARTITION.to_owned(), partition.to_owned()), (AFTER.to_owned(), sort)]))
        }
        _ => None,
    };
    Ok(Page { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: u32) -> Vec<(String, u32)> {
        (0..n).map(|i| (format!("{i:03}"), i)).collect()
    }

    #[test]
    fn pages_follow_on_and_end_where_dynamodb_s_do() {
        let first = page("P", rows(5), Limit::clamped(2), None, true).expect("page");
        assert_eq!(first.items, [0, 1]);
        let second = page("P", rows(5), Limit::clamped(2), first.next, true).expect("page");
        assert_eq!(second.items, [2, 3]);
        let third = page("P", rows(5), Limit::clamped(2), second.next, true).expect("page");
        assert_eq!((third.items, third.next), (vec![4], None));
        let full = page("P", rows(2), Limit::clamped(2), None, true).expect("page");
        let after = page("P", rows(2), Limit::clamped(2), full.next, true).expect("a full page has a next key");
        assert!(after.items.is_empty() && after.next.is_none());
        let back = page("P", rows(3), Limit::clamped(2), None, false).expect("page");
        assert_eq!(back.items, [2, 1]);
        assert_eq!(page("P", rows(3), Limit::clamped(2), back.next, false).expect("page").items, [0]);
    }

    #[test]
    fn a_start_key_of_another_query_is_foreign() {
        let next = page("P", rows(3), Limit::clamped(1), None, true).expect("page").next;
        assert!(matches!(page("Q", rows(3), Limit::clamped(1), next, true), Err(StoreError::ForeignStart)));
        let odd = PageKey::from([("PK".to_owned(), "P".to_owned())]);
        assert!(matches!(page("P", rows(3), Limit::clamped(1), Some(odd), true), Err(StoreError::ForeignStart)));
    }
}
