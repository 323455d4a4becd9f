//! The handlers wired on the in-memory world, one port field per role as in
//! `functions/<name>/src/lib.rs` (where one `Table` is every store, here one `Memory` is).

use vivid_api::{
    bookmarks::{CreateBookmark, DeleteBookmark, ListBookmarks},
    members::{AddMember, ListMembers},
    progress::{ClassProgress, PutProgress, VideoProgress},
    snapshots::{CreateSnapshot, DeleteSnapshot, ListSnapshots},
    spaces::{CreateSpace, DeleteSpace, GetSpace, ListSpaces, UpdateSpace},
    videos::{
        AbortUpload, CompleteUpload, CreateVideo, DeleteVideo, GetPlayback, GetVideo, ListVideos, OrderVideos,
        PlaybackCookies, UpdateVideo, UploadLimits, UploadParts,
    },
};
use vivid_events::{OnRawUpload, OnTranscodeEvent, UploadLimit};

use crate::App;

impl App {
    pub(crate) fn create_space(&self) -> CreateSpace {
        CreateSpace { auth: self.auth(), spaces: self.memory.clone(), quotas: self.quotas, transcription: None }
    }
    pub(crate) fn get_space(&self) -> GetSpace {
        GetSpace { auth: self.auth(), spaces: self.memory.clone() }
    }
    pub(crate) fn list_spaces(&self) -> ListSpaces {
        ListSpaces { auth: self.auth(), spaces: self.memory.clone(), cursors: self.cursors() }
    }
    pub(crate) fn update_space(&self) -> UpdateSpace {
        UpdateSpace { auth: self.auth(), spaces: self.memory.clone() }
    }
    pub(crate) fn delete_space(&self) -> DeleteSpace {
        DeleteSpace { auth: self.auth(), spaces: self.memory.clone(), deletions: self.memory.clone() }
    }
    pub(crate) fn add_member(&self) -> AddMember {
        AddMember { auth: self.auth(), spaces: self.memory.clone(), users: self.memory.clone() }
    }
    pub(crate) fn list_members(&self) -> ListMembers {
        ListMembers {
            auth: self.auth(),
            spaces: self.memory.clone(),
            users: self.memory.clone(),
            cursors: self.cursors(),
        }
    }
    pub(crate) fn create_video(&self) -> CreateVideo {
        CreateVideo {
            auth: self.auth(),
            spaces: self.memory.clone(),
            uploads: self.memory.clone(),
            media: self.memory.clone(),
            limits: UploadLimits { quotas: self.quotas, multipart_threshold: self.multipart_threshold },
        }
    }
    pub(crate) fn upload_parts(&self) -> UploadParts {
        UploadParts { auth: self.auth(), catalog: self.memory.clone(), media: self.memory.clone() }
    }
    pub(crate) fn complete_upload(&self) -> CompleteUpload {
        CompleteUpload { auth: self.auth(), catalog: self.memory.clone(), media: self.memory.clone() }
    }
    pub(crate) fn abort_upload(&self) -> AbortUpload {
        AbortUpload {
            auth: self.auth(),
            catalog: self.memory.clone(),
            states: self.memory.clone(),
            media: self.memory.clone(),
        }
    }
    pub(crate) fn get_video(&self) -> GetVideo {
        GetVideo {
            auth: self.auth(),
            catalog: self.memory.clone(),
            signer: self.memory.clone(),
            cookies: PlaybackCookies::default(),
        }
    }
    pub(crate) fn get_playback(&self) -> GetPlayback {
        GetPlayback {
            auth: self.auth(),
            catalog: self.memory.clone(),
            signer: self.memory.clone(),
            cookies: PlaybackCookies { domain: Some("vivid.test".into()) },
        }
    }
    pub(crate) fn list_videos(&self) -> ListVideos {
        ListVideos {
            auth: self.auth(),
            spaces: self.memory.clone(),
            catalog: self.memory.clone(),
            progress: self.memory.clone(),
            cursors: self.cursors(),
        }
    }
    pub(crate) fn update_video(&self) -> UpdateVideo {
        UpdateVideo {
            auth: self.auth(),
            catalog: self.memory.clone(),
            edits: self.memory.clone(),
            index: self.memory.clone(),
        }
    }
    pub(crate) fn order_videos(&self) -> OrderVideos {
        OrderVideos {
            auth: self.auth(),
            spaces: self.memory.clone(),
            catalog: self.memory.clone(),
            edits: self.memory.clone(),
        }
    }
    pub(crate) fn delete_video(&self) -> DeleteVideo {
        DeleteVideo {
            auth: self.auth(),
            catalog: self.memory.clone(),
            removal: self.memory.clone(),
            deletions: self.memory.clone(),
        }
    }
    pub(crate) fn put_progress(&self) -> PutProgress {
        PutProgress { auth: self.auth(), progress: self.memory.clone(), catalog: self.memory.clone() }
    }
    pub(crate) fn video_progress(&self) -> VideoProgress {
        VideoProgress {
            auth: self.auth(),
            spaces: self.memory.clone(),
            catalog: self.memory.clone(),
            progress: self.memory.clone(),
            users: self.memory.clone(),
            cursors: self.cursors(),
        }
    }
    pub(crate) fn class_progress(&self) -> ClassProgress {
        ClassProgress {
            auth: self.auth(),
            spaces: self.memory.clone(),
            users: self.memory.clone(),
            cursors: self.cursors(),
        }
    }
    pub(crate) fn create_bookmark(&self) -> CreateBookmark {
        CreateBookmark {
            auth: self.auth(),
            catalog: self.memory.clone(),
            bookmarks: self.memory.clone(),
            quotas: self.quotas,
        }
    }
    pub(crate) fn list_bookmarks(&self) -> ListBookmarks {
        ListBookmarks {
            auth: self.auth(),
            catalog: self.memory.clone(),
            bookmarks: self.memory.clone(),
            cursors: self.cursors(),
        }
    }
    pub(crate) fn delete_bookmark(&self) -> DeleteBookmark {
        DeleteBookmark { auth: self.auth(), catalog: self.memory.clone(), bookmarks: self.memory.clone() }
    }
    pub(crate) fn create_snapshot(&self) -> CreateSnapshot {
        CreateSnapshot {
            auth: self.auth(),
            catalog: self.memory.clone(),
            snapshots: self.memory.clone(),
            media: self.memory.clone(),
            quotas: self.quotas,
        }
    }
    pub(crate) fn list_snapshots(&self) -> ListSnapshots {
        ListSnapshots {
            auth: self.auth(),
            catalog: self.memory.clone(),
            snapshots: self.memory.clone(),
            media: self.memory.clone(),
            cursors: self.cursors(),
        }
    }
    pub(crate) fn delete_snapshot(&self) -> DeleteSnapshot {
        DeleteSnapshot {
            auth: self.auth(),
            catalog: self.memory.clone(),
            snapshots: self.memory.clone(),
            media: self.memory.clone(),
        }
    }

    /// `on-raw-upload` on the same world.
    pub(crate) fn on_raw_upload(&self) -> OnRawUpload {
        OnRawUpload {
            catalog: self.memory.clone(),
            states: self.memory.clone(),
            media: self.memory.clone(),
            transcoder: self.memory.clone(),
            budget: self.memory.clone(),
            limits: UploadLimit { quotas: self.quotas },
        }
    }

    /// `on-transcode-event` on the same world (no transcription, search or minutes settling).
    pub(crate) fn on_transcode_event(&self) -> OnTranscodeEvent {
        OnTranscodeEvent {
            catalog: self.memory.clone(),
            states: self.memory.clone(),
            captions: self.memory.clone(),
            media: self.memory.clone(),
            transcoder: self.memory.clone(),
            transcription: None,
            index: Some(self.memory.clone()),
            minutes: None,
        }
    }
}
