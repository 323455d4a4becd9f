//! The per-account storage quota (`Quota::StorageBytes`): what one account's notes take, all
//! spaces together — snapshots (the image size declared and signed into the upload URL),
//! drawings (the document) and memo checkpoints (the state). Each creation is charged in its own
//! transaction and checked against the limit there, a drawing's replacement charges the
//! difference, and deletions and purges give the bytes back (see `docs/data-model.md`).

use crate::{
    notes::{Checkpoint, Drawing},
    video::Snapshot,
};

pub use crate::quota::Limits;

/// What a note takes of its author's storage.
pub trait Stored {
    fn stored_bytes(&self) -> u64;
}

impl Stored for Snapshot {
    fn stored_bytes(&self) -> u64 {
        self.size_bytes
    }
}

impl Stored for Drawing {
    fn stored_bytes(&self) -> u64 {
        self.size_bytes
    }
}

impl Stored for Checkpoint {
    /// The state's UTF-8 bytes (what the table keeps), not its characters.
    fn stored_bytes(&self) -> u64 {
        bytes(self.state_json.len())
    }
}

/// A length as a byte count.
fn bytes(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// A byte count as a counter's signed change.
pub fn signed(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// What replacing a note of `old` bytes with one of `new` bytes charges (negative: gives back).
pub fn recharge(old: u64, new: u64) -> i64 {
    signed(new).saturating_sub(signed(old))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::{Exceeded, Quota, Quotas};
    use crate::types::{SpaceId, UserId, VideoId};

    fn ids() -> (VideoId, UserId, SpaceId) {
        (
            "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().expect("video id"),
            "01ARZ3NDEKTSV4RRFFQ69G5FAW".parse().expect("user id"),
            "01ARZ3NDEKTSV4RRFFQ69G5FAX".parse().expect("space id"),
        )
    }

    #[test]
    fn a_checkpoint_takes_its_states_bytes() {
        let (video_id, user_id, space_id) = ids();
        let c = Checkpoint {
            checkpoint_id: "c".into(),
            video_id,
            user_id,
            space_id,
            state_json: r#"{"t":"café"}"#.into(),
            video_time: None,
            version: 1,
            created_at: "2026-01-01T00:00:00Z".into(),
        };
        // "é" is two bytes: 12 characters, 13 bytes.
        assert_eq!(c.stored_bytes(), 13);
    }

    #[test]
    fn a_note_larger_than_the_whole_quota_is_refused_before_any_write() {
        let limits = Limits::new(200, &Quotas { storage_bytes: 1000, ..Quotas::default() });
        assert_eq!(limits.check_size(1000), Ok(()));
        assert_eq!(limits.check_size(1001), Err(Exceeded { quota: Quota::StorageBytes, limit: 1000 }));
        assert_eq!(limits.per_video, 200);
    }

    #[test]
    fn a_replacement_charges_the_difference() {
        assert_eq!(recharge(100, 250), 150);
        assert_eq!(recharge(250, 100), -150);
        assert_eq!(recharge(7, 7), 0);
        assert_eq!(recharge(0, u64::MAX), i64::MAX);
    }
}
