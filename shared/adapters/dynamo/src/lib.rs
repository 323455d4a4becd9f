//! The single-table DynamoDB adapter: every store port implemented on one [`Table`], one file
//! per aggregate. The key design and every access pattern with its round trips is documented in
//! `docs/data-model.md`; keep the two in step.

pub mod attrs;
mod auto_imports;
mod bookmarks;
mod captions;
mod connections;
mod deletions;
mod expr;
mod failures;
mod identities;
mod invitations;
pub mod keys;
mod live;
mod lti;
mod lti_roster;
mod lti_sync;
mod minutes;
mod notes;
mod progress;
mod rate_limits;
mod search;
mod sessions;
mod snapshots;
#[cfg(test)]
mod source_checks;
mod spaces;
mod storage;
mod study_map;
mod table;
mod transcode_state;
mod uploads;
mod usage;
mod users;
mod videos;
mod watching;

pub use attrs::{GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, PK, SK};
pub use rate_limits::rate_counter;
pub use table::Table;
