//! The deletion marks' index: a marked `Space`, `Video` or user `PROFILE` also carries
//! `GSI2PK = DELETING`, `GSI2SK = {markedAt}#{kind}#{id}`, written by the mark's own write and
//! gone with the item when the deletion worker finishes — so the sweep finds every deletion whose
//! worker never finished. A video's mark replaces its `PENDING` entry (a video being deleted is
//! no upload to wait for any more).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use vivid_domain::{
    deletion::{Deletion, DeletionMarks},
    error::{Guard, StoreError},
    types::{Limit, SpaceId, UserId, VideoId, now_rfc3339},
    video::{Video, VideoStatus},
};

use crate::{
    attrs,
    expr::{self, Changes},
    keys,
    table::{GSI2PK, GSI2SK, Table, backend, key, s},
};

/// What a mark's index entry names.
pub(crate) enum Marked<'a> {
    Space(&'a SpaceId),
    Video(&'a VideoId),
    Account(&'a UserId),
}

impl Marked<'_> {
    fn kind_and_id(&self) -> (&'static str, String) {
        match self {
            Marked::Space(id) => ("space", id.to_string()),
            Marked::Video(id) => ("video", id.to_string()),
            Marked::Account(id) => ("account", id.to_string()),
        }
    }

    /// The index entry's sort key, marked now.
    pub(crate) fn sort_key(&self) -> String {
        let (kind, id) = self.kind_and_id();
        keys::deletion_mark(&now_rfc3339(), kind, &id)
    }

    /// `changes` with the mark's index entry set (in the mark's own write).
    pub(crate) fn indexed(&self, changes: Changes) -> Changes {
        changes.set(GSI2PK, s(keys::DELETING)).set(GSI2SK, s(self.sort_key()))
    }
}

/// The job of an index entry's sort key (`{markedAt}#{kind}#{id}`).
fn job(sort_key: &str) -> Option<Deletion> {
    let mut fields = sort_key.rsplitn(3, '#');
    let (id, kind) = (fields.next()?, fields.next()?);
    Some(match kind {
        "space" => Deletion::Space { space_id: id.parse().ok()? },
        "video" => Deletion::Video { video_id: id.parse().ok()? },
        "account" => Deletion::Account { user_id: id.parse().ok()? },
        _ => return None,
    })
}

#[async_trait]
impl DeletionMarks for Table {
    async fn marked_before(&self, before: &str, limit: Limit) -> Result<Vec<Deletion>, StoreError> {
        let items = self.overdue(keys::DELETING, before, limit).await?;
        Ok(items.iter().filter_map(|item| job(item.get(GSI2SK)?.as_s().ok()?)).collect())
    }
}

impl Table {
    /// [`vivid_domain::video::UploadStore::abandon_upload`]: the mark (with its index entry), the
    /// place it frees in its space and the refund of its charge, in one transaction, while the
    /// video is still uploading and unmarked; without the space's count or the day's budget when
    /// those are gone.
    pub(crate) async fn abandon(&self, video: &Video, day: &str) -> Result<bool, StoreError> {
        let mark = Marked::Video(&video.video_id)
            .indexed(Changes::new().set(attrs::DELETING, AttributeValue::Bool(true)))
            .when(format!("{} AND #status = :uploading", expr::exists_not_deleting()))
            .named(attrs::STATUS)
            .bind(":uploading", s(VideoStatus::Uploading.as_str()))
            .into_update(&self.table, key(keys::video(&video.video_id), keys::META))
            .map_err(backend)?;
        let count = Changes::new()
            .increment(attrs::VIDEO_COUNT, -1)
            .when("attribute_exists(PK)")
            .into_update(&self.table, key(keys::space(&video.space_id), keys::META))
            .map_err(backend)?;
        let mut changes = vec![
            (TransactWriteItem::builder().update(mark).build(), Guard::Video),
            (TransactWriteItem::builder().update(count).build(), Guard::Space),
            (self.refund_budget(&video.created_by, day, video.size_bytes)?, Guard::Item),
        ];
        for _ in 0..3 {
            let (items, guards): (Vec<_>, Vec<_>) = changes.iter().cloned().unzip();
            match self.transact(items, &guards).await {
                Ok(()) => return Ok(true),
                // Completed, marked or gone meanwhile: not an abandoned upload (any more).
                Err(StoreError::Condition(Guard::Video)) => return Ok(false),
                // Without what is gone: the space's count (its own deletion sweeps the video), the
                // day's budget (expired).
                Err(StoreError::Condition(gone @ (Guard::Space | Guard::Item))) => {
                    changes.retain(|(_, g)| *g != gone);
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::backend("the abandoned upload could not be marked"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_names_the_job_it_marks() {
        let id = "01JD6Q5C7B8D9E0F1G2H3J4K5M";
        let video: VideoId = id.parse().expect("id");
        let key = Marked::Video(&video).sort_key();
        assert!(key.ends_with(&format!("#video#{id}")) && key.len() > 30, "{key}");
        assert_eq!(job(&key), Some(Deletion::Video { video_id: video }));
        let user: UserId = id.parse().expect("id");
        assert_eq!(job(&Marked::Account(&user).sort_key()), Some(Deletion::Account { user_id: user }));
        let space: SpaceId = id.parse().expect("id");
        assert_eq!(job(&Marked::Space(&space).sort_key()), Some(Deletion::Space { space_id: space }));
        // The time is RFC 3339 (no `#`); an entry of another kind or shape names nothing.
        assert_eq!(job(&format!("2026-01-01T00:00:00.000Z#bucket#{id}")), None);
        assert_eq!(job("2026-01-01T00:00:00.000Z#video#not-an-id"), None);
        assert_eq!(job(id), None);
    }
}
