//! Videos: the entity, its lifecycle, the upload plan, the layout of its media objects, what
//! members keep on it, and the ports that keep them (one per role: see [`ports`]).

pub mod layout;
mod member;
mod model;
mod order;
pub mod ports;
mod upload;
mod visibility;

pub use member::{Bookmark, COMPLETED_RATE, Progress, Snapshot, Touched};
pub use model::{
    BookmarkLabel, FileName, ImageContentType, MediaOutputs, StatusChange, Title, Video, VideoAccess, VideoContentType,
    VideoPatch, VideoStatus,
};
pub use order::{Chapter, MAX_CHAPTERS, OrderError, chapters, chapters_webvtt, in_order, placements};
pub use ports::{
    BookmarkStore, CaptionStore, CatalogEdits, ProgressStore, SnapshotStore, TranscodeState, UploadStore, VideoCatalog,
    VideoRemoval,
};
pub use upload::{MAX_PARTS, MIB, MIN_PART, UploadPlan, part_length, upload_plan};
pub use visibility::{Shown, Visibility, VisibilityError, default_for_space};
