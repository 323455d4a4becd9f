//! Attribute names: the one place that spells the names the adapter writes, updates, reads or
//! projects by hand. An item is otherwise its domain struct serialized with serde (camelCase field
//! names); the attributes below are those the stores name themselves — the keys and indexes, the
//! item's `type`, the table's TTL, marks, counters, and the fields a conditional update changes.
//! Expression texts (`attribute_exists(PK)`, `#status = :from0`) name only attributes spelled here:
//! a test reads every expression of the crate (`source_checks.rs`) and lists any other name, so a
//! constant renamed here fails it until each expression follows (the tombstone tests take theirs
//! from [`crate::expr::not_deleting`]); the values and `#name` bindings come from here. Key
//! *values* (partitions, sort keys, their prefixes) are built in [`crate::keys`].

// The table's keys and its two global secondary indexes.
pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";

/// What an item is (`Video`, `Membership`, `Usage`, …), for people reading the table.
pub const TYPE: &str = "type";
/// The table's time-to-live attribute (epoch seconds): the template's `TimeToLiveSpecification`.
pub const EXPIRES_AT: &str = "expiresAt";
/// A user-content object an item points at (found again when its video or member goes).
pub const OBJECT_KEY: &str = "objectKey";

// Marks.
/// An account, space or video whose deletion has begun.
pub const DELETING: &str = "deleting";
/// When a deletion was marked (its entry in the sweep's `DELETING` index).
pub const DELETION_MARK: &str = "deletionMark";

// Counters.
pub const VIDEO_COUNT: &str = "videoCount";
pub const MEMBER_COUNT: &str = "memberCount";
pub const HOSTED_SPACES: &str = "hostedSpaces";
/// A member's standing in a space: the sum of their progress rates, the videos they completed
/// and their last access.
pub const PROGRESS_SUM: &str = "progressSum";
pub const COMPLETED_VIDEOS: &str = "completedVideos";
pub const LAST_ACCESS_AT: &str = "lastAccessAt";
/// Bytes of notes charged (a member's usage of a video, an account's storage total).
pub const BYTES: &str = "bytes";
/// A day's transcoding budget charged.
pub const TRANSCODE_BYTES: &str = "transcodeBytes";
/// An invitation code's uses.
pub const USES: &str = "uses";
/// Invitation e-mails of a day (sent by a user, received by an address).
pub const MAILS: &str = "mails";
pub const INVITATION_MAILS: &str = "invitationMails";
/// A member's counted items on a video.
pub const SNAPSHOTS: &str = "snapshots";
pub const DRAWINGS: &str = "drawings";
pub const CHECKPOINTS: &str = "checkpoints";
pub const BOOKMARKS: &str = "bookmarks";

// Who and where (on link and lock items, and in conditions).
pub const ROLE: &str = "role";
pub const CREATED_BY: &str = "createdBy";
pub const REVOKED_AT: &str = "revokedAt";
pub const REMOVED_AT: &str = "removedAt";
/// An optimistic lock's version (connections, memos).
pub const VERSION: &str = "version";
/// A note's kind (text, drawing).
pub const KIND: &str = "kind";
pub const USER_ID: &str = "userId";
pub const SPACE_ID: &str = "spaceId";
pub const VIDEO_ID: &str = "videoId";

// A video's fields that conditional updates change.
pub const STATUS: &str = "status";
pub const UPDATED_AT: &str = "updatedAt";
pub const JOB_ID: &str = "jobId";
pub const UPLOAD_ID: &str = "uploadId";
pub const PERCENT_COMPLETE: &str = "percentComplete";
pub const DURATION_SECONDS: &str = "durationSeconds";
pub const FAILURE_REASON: &str = "failureReason";
pub const HLS_MASTER: &str = "hlsMaster";
pub const MP4: &str = "mp4";
pub const STORYBOARD: &str = "storyboard";
pub const THUMBNAIL_COUNT: &str = "thumbnailCount";
pub const POSITION: &str = "position";
pub const TITLE: &str = "title";
pub const DESCRIPTION: &str = "description";
pub const CHAPTERS: &str = "chapters";
pub const TRANSCRIPT: &str = "transcript";
pub const SOURCE: &str = "source";
/// Where an import's claim on a video stands (a worker's lease on the download).
pub const IMPORT_CLAIMED_AT: &str = "importClaimedAt";
/// A video's caption tracks (a map by language), raised by every change, and the HLS master that
/// lists them.
pub const CAPTIONS: &str = "captions";
pub const CAPTIONS_VERSION: &str = "captionsVersion";
pub const CAPTIONED_MASTER: &str = "captionedMaster";

// A connection with a platform (built by hand: its tokens are sealed bytes).
pub const PROVIDER: &str = "provider";
pub const SEALED_TOKENS: &str = "sealedTokens";
pub const EXTERNAL_ID: &str = "externalId";
pub const ACCESS_EXPIRES_AT: &str = "accessExpiresAt";
pub const REFRESH_EXPIRES_AT: &str = "refreshExpiresAt";

// A refresh family (built by hand: its times are epoch seconds).
pub const REVOKED: &str = "revoked";
pub const CREATED_AT: &str = "createdAt";
pub const LAST_USED_AT: &str = "lastUsedAt";
pub const ENDS_AT: &str = "endsAt";
pub const USER_AGENT: &str = "userAgent";
/// A refresh token's binding, its use and its successor (rotation).
pub const BINDING_HASH: &str = "bindingHash";
pub const USED_AT: &str = "usedAt";
pub const SUCCESSOR_HASH: &str = "successorHash";
pub const SUCCESSOR_SEALED: &str = "successorSealed";

