//! Key builders: the only place that knows the key layout (`docs/data-model.md`): every
//! partition and sort key, their prefixes, and the ids read back out of them. Attribute names
//! are in [`crate::attrs`].

use vivid_domain::types::{Email, SpaceId, UserId, VideoId};

/// A caller's rate counters (`USER#{id}` or `IP#{address}`), one item per minute.
pub fn rate(caller: &str) -> String {
    format!("RATE#{caller}")
}
pub const RATE_PREFIX: &str = "RATE#";
pub const USER_PREFIX: &str = "USER#";
pub fn user(id: &UserId) -> String {
    format!("{USER_PREFIX}{id}")
}
/// The user of a `USER#{id}` key.
pub fn user_of(key: &str) -> Option<UserId> {
    key.strip_prefix(USER_PREFIX)?.parse().ok()
}
pub const PROFILE: &str = "PROFILE";
pub fn email(email: &Email) -> String {
    format!("EMAIL#{email}")
}
pub const EMAIL: &str = "EMAIL";
pub const SPACE_PREFIX: &str = "SPACE#";
pub fn space(id: &SpaceId) -> String {
    format!("{SPACE_PREFIX}{id}")
}
pub const META: &str = "META";
/// A space's engagement-export claim, beside its `META` (one export a minute).
pub const EXPORT: &str = "EXPORT";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub fn member(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}
/// GSI1 sort key of a membership under its user's `USER#{id}`: orders a user's spaces, the
/// personal space first, then by joining time.
pub fn member_of(personal: bool, joined_at: &str, space: &SpaceId) -> String {
    format!("{MEMBER_OF_PREFIX}{}#{joined_at}#{space}", if personal { 0 } else { 1 })
}
/// What every [`member_of`] begins with (a user's memberships among their GSI1 entries).
pub const MEMBER_OF_PREFIX: &str = "SPACE#";
pub const INVITE_PREFIX: &str = "INVITE#";
/// An invitation, under its space's partition (ULID: creation order).
pub fn invitation(id: &vivid_domain::types::InvitationId) -> String {
    format!("{INVITE_PREFIX}{id}")
}
/// GSI1 partition of an invitation's code (one item: the code opens it).
pub fn invite_code(code: &vivid_domain::invitations::InviteCode) -> String {
    format!("INVITECODE#{code}")
}
/// GSI2 partition of the e-mail invitations sent to one address (sort key [`invited_at`]).
pub fn invitee(email: &Email) -> String {
    format!("INVITEE#{email}")
}
/// GSI2 sort key of an invitation under [`invitee`]: `{createdAt}#{invitationId}`.
pub fn invited_at(created_at: &str, id: &vivid_domain::types::InvitationId) -> String {
    format!("{created_at}#{id}")
}
/// GSI1 sort key of an invitation under [`invite_code`].
pub const INVITE: &str = "INVITE";
pub fn google(sub: &str) -> String {
    format!("GOOGLE#{sub}")
}
pub const GOOGLE: &str = "GOOGLE";
/// The lock of an institutional (OpenID Connect) identity: one per (issuer, subject).
pub fn identity_lock(issuer: &str, sub: &str) -> String {
    format!("IDENTITY#{issuer}#{sub}")
}
/// Sort key of the lock item.
pub const IDENTITY: &str = "IDENTITY";
/// What a user's identity entries' sort keys begin with (`IDENTITY#{identityId}`).
pub const IDENTITY_PREFIX: &str = "IDENTITY#";
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
/// An LTI platform's registrations (one partition per issuer, one item per client id).
pub fn lti_registration(issuer: &str) -> String {
    format!("LTIREG#{issuer}")
}
pub fn lti_client(client_id: &str) -> String {
    format!("CLIENT#{client_id}")
}
/// GSI1 partition listing every LTI registration (sort key `{createdAt}#{registrationId}`).
pub const LTI_REGISTRATIONS: &str = "LTIREGS";
/// A course (context) linked to a space, by [`vivid_domain::lti::model::ContextKey::hash`].
pub fn lti_context(hash: &str) -> String {
    format!("LTICTX#{hash}")
}
/// GSI1 partition of a space's course link.
pub fn lti_space(space: &SpaceId) -> String {
    format!("LTISPACE#{space}")
}
/// A platform user matched to a VIVID user, by [`vivid_domain::lti::model::UserLink::hash`].
pub fn lti_user(hash: &str) -> String {
    format!("LTIUSER#{hash}")
}
/// A login initiation's state, taken once by the launch.
pub fn lti_state(state: &str) -> String {
    format!("LTISTATE#{state}")
}
/// A launch's one-time session code (by the hash of its value).
pub fn lti_code(hash: &str) -> String {
    format!("LTICODE#{hash}")
}
/// A deep-linking request waiting for the instructor's pick.
pub fn lti_deep_link(id: &str) -> String {
    format!("LTIDL#{id}")
}
/// A video's gradebook column in a course (by the hash of the course's line-item container and
/// the video's id): the line item every student's score for the video goes to.
pub fn lti_column(hash: &str) -> String {
    format!("LTICOL#{hash}")
}
/// When a course's last launch-started roster sync began (by the course's context key hash): at
/// most one such sync per course in ten minutes.
pub fn lti_sync(hash: &str) -> String {
    format!("LTISYNC#{hash}")
}
/// A one-time dynamic-registration invitation (by the hash of its token).
pub fn lti_invite(hash: &str) -> String {
    format!("LTIINVITE#{hash}")
}
/// The sort key of the single-item LTI partitions above.
pub const LTI: &str = "LTI";
/// A refresh token (by the hash of its value); also its GSI1 sort key under its user.
pub fn refresh(hash: &str) -> String {
    format!("{REFRESH_PREFIX}{hash}")
}
pub const REFRESH_PREFIX: &str = "REFRESH#";
pub const REFRESH: &str = "REFRESH";
/// A refresh family (one sign-in's sessions); also its GSI1 sort key under its user.
pub fn family(id: &str) -> String {
    format!("{FAMILY_PREFIX}{id}")
}
pub const FAMILY_PREFIX: &str = "FAMILY#";
/// The family id of a `FAMILY#{id}` key.
pub fn family_of(key: &str) -> Option<&str> {
    key.strip_prefix(FAMILY_PREFIX)
}
pub const FAMILY: &str = "FAMILY";
pub const VIDEO_PREFIX: &str = "VIDEO#";
pub fn video(id: &VideoId) -> String {
    format!("{VIDEO_PREFIX}{id}")
}
/// The video of a `VIDEO#{id}` key.
pub fn video_of(key: &str) -> Option<VideoId> {
    key.strip_prefix(VIDEO_PREFIX)?.parse().ok()
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
    format!("{PROGRESS_PREFIX}{user}")
}
/// What every [`progress`] begins with (a video's progress items).
pub const PROGRESS_PREFIX: &str = "PROGRESS#";
/// A video's heat counters of one chunk and shard (`HEAT#{chunk}#{shard}`).
pub fn heat(chunk: u32, shard: u8) -> String {
    format!("{HEAT_PREFIX}{chunk:02}#{shard}")
}
/// What every [`heat`] begins with.
pub const HEAT_PREFIX: &str = "HEAT#";
/// GSI1 sort key of a progress item under `USER#{userId}`: most recent access last.
pub fn access(at: &str, video: &VideoId) -> String {
    format!("{ACCESS_PREFIX}{at}#{video}")
}
/// What every [`access`] begins with (a user's progress items among their GSI1 entries).
pub const ACCESS_PREFIX: &str = "ACCESS#";
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
/// What the sort keys of every member's marks on a video begin with (the study map reads the
/// class's): snapshots, bookmarks, drawings, memo checkpoints, and the latest memos (`MEMO#` is
/// no prefix of `MEMOHIST#`).
pub const SNAPSHOT_PREFIX: &str = "SNAP#";
pub const BOOKMARK_PREFIX: &str = "BOOKMARK#";
pub const DRAWING_PREFIX: &str = "DRAW#";
pub const MEMO_HISTORY_PREFIX: &str = "MEMOHIST#";
pub const MEMO_PREFIX: &str = "MEMO#";
/// The author of a member's item on a video, from its sort key: `{prefix}{userId}` or
/// `{prefix}{userId}#{id}`.
pub fn author_of(sort_key: &str, prefix: &str) -> Option<UserId> {
    let rest = sort_key.strip_prefix(prefix)?;
    rest.split_once('#').map_or(rest, |(user, _)| user).parse().ok()
}
/// The class's study map of a video, kept between computations (issue 29).
pub const STUDY_MAP: &str = "STUDYMAP";
/// GSI2 partition of one member's per-video data in one space.
pub fn member_data(space: &SpaceId, user: &UserId) -> String {
    format!("MEMBER#{space}#{user}")
}
/// GSI2 sort key of one of a member's items on a video, under [`member_data`]:
/// `{videoId}#{kind}` (`PROGRESS`, `USAGE`, `MEMO`) or `{videoId}#{kind}#{id}` (`SNAP`,
/// `BOOKMARK`, `MEMOHIST`, `DRAW`).
pub fn member_item(video: &VideoId, kind: MemberItem, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{video}#{}#{id}", kind.as_str()),
        None => format!("{video}#{}", kind.as_str()),
    }
}
/// The video of a member's item named by its [`member_item`] sort key, when it is of `kind`
/// (and has no id of its own).
pub fn member_item_video(sort_key: &str, kind: MemberItem) -> Option<VideoId> {
    sort_key.strip_suffix(kind.as_str())?.strip_suffix('#')?.parse().ok()
}

