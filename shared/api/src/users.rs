//! `/users/me`.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Serialize;

use vivid_domain::{
    connectors::Provider,
    deletion::{Deletion, DeletionInvoker},
    error::StoreError,
    quota::{Quotas, utc_day},
    spaces::SpaceStore,
    step_up,
    types::{Email, Limit, SpaceId, UserId, VideoId, rfc3339_at, unix_now},
    users::{Profile, Usage, User, UserStore},
    video::{ProgressStore, Title, VideoCatalog, VideoStatus},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::cookies;

/// The caller's own profile.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    pub personal_space_id: SpaceId,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webex_connected: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoom_connected: Option<bool>,
    /// What the caller uses of their quotas (`GET /users/me`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageView>,
}

/// A counted quota: how much is used of how much.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Used {
    pub used: u64,
    pub limit: u64,
}

/// The caller's usage and the limits that apply to what they create.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    pub hosted_spaces: Used,
    pub transcode_bytes_today: Used,
    /// Minutes of media sent to transcoding today, of the day's budget.
    pub transcode_minutes_today: Used,
    /// Minutes of media sent to transcription today, of the day's budget.
    pub transcribe_minutes_today: Used,
    /// Bytes of the caller's snapshots, drawings and memo checkpoints, all spaces together.
    pub storage_bytes: Used,
    /// The longest lecture, in seconds (a longer video fails `lecture_too_long`).
    pub lecture_seconds: u64,
    /// When today's transcoding budget starts again (midnight UTC).
    pub transcode_budget_resets_at: String,
    pub videos_per_space: u64,
    pub snapshots_per_video: u64,
    pub drawings_per_video: u64,
    pub checkpoints_per_video: u64,
    pub bookmarks_per_video: u64,
    pub upload_bytes: u64,
    pub import_bytes: u64,
}

impl UsageView {
    fn new(usage: Usage, q: &Quotas, now: u64) -> Self {
        let (_, left) = utc_day(now);
        Self {
            hosted_spaces: Used { used: usage.hosted_spaces, limit: q.hosted_spaces },
            transcode_bytes_today: Used { used: usage.transcode_bytes_today, limit: q.daily_transcode_bytes },
            transcode_minutes_today: Used { used: usage.transcode_minutes_today, limit: q.daily_transcode_minutes },
            transcribe_minutes_today: Used { used: usage.transcribe_minutes_today, limit: q.daily_transcribe_minutes },
            storage_bytes: Used { used: usage.storage_bytes, limit: q.storage_bytes },
            lecture_seconds: q.lecture_seconds,
            transcode_budget_resets_at: rfc3339_at(now + left),
            videos_per_space: q.videos_per_space,
            snapshots_per_video: q.snapshots_per_video,
            drawings_per_video: q.drawings_per_video,
            checkpoints_per_video: q.checkpoints_per_video,
            bookmarks_per_video: q.bookmarks_per_video,
            upload_bytes: q.upload_bytes,
            import_bytes: q.import_bytes,
        }
    }
}

impl UserView {
    /// The user alone (sign-in responses).
    pub fn new(u: User) -> Self {
        Self {
            user_id: u.user_id,
            email: u.email,
            name: u.name,
            picture: u.picture,
            personal_space_id: u.personal_space_id,
            created_at: u.created_at,
            webex_connected: None,
            zoom_connected: None,
            usage: None,
        }
    }

    /// The user with their connections and usage (`GET /users/me`).
    pub fn profile(p: Profile, quotas: &Quotas, now: u64) -> Self {
        let connected = |provider| Some(p.connected.contains(&provider));
        Self {
            webex_connected: connected(Provider::Webex),
            zoom_connected: connected(Provider::Zoom),
            usage: Some(UsageView::new(p.usage, quotas, now)),
            ..Self::new(p.user)
        }
    }
}

/// `GET /users/me`: one round trip for the profile, the connections and today's usage.
pub struct GetMe {
    pub auth: Arc<TokenVerifier>,
    pub users: Arc<dyn UserStore>,
    /// The limits the usage is shown against.
    pub quotas: Quotas,
}

#[async_trait]
impl Handler for GetMe {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let now = unix_now();
        let (day, _) = utc_day(now);
        // An account being deleted reads as gone, as it will be in a moment.
        let profile = self
            .users
            .get_profile(&caller.user_id, &day)
            .await?
            .filter(|p| !p.user.deleting)
            .ok_or(ApiError::NotFound("user"))?;
        http::json(StatusCode::OK, &UserView::profile(profile, &self.quotas, now))
    }
}