// An invitation's fields that its conditional updates test or change.
pub const INVITATION_ID: &str = "invitationId";
pub const EXPIRES_AT_UNIX: &str = "expiresAtUnix";
pub const MAX_USES: &str = "maxUses";
pub const REVOKED_BECAUSE: &str = "revokedBecause";

// A space's fields that its updates change.
pub const NAME: &str = "name";
pub const HOST_ID: &str = "hostId";
/// A user's own space (never handed over).
pub const PERSONAL: &str = "personal";
/// A space's transcription settings.
pub const TRANSCRIPTION: &str = "transcription";
/// A space's completion threshold and study-map k (host settings; absent: the defaults).
pub const COMPLETION_THRESHOLD: &str = "completionThreshold";
pub const STUDY_MAP_K: &str = "studyMapK";
/// A space's visibility for new videos (absent: published).
pub const DEFAULT_VISIBILITY: &str = "defaultVisibility";
/// A video's visibility (absent: published) and, scheduled, when it is shown (unix seconds).
pub const VISIBILITY: &str = "visibility";
pub const PUBLISH_AT: &str = "publishAt";
/// When a space's last engagement export started (unix seconds).
pub const STARTED_AT: &str = "startedAt";

// A memo's and its checkpoints' fields that a save changes.
pub const INDEXED_TERMS: &str = "indexedTerms";
pub const STATE_JSON: &str = "stateJson";
pub const VIDEO_TIME: &str = "videoTime";
pub const CHECKPOINTED_VERSION: &str = "checkpointedVersion";
/// A drawing's size, tested with its `updatedAt` before it is replaced.
pub const SIZE_BYTES: &str = "sizeBytes";
/// A drawing's fields a page of drawings projects (everything but the document).
pub const DRAWING_ID: &str = "drawingId";
pub const START_SECONDS: &str = "startSeconds";
pub const END_SECONDS: &str = "endSeconds";

// A member's progress on a video.
pub const PROGRESS_RATE: &str = "progressRate";
pub const POSITION_SECONDS: &str = "positionSeconds";
pub const COMPLETED_AT: &str = "completedAt";
/// Its watched coverage (issue 29): the encoded coverage and session ledger (binary), the
/// duration they were cut for, the version a report's write is conditioned on, and the figures
/// read without decoding (percent, seconds watched).
pub const COVERAGE: &str = "coverage";
pub const COVERAGE_LEDGER: &str = "coverageLedger";
pub const COVERAGE_DURATION: &str = "coverageDuration";
pub const COVERAGE_VERSION: &str = "coverageVersion";
pub const COVERAGE_PERCENT: &str = "coveragePercent";
pub const WATCHED_SECONDS: &str = "watchedSeconds";

// A video's heat counters (`HEAT#{chunk}#{shard}` items): per heat bucket `d{bucket}` (distinct
// students) and `v{bucket}` (views), and the students who watched anything (`starters`).
pub const HEAT_STARTERS: &str = "starters";
const HEAT_DISTINCT: &str = "d";
const HEAT_VIEWS: &str = "v";
pub fn heat_distinct(bucket: u32) -> String {
    format!("{HEAT_DISTINCT}{bucket}")
}
pub fn heat_views(bucket: u32) -> String {
    format!("{HEAT_VIEWS}{bucket}")
}
/// The bucket of a counter attribute, and whether it counts distinct students (else views).
pub fn heat_counter(name: &str) -> Option<(u32, bool)> {
    if let Some(b) = name.strip_prefix(HEAT_DISTINCT) {
        return b.parse().ok().map(|b| (b, true));
    }
    name.strip_prefix(HEAT_VIEWS)?.parse().ok().map(|b| (b, false))
}

// Where a snapshot or a bookmark is on its video (a mark of the study map).
pub const VIDEO_SECONDS: &str = "videoSeconds";
// The class's study map kept on `STUDYMAP` (issue 29): its heat buckets' length and count, the k
// it was cut for, per heat bucket with a count shown its index and the counts of notes,
// drawings, snapshots, bookmarks and any (a number list, 0 for a hidden count), and when it was
// counted (Unix seconds).
pub const STUDY_BUCKET_SECONDS: &str = "bucketSeconds";
pub const STUDY_BUCKETS: &str = "buckets";
pub const STUDY_K: &str = "k";
pub const STUDY_COUNTS: &str = "counts";
pub const COMPUTED_AT: &str = "computedAt";

/// A rate counter's count in its window.
pub const RATE_COUNT: &str = "n";

/// The attributes of one metered service: the day's counter on the budget item, and on the
/// video the minutes charged, the day they were charged to and whether they were settled.
pub struct Metered {
    pub counter: &'static str,
    pub charged: &'static str,
    pub charged_on: &'static str,
    pub settled: &'static str,
}

pub fn metered(what: vivid_domain::minutes::Metered) -> Metered {
    match what {
        vivid_domain::minutes::Metered::Transcode => Metered {
            counter: "transcodeMinutes",
            charged: "transcodeCharged",
            charged_on: "transcodeChargedOn",
            settled: "transcodeSettled",
        },
        vivid_domain::minutes::Metered::Transcribe => Metered {
            counter: "transcribeMinutes",
            charged: "transcribeCharged",
            charged_on: "transcribeChargedOn",
            settled: "transcribeSettled",
        },
    }
}

/// An LTI registration's deployment ids (a list a deployment is appended to).
pub const DEPLOYMENT_IDS: &str = "deploymentIds";

/// The partition key attribute of an index (`GSI1` → `GSI1PK`).
pub fn partition_key_of(index: &str) -> &'static str {
    if index == GSI2 { GSI2PK } else { GSI1PK }
}
