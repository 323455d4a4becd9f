//! The table as the adapter leaves it: a student's items, and each item rebuilt attribute by
//! attribute as the adapter's transaction writes it.

use std::collections::HashMap;

use aws_sdk_dynamodb::{primitives::Blob, types::AttributeValue};
use vivid_domain::{
    spaces::{Membership, Role},
    types::{Seconds, SpaceId, UserId, VideoId, rfc3339},
    video::Progress,
    watching::{StoredWatch, WatchWrite},
};
use vivid_dynamo::{GSI1PK, GSI1SK, GSI2PK, GSI2SK, PK, SK, attrs, keys};

use crate::{
    Failure, Item,
    rng::Rng,
    sizes::{add, n, s},
};

pub(crate) struct Student {
    pub(crate) user: UserId,
    pub(crate) stored: StoredWatch,
    /// `VIDEO#{videoId}`/`PROGRESS#{userId}` once the first report made it.
    pub(crate) progress: Option<Item>,
    /// `SPACE#{spaceId}`/`MEMBER#{userId}`, with the standing.
    pub(crate) membership: Item,
}

pub(crate) fn at(ms: i64) -> Result<String, Failure> {
    Ok(rfc3339(time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)?))
}

fn item_of<T: serde::Serialize>(value: &T, keys: &[(&str, String)]) -> Result<Item, Failure> {
    let mut item: Item = serde_dynamo::to_item(value)?;
    for (name, v) in keys {
        item.insert((*name).to_owned(), s(v.clone()));
    }
    Ok(item)
}

/// A member of the class, joined before the term with a standing from earlier lectures.
pub(crate) fn member(rng: &mut Rng, space: &SpaceId, user: &UserId) -> Result<Item, Failure> {
    let joined_at = "2026-09-28T08:12:44.318Z";
    let m = Membership {
        space_id: space.clone(),
        user_id: user.clone(),
        role: Role::Participant,
        personal: false,
        joined_at: joined_at.to_owned(),
    };
    let mut item = item_of(
        &m,
        &[
            (PK, keys::space(space)),
            (SK, keys::member(user)),
            (GSI1PK, keys::user(user)),
            (GSI1SK, keys::member_of(false, joined_at, space)),
            (attrs::TYPE, "Membership".into()),
        ],
    )?;
    let completed = rng.between(0, 20) as u64;
    add(&mut item, attrs::PROGRESS_SUM, completed * 100 + rng.between(0, 900) as u64);
    add(&mut item, attrs::COMPLETED_VIDEOS, completed);
    item.insert(attrs::LAST_ACCESS_AT.to_owned(), s("2026-12-05T16:40:02.113Z"));
    Ok(item)
}

/// The progress item the first report's `put_progress` makes (`Table::progress_item`).
pub(crate) fn new_progress(video: &VideoId, space: &SpaceId, user: &UserId, now: &str) -> Result<Item, Failure> {
    let p = Progress {
        video_id: video.clone(),
        user_id: user.clone(),
        space_id: space.clone(),
        progress_rate: 0,
        position_seconds: Seconds::ZERO,
        last_access_at: now.to_owned(),
        completed_at: None,
        coverage_percent: None,
    };
    item_of(
        &p,
        &[
            (PK, keys::video(video)),
            (SK, keys::progress(user)),
            (GSI1PK, keys::user(user)),
            (GSI1SK, keys::access(now, video)),
            (GSI2PK, keys::member_data(space, user)),
            (GSI2SK, keys::member_item(video, keys::MemberItem::Progress, None)),
            (attrs::TYPE, "Progress".into()),
        ],
    )
}

/// The progress update of `save_watch`.
pub(crate) fn save_progress(item: &mut Item, w: &WatchWrite) {
    let sets = [
        (attrs::COVERAGE, AttributeValue::B(Blob::new(w.coverage.clone()))),
        (attrs::COVERAGE_LEDGER, AttributeValue::B(Blob::new(w.ledger.clone()))),
        (attrs::COVERAGE_DURATION, n(w.duration_s)),
        (attrs::COVERAGE_VERSION, n(w.version + 1)),
        (attrs::COVERAGE_PERCENT, n(w.percent)),
        (attrs::WATCHED_SECONDS, n(w.watched_seconds)),
        (attrs::LAST_ACCESS_AT, s(&w.now)),
        (GSI1SK, s(keys::access(&w.now, &w.video))),
    ];
    for (name, v) in sets {
        item.insert(name.to_owned(), v);
    }
    if w.completes {
        item.insert(attrs::COMPLETED_AT.to_owned(), s(&w.now));
    }
}

/// The standing update (`Table::standing`): `ADD progressSum 0`, `ADD completedVideos`, `SET
/// lastAccessAt`.
pub(crate) fn stand(item: &mut Item, completes: bool, now: &str) {
    add(item, attrs::PROGRESS_SUM, 0);
    add(item, attrs::COMPLETED_VIDEOS, u64::from(completes));
    item.insert(attrs::LAST_ACCESS_AT.to_owned(), s(now));
}

pub(crate) fn heat_item(video: &VideoId, chunk: u32, shard: u8) -> Item {
    HashMap::from([
        (PK.to_owned(), s(keys::video(video))),
        (SK.to_owned(), s(keys::heat(chunk, shard))),
        (attrs::TYPE.to_owned(), s("Heat")),
    ])
}