/// A recently studied video on the dashboard.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecentVideo {
    pub video_id: VideoId,
    pub space_id: SpaceId,
    pub title: Title,
    pub status: VideoStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    pub progress_rate: u8,
    pub position_seconds: f64,
    pub last_access_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Counts {
    spaces: u32,
    videos: u32,
    completed: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Dashboard {
    counts: Counts,
    last_studied: Option<RecentVideo>,
    recent_videos: Vec<RecentVideo>,
}

/// `GET /users/me/dashboard`: counts (spaces, videos in them, completed), the last studied
/// video, and recent videos by last access.
pub struct GetDashboard {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    /// The recently studied videos themselves.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The caller's recent and completed videos.
    pub progress: Arc<dyn ProgressStore>,
}

const RECENT: u16 = 10;

#[async_trait]
impl Handler for GetDashboard {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let mut spaces = 0u32;
        let mut videos = 0u32;
        // Each space's membership: whether the caller manages it (and so sees its drafts).
        let mut member_of = std::collections::HashMap::new();
        let mut start = None;
        loop {
            let limit = Limit::clamped(100);
            let page = self.spaces.spaces_of(&caller.user_id, limit, start).await?;
            for (m, s) in page.items {
                spaces += 1;
                videos += s.video_count;
                member_of.insert(m.space_id, m.role.manages());
            }
            start = page.next;
            if start.is_none() {
                break;
            }
        }
        let progress = self.progress.recent_progress(&caller.user_id, Limit::clamped(RECENT)).await?;
        let ids: Vec<VideoId> = progress.iter().map(|p| p.video_id.clone()).collect();
        let mut found: std::collections::HashMap<_, _> =
            self.catalog.videos(&ids).await?.into_iter().map(|v| (v.video_id.clone(), v)).collect();
        let recent_videos: Vec<RecentVideo> = progress
            .into_iter()
            .filter_map(|p| {
                let manages = *member_of.get(&p.space_id)?;
                // A video being deleted is gone for readers; one the students do not see yet, for
                // them.
                found.remove(&p.video_id).filter(|v| !v.deleting && (manages || v.shown_to_students())).map(|v| {
                    RecentVideo {
                        video_id: v.video_id,
                        space_id: v.space_id,
                        title: v.title,
                        status: v.status,
                        duration_seconds: v.duration_seconds,
                        progress_rate: p.progress_rate,
                        position_seconds: p.position_seconds.get(),
                        last_access_at: p.last_access_at,
                    }
                })
            })
            .collect();
        let completed = self.progress.completed_count(&caller.user_id).await?;
        let last_studied = recent_videos.first().cloned();
        http::json(
            StatusCode::OK,
            &Dashboard { counts: Counts { spaces, videos, completed }, last_studied, recent_videos },
        )
    }
}

/// `DELETE /users/me`: marks the account as deleting — from then on it can no longer sign in,
/// refresh or write, and reads as gone — and starts the deletion worker, which hands over or
/// deletes the hosted spaces with their videos and media, removes the memberships with the
/// caller's per-video data, the sessions, the connections and the identity; 202, the refresh
/// cookie cleared. The same Google account can sign up again once it is done. It needs a recent
/// sign-in (`vivid_domain::step_up`): 401 `reauthentication_required` otherwise.
pub struct DeleteMe {
    pub auth: Arc<TokenVerifier>,
    pub users: Arc<dyn UserStore>,
    pub deletions: Arc<dyn DeletionInvoker>,
}

#[async_trait]
impl Handler for DeleteMe {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let user = self.users.get_user(&caller.user_id).await?.ok_or(ApiError::NotFound("user"))?;
        // Step-up: only a recent sign-in deletes an account (an account already being deleted
        // cannot sign in again: asking again gets the same 202).
        if !user.deleting {
            step_up::require_recent_sign_in(caller.auth_time, unix_now())?;
        }
        let mark = ulid::Ulid::new().to_string();
        match self.users.mark_deleting(&user.user_id, &mark).await {
            // Gone since it was read: another deletion finished.
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("user")),
            other => other?,
        }
        let job = Deletion::Account { user_id: user.user_id.clone() };
        if let Err(e) = self.deletions.start(&job).await {
            // Nothing will delete it: a first request gives the account back (its owner could not
            // sign in to ask again), unless another request marked it since; a repeated one
            // leaves the deletion an earlier one started.
            if !user.deleting
                && let Err(undo) = self.users.unmark_deleting(&user.user_id, &mark).await
            {
                tracing::error!(user_id = %user.user_id, error = %undo, "an account marked deleting without a worker");
            }
            return Err(e.into());
        }
        tracing::info!(user_id = %user.user_id, "account deletion started");
        http::with_cookies(crate::deleting("userId", user.user_id.as_str())?, &[cookies::clear_refresh()])
    }
}