/// The kinds of a member's items on a video (see [`member_item`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberItem {
    Progress,
    Usage,
    Memo,
    Checkpoint,
    Drawing,
    Snapshot,
    Bookmark,
}

impl MemberItem {
    fn as_str(self) -> &'static str {
        match self {
            Self::Progress => "PROGRESS",
            Self::Usage => "USAGE",
            Self::Memo => "MEMO",
            Self::Checkpoint => "MEMOHIST",
            Self::Drawing => "DRAW",
            Self::Snapshot => "SNAP",
            Self::Bookmark => "BOOKMARK",
        }
    }
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
/// GSI2 partition of the videos still uploading or importing (sort key [`pending_since`]): a
/// sparse index the sweep reads; a video leaves it with its first step past the upload.
pub const PENDING: &str = "PENDING";
/// GSI2 sort key of a video under [`PENDING`]: `{createdAt}#{videoId}`, oldest first.
pub fn pending_since(created_at: &str, video: &VideoId) -> String {
    format!("{created_at}#{video}")
}
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

/// The postings of one term in a space's search (partition; sort key [`posting`]).
pub fn search_term(space: &SpaceId, term: &str) -> String {
    format!("SEARCH#{space}#{term}")
}
/// GSI2 partition of every posting of one video (what its deletion or re-indexing removes).
pub fn indexed(video: &VideoId) -> String {
    format!("INDEXED#{video}")
}
/// A posting's sort key under [`search_term`]: the video and the source it was found in.
pub fn posting(video: &VideoId, source: &str) -> String {
    format!("{video}#{source}")
}
/// GSI2 sort key of a posting under [`indexed`]: `{source}#{term}` (a source's postings share
/// [`posting_source`]).
pub fn posting_term(source: &str, term: &str) -> String {
    format!("{source}#{term}")
}
/// What the GSI2 sort keys of one source's postings of a video begin with.
pub fn posting_source(source: &str) -> String {
    format!("{source}#")
}
/// The postings of one term in one member's notes in a space (partition).
pub fn note_term(space: &SpaceId, user: &UserId, term: &str) -> String {
    format!("NOTES#{space}#{user}#{term}")
}
/// What the GSI2 sort keys of a member's note postings on a video begin with.
pub fn note_postings(user: &UserId) -> String {
    format!("N#{user}#")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_back_from_the_keys_they_were_written_into() {
        let (u, v) = (UserId::generate(), VideoId::generate());
        assert_eq!(user_of(&user(&u)), Some(u.clone()));
        assert_eq!(video_of(&video(&v)), Some(v.clone()));
        assert_eq!(family_of(&family("f1")), Some("f1"));
        assert_eq!(video_of(&user(&u)), None);
        let memo = member_item(&v, MemberItem::Memo, None);
        assert_eq!(memo, format!("{v}#MEMO"));
        assert_eq!(member_item_video(&memo, MemberItem::Memo), Some(v.clone()));
        assert_eq!(member_item_video(&memo, MemberItem::Usage), None);
        assert_eq!(member_item(&v, MemberItem::Snapshot, Some("s1")), format!("{v}#SNAP#s1"));
        assert!(member_of(true, "2026", &SpaceId::generate()).starts_with(MEMBER_OF_PREFIX));
        assert!(access("2026", &v).starts_with(ACCESS_PREFIX));
        let sid = vivid_domain::types::SnapshotId::generate();
        assert_eq!(author_of(&snapshot(&u, &sid), SNAPSHOT_PREFIX), Some(u.clone()));
        assert_eq!(author_of(&super::memo(&u), MEMO_PREFIX), Some(u.clone()));
        assert_eq!(author_of(&format!("{}h1", memo_history_prefix(&u)), MEMO_HISTORY_PREFIX), Some(u.clone()));
        assert_eq!(author_of(&super::memo(&u), MEMO_HISTORY_PREFIX), None);
        assert!(drawing_prefix(&u).starts_with(DRAWING_PREFIX) && bookmark_prefix(&u).starts_with(BOOKMARK_PREFIX));
    }

    /// No other file of the adapter spells a key prefix (`"NAME#…"`): they all build keys here.
    /// Every file of `src/` is read as it is at test time, so a new one is guarded too.
    #[test]
    fn key_prefixes_are_spelled_only_here() {
        let sources = crate::source_checks::sources();
        assert!(sources.iter().any(|(name, _)| name == "videos.rs"), "{:?}", sources.iter().map(|s| &s.0));
        for (file, text) in sources.iter().filter(|(name, _)| name != "keys.rs") {
            for (i, _) in text.match_indices('"') {
                let rest = &text[i + 1..];
                let word: String = rest.chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
                assert!(
                    word.len() < 2 || !rest[word.len()..].starts_with('#'),
                    "a key prefix spelled outside keys.rs, in {file}: \"{word}#…"
                );
            }
        }
    }
}
