//! Route handlers, one type per Lambda function, and the registry that lets the local gateway
//! and the consistency tests find them by function name.

use std::sync::Arc;

use crate::{
    http::Handler,
    runtime::{ConfigError, Deps},
};

pub mod auth;
pub mod members;
pub mod notes;
pub mod snapshots;
pub mod spaces;
pub mod users;
pub mod videos;
pub mod webex;

/// An HTTP function: its package name under `functions/`, the handler type its `main.rs`
/// serves, and how to build that handler from the dependencies.
pub struct HttpFunction {
    pub name: &'static str,
    pub handler: &'static str,
    pub build: fn(&Deps) -> Result<Arc<dyn Handler>, ConfigError>,
}

macro_rules! http_functions {
    ($($name:literal => $module:ident :: $ty:ident),* $(,)?) => {
        /// Every HTTP function of the suite.
        pub const HTTP_FUNCTIONS: &[HttpFunction] = &[
            $(HttpFunction { name: $name, handler: stringify!($ty), build: |d| Ok(Arc::new($module::$ty::new(d)?)) }),*
        ];
    };
}

http_functions! {
    "google-login" => auth::GoogleLogin,
    "google-callback" => auth::GoogleCallback,
    "google-token" => auth::GoogleToken,
    "refresh-token" => auth::RefreshToken,
    "logout" => auth::Logout,
    "get-me" => users::GetMe,
    "get-dashboard" => users::GetDashboard,
    "delete-me" => users::DeleteMe,
    "list-spaces" => spaces::ListSpaces,
    "create-space" => spaces::CreateSpace,
    "get-space" => spaces::GetSpace,
    "update-space" => spaces::UpdateSpace,
    "delete-space" => spaces::DeleteSpace,
    "list-members" => members::ListMembers,
    "add-member" => members::AddMember,
    "remove-member" => members::RemoveMember,
    "create-video" => videos::CreateVideo,
    "complete-upload" => videos::CompleteUpload,
    "abort-upload" => videos::AbortUpload,
    "list-videos" => videos::ListVideos,
    "get-video" => videos::GetVideo,
    "update-video" => videos::UpdateVideo,
    "delete-video" => videos::DeleteVideo,
    "put-progress" => videos::PutProgress,
    "create-snapshot" => snapshots::CreateSnapshot,
    "list-snapshots" => snapshots::ListSnapshots,
    "delete-snapshot" => snapshots::DeleteSnapshot,
    "get-text-memo" => notes::GetTextMemo,
    "put-text-memo" => notes::PutTextMemo,
    "create-memo-checkpoint" => notes::CreateCheckpoint,
    "list-memo-history" => notes::ListMemoHistory,
    "list-drawings" => notes::ListDrawings,
    "put-drawing" => notes::PutDrawing,
    "get-drawing" => notes::GetDrawing,
    "delete-drawing" => notes::DeleteDrawing,
    "webex-login" => webex::WebexLogin,
    "webex-connect" => webex::WebexConnect,
    "webex-disconnect" => webex::WebexDisconnect,
    "list-recordings" => webex::ListRecordings,
    "import-recording" => webex::ImportRecording,
}

/// The function serving `name`, if any.
pub fn http_function(name: &str) -> Option<&'static HttpFunction> {
    HTTP_FUNCTIONS.iter().find(|f| f.name == name)
}
