//! Attribute names: the one place that spells the names the adapter writes, updates, reads or
//! projects by hand. An item is otherwise its domain struct serialized with serde (camelCase field
//! names); the attributes below are those the stores name themselves — the keys and indexes, the
//! item's `type`, the table's TTL, marks, counters, and the fields a conditional update changes.
//! Expression texts (`attribute_exists(PK)`, `#status = :from0`) keep the names they test;
//! the values and `#name` bindings come from here. Key *values* (partitions, sort keys, their
//! prefixes) are built in [`crate::keys`].

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

// An invitation's fields that its conditional updates test or change.
pub const INVITATION_ID: &str = "invitationId";
pub const EXPIRES_AT_UNIX: &str = "expiresAtUnix";
pub const MAX_USES: &str = "maxUses";
pub const REVOKED_BECAUSE: &str = "revokedBecause";

// A space's fields that its updates change.
pub const NAME: &str = "name";
pub const HOST_ID: &str = "hostId";

// A memo's and its checkpoints' fields that a save changes.
pub const INDEXED_TERMS: &str = "indexedTerms";
pub const STATE_JSON: &str = "stateJson";
pub const VIDEO_TIME: &str = "videoTime";
pub const CHECKPOINTED_VERSION: &str = "checkpointedVersion";

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

/// The partition key attribute of an index (`GSI1` → `GSI1PK`).
pub fn partition_key_of(index: &str) -> &'static str {
    if index == GSI2 { GSI2PK } else { GSI1PK }
}
