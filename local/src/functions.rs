//! Every function of the suite by its package name, with its own wiring (`<crate>::wire`): the
//! local stack builds each handler exactly as its Lambda `main` does, from the environment the
//! template declares for it — an HTTP function's behind the per-caller rate limit, as
//! `vivid_edge::serve` puts it (`no-route`'s `serve_without_aws` does not: see [`UNLIMITED`]).

use std::{future::Future, pin::Pin, sync::Arc};

use vivid_config::{Config, ConfigError};
use vivid_edge::Handler;
use vivid_events::EventHandler;

type Wired<T> = Pin<Box<dyn Future<Output = Result<T, ConfigError>> + Send>>;

/// An HTTP function: its package name and its wiring.
pub struct HttpFunction {
    pub name: &'static str,
    pub wire: fn(Config) -> Wired<Arc<dyn Handler>>,
}

/// An event function: its package name and its wiring.
pub struct EventFunction {
    pub name: &'static str,
    pub wire: fn(Config) -> Wired<Arc<dyn EventHandler>>,
}

macro_rules! http_functions {
    ($($name:literal => $krate:ident),* $(,)?) => {
        /// Every HTTP function of the suite.
        pub const HTTP_FUNCTIONS: &[HttpFunction] = &[
            $(HttpFunction {
                name: $name,
                wire: |cfg| Box::pin(async move {
                    let handler = Arc::new($krate::wire(cfg.clone()).await?) as Arc<dyn Handler>;
                    rate_limited($name, &cfg, handler)
                }),
            }),*
        ];
    };
}

/// HTTP functions whose `main` serves them without the rate limit (`serve_without_aws`: no
/// table to count in).
pub const UNLIMITED: &[&str] = &["no-route"];

/// `handler` as the function's `main` serves it: behind the rate limit unless [`UNLIMITED`].
fn rate_limited(name: &str, cfg: &Config, handler: Arc<dyn Handler>) -> Result<Arc<dyn Handler>, ConfigError> {
    if UNLIMITED.contains(&name) {
        return Ok(handler);
    }
    vivid_edge::rate::limited(cfg, vivid_dynamo::rate_counter, handler)
}

macro_rules! event_functions {
    ($($name:literal => $krate:ident),* $(,)?) => {
        /// Every event function of the suite.
        pub const EVENT_FUNCTIONS: &[EventFunction] = &[
            $(EventFunction {
                name: $name,
                wire: |cfg| Box::pin(async move { Ok(Arc::new($krate::wire(cfg).await?) as Arc<dyn EventHandler>) }),
            }),*
        ];
    };
}

http_functions! {
    "google-login" => google_login,
    "google-callback" => google_callback,
    "google-token" => google_token,
    "refresh-token" => refresh_token,
    "logout" => logout,
    "list-sessions" => list_sessions,
    "end-sessions" => end_sessions,
    "lti-jwks" => lti_jwks,
    "lti-login" => lti_login,
    "lti-login-post" => lti_login_post,
    "lti-launch" => lti_launch,
    "lti-session" => lti_session,
    "lti-deep-link" => lti_deep_link,
    "lti-register" => lti_register,
    "create-lti-invitation" => create_lti_invitation,
    "list-lti-registrations" => list_lti_registrations,
    "create-lti-registration" => create_lti_registration,
    "add-lti-deployment" => add_lti_deployment,
    "delete-lti-registration" => delete_lti_registration,
    "lti-roster-sync" => lti_roster_sync,
    "oidc-login" => oidc_login,
    "oidc-callback" => oidc_callback,
    "oidc-link" => oidc_link,
    "list-identities" => list_identities,
    "delete-identity" => delete_identity,
    "get-me" => get_me,
    "get-dashboard" => get_dashboard,
    "delete-me" => delete_me,
    "list-spaces" => list_spaces,
    "create-space" => create_space,
    "get-space" => get_space,
    "update-space" => update_space,
    "delete-space" => delete_space,
    "list-members" => list_members,
    "add-member" => add_member,
    "put-captions" => put_captions,
    "get-transcript" => get_transcript,
    "search-space" => search_space,
    "delete-captions" => delete_captions,
    "get-captions" => get_captions,
    "create-invitations" => create_invitations,
    "list-invitations" => list_invitations,
    "revoke-invitation" => revoke_invitation,
    "accept-invitation" => accept_invitation,
    "list-my-invitations" => list_my_invitations,
    "remove-member" => remove_member,
    "update-member" => update_member,
    "transfer-space" => transfer_space,
    "list-class-progress" => list_class_progress,
    "list-video-progress" => list_video_progress,
    "create-video" => create_video,
    "complete-upload" => complete_upload,
    "abort-upload" => abort_upload,
    "upload-parts" => upload_parts,
    "list-videos" => list_videos,
    "order-videos" => order_videos,
    "get-video" => get_video,
    "get-playback" => get_playback,
    "get-hls-playlist" => get_hls_playlist,
    "update-video" => update_video,
    "delete-video" => delete_video,
    "put-progress" => put_progress,
    "report-watching" => report_watching,
    "get-watching" => get_watching,
    "get-heatmap" => get_heatmap,
    "export-engagement" => export_engagement,
    "get-study-map" => get_study_map,
    "create-snapshot" => create_snapshot,
    "list-snapshots" => list_snapshots,
    "list-bookmarks" => list_bookmarks,
    "create-bookmark" => create_bookmark,
    "delete-bookmark" => delete_bookmark,
    "delete-snapshot" => delete_snapshot,
    "get-text-memo" => get_text_memo,
    "put-text-memo" => put_text_memo,
    "create-memo-checkpoint" => create_memo_checkpoint,
    "list-memo-history" => list_memo_history,
    "list-drawings" => list_drawings,
    "put-drawing" => put_drawing,
    "get-drawing" => get_drawing,
    "delete-drawing" => delete_drawing,
    "webex-login" => webex_login,
    "webex-connect" => webex_connect,
    "webex-disconnect" => webex_disconnect,
    "list-recordings" => list_recordings,
    "import-recording" => import_recording,
    "zoom-login" => zoom_login,
    "zoom-connect" => zoom_connect,
    "zoom-disconnect" => zoom_disconnect,
    "list-zoom-recordings" => list_zoom_recordings,
    "import-zoom-recording" => import_zoom_recording,
    "zoom-auto-import" => zoom_auto_import,
    "zoom-webhook" => zoom_webhook,
    "no-route" => no_route,
}

event_functions! {
    "on-raw-upload" => on_raw_upload,
    "on-transcode-event" => on_transcode_event,
    "on-transcribe-event" => on_transcribe_event,
    "on-converted-output" => on_converted_output,
    "import-worker" => import_worker,
    "deletion-worker" => deletion_worker,
    "lti-grade-worker" => lti_grade_worker,
    "lti-roster-worker" => lti_roster_worker,
    "sweep-stale-videos" => sweep_stale_videos,
}

pub fn http_function(name: &str) -> Option<&'static HttpFunction> {
    HTTP_FUNCTIONS.iter().find(|f| f.name == name)
}

pub fn event_function(name: &str) -> Option<&'static EventFunction> {
    EVENT_FUNCTIONS.iter().find(|f| f.name == name)
}
