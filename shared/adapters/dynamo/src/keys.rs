//! Key builders: the only place that knows the key layout (`docs/data-model.md`).

use vivid_domain::types::{Email, SpaceId, UserId, VideoId};

/// A caller's rate counters (`USER#{id}` or `IP#{address}`), one item per minute.
pub fn rate(caller: &str) -> String {
    format!("RATE#{caller}")
}
pub const RATE_PREFIX: &str = "RATE#";
pub fn user(id: &UserId) -> String {
    format!("USER#{id}")
}
pub const PROFILE: &str = "PROFILE";
pub fn email(email: &Email) -> String {
    format!("EMAIL#{email}")
}
pub const EMAIL: &str = "EMAIL";
pub fn space(id: &SpaceId) -> String {
    format!("SPACE#{id}")
}
pub const META: &str = "META";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub fn member(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}
/// Orders a user's spaces: the personal space first, then by joining time.
pub fn member_of(personal: bool, joined_at: &str, space: &SpaceId) -> String {
    format!("SPACE#{}#{joined_at}#{space}", if personal { 0 } else { 1 })
}
pub const INVITE_PREFIX: &str = "INVITE#";
/// An invitation, under its space's partition (ULID: creation order).
pub fn invitation(id: &vivid_domain::types::InvitationId) -> String {
    format!("{INVITE_PREFIX}{id}")
}
/// GSI1 partition of an invitation's code (one item: the code opens it).
pub fn invite_code(code: &vivid_domain::invitations::InviteCode) -> String {
    format!("INVITECODE#{code}")
}
/// GSI2 partition of the e-mail invitations sent to one address (sort key `{createdAt}#{id}`).
pub fn invitee(email: &Email) -> String {
    format!("INVITEE#{email}")
}
pub fn google(sub: &str) -> String {
    format!("GOOGLE#{sub}")
}
pub const GOOGLE: &str = "GOOGLE";
/// A user's connection with a platform (sealed tokens), under the user's partition.
pub fn connection(provider: vivid_domain::connectors::Provider) -> String {
    format!("CONN#{provider}")
}
/// GSI1 partition of the connections with one platform account (sort key `USER#{userId}`): what
/// a platform's notice about its user (Zoom's `app_deauthorized`) names.
pub fn connected_as(provider: vivid_domain::connectors::Provider, external_id: &str) -> String {
    format!("CONNAS#{provider}#{external_id}")
}
/// A connect state (bound to its user, good once).
pub fn connect_state(provider: vivid_domain::connectors::Provider, state: &str) -> String {
    format!("CONNSTATE#{provider}#{state}")
}
pub const CONNECT_STATE: &str = "CONNSTATE";
pub fn login(state: &str) -> String {
    format!("LOGIN#{state}")
}
pub const LOGIN: &str = "LOGIN";
pub fn refresh(hash: &str) -> String {
    format!("REFRESH#{hash}")
}
pub const REFRESH: &str = "REFRESH";
pub fn family(id: &str) -> String {
    format!("FAMILY#{id}")
}
pub const FAMILY: &str = "FAMILY";
pub fn video(id: &VideoId) -> String {
    format!("VIDEO#{id}")
}
/// GSI1 partition of a space's videos (sort key `{createdAt}#{videoId}`).
pub fn space_videos(space: &SpaceId) -> String {
    format!("SPACE#{space}#VIDEOS")
}
/// The highest position a placed video's sort key holds.
pub const MAX_POSITION: u32 = 999_999;
/// GSI1 sort key of a video under [`space_videos`], read in descending order: a video the host
/// placed is `~{999999 − position, 6 digits}#{videoId}` (`~` sorts after every digit, so the placed
/// ones come first, lowest position first); the others `{createdAt}#{videoId}`, newest first.
pub fn video_place(position: Option<u32>, created_at: &str, video: &VideoId) -> String {
    match position {
        Some(p) => format!("~{:06}#{video}", MAX_POSITION - p.min(MAX_POSITION)),
        None => format!("{created_at}#{video}"),
    }
}
pub fn progress(user: &UserId) -> String {
    format!("PROGRESS#{user}")
}
/// GSI1 sort key of a progress item under `USER#{userId}`: most recent access last.
pub fn access(at: &str, video: &VideoId) -> String {
    format!("ACCESS#{at}#{video}")
}
pub fn snapshot_prefix(user: &UserId) -> String {
    format!("SNAP#{user}#")
}
pub fn snapshot(user: &UserId, id: &vivid_domain::types::SnapshotId) -> String {
    format!("SNAP#{user}#{id}")
}
pub fn bookmark_prefix(user: &UserId) -> String {
    format!("BOOKMARK#{user}#")
}
pub fn bookmark(user: &UserId, id: &vivid_domain::types::BookmarkId) -> String {
    format!("BOOKMARK#{user}#{id}")
}
pub fn memo(user: &UserId) -> String {
    format!("MEMO#{user}")
}
pub fn memo_history_prefix(user: &UserId) -> String {
    format!("MEMOHIST#{user}#")
}
pub fn drawing_prefix(user: &UserId) -> String {
    format!("DRAW#{user}#")
}
/// GSI2 partition of one member's per-video data in one space.
pub fn member_data(space: &SpaceId, user: &UserId) -> String {
    format!("MEMBER#{space}#{user}")
}
/// A space's automatic Zoom import, under the space's partition.
pub const ZOOM_AUTO: &str = "ZOOMAUTO";
/// GSI1 partition of the spaces linked to a Zoom user (what a webhook names).
pub fn zoom_user(zoom_user_id: &str) -> String {
    format!("ZOOMUSER#{zoom_user_id}")
}
/// GSI2 partition of the automatic imports a VIVID user made.
pub fn auto_imports_by(user: &UserId) -> String {
    format!("AUTOIMPORT#{user}")
}
/// One webhook delivery's claim: a recording file imported into a space, or its transcript
/// requested (TTL 30 days).
pub fn zoom_delivery(space: &SpaceId, claim: &str) -> String {
    format!("ZOOMDELIVERY#{space}#{claim}")
}
pub const ZOOM_DELIVERY: &str = "ZOOMDELIVERY";
/// GSI2 partition of the videos still uploading or importing (sort key `{createdAt}#{videoId}`):
/// a sparse index the sweep reads; a video leaves it with its first step past the upload.
pub const PENDING: &str = "PENDING";
/// GSI2 partition of the deletions marked and not finished (sort key [`deletion_mark`]), on the
/// marked item itself: a sparse index the sweep reads; an entry leaves it with its item.
pub const DELETING: &str = "DELETING";
/// GSI2 sort key of a deletion mark under [`DELETING`]: `{markedAt}#{kind}#{id}`.
pub fn deletion_mark(at: &str, kind: &str, id: &str) -> String {
    format!("{at}#{kind}#{id}")
}
/// A space's import of one platform recording (holds the video's id): a recording is imported
/// once per space; deleting the video frees it.
pub fn imported(recording: &str) -> String {
    format!("IMPORTED#{recording}")
}
/// GSI1 partition of the videos imported from one Zoom meeting instance, in every space: the
/// lock items of Zoom imports carry it, so Zoom's later news of the recording (its transcript)
/// finds their videos.
pub fn zoom_imports(meeting: &str) -> String {
    format!("ZOOMIMPORTS#{meeting}")
}
/// One member's counts on one video (snapshots, drawings, checkpoints, bookmarks, and the
/// bytes of their notes there), under the video.
pub fn usage(user: &UserId) -> String {
    format!("{USAGE_PREFIX}{user}")
}
pub const USAGE_PREFIX: &str = "USAGE#";
/// A user's storage total (the bytes of their notes in every space), under the user.
pub const STORAGE: &str = "STORAGE";
/// A user's transcoding budget of one UTC day, under the user (TTL two days later).
pub fn budget(day: &str) -> String {
    format!("BUDGET#{day}")
}
/// A manager's removal of a user from a space, under the space's partition: a shareable code
/// does not bring them back (until a manager adds them, or an e-mail invitation made later).
pub fn removed(user: &UserId) -> String {
    format!("REMOVED#{user}")
}
/// A user's invitation e-mails of one UTC day, under the user (TTL two days later).
pub fn invitation_mails(day: &str) -> String {
    format!("MAILS#{day}")
}
/// The invitation e-mails one address received, by the SHA-256 of the address (never the
/// address itself); one item per UTC day, [`mail_day`] (TTL two days later).
pub fn mail_recipient(hash: &str) -> String {
    format!("MAILTO#{hash}")
}
pub fn mail_day(day: &str) -> String {
    format!("DAY#{day}")
}
