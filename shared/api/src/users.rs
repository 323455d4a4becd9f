//! `/users/me`.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Serialize;

use vivid_domain::{
    cascade::{purge_member, purge_space},
    connectors::Provider,
    error::{Guard, StoreError},
    media::MediaStore,
    quota::{Quotas, utc_day},
    sessions::SessionStore,
    spaces::{Membership, Role, SpaceStore, successor},
    types::{Email, Limit, SpaceId, UserId, VideoId, rfc3339_at, unix_now},
    users::{Profile, Usage, User, UserStore},
    video::{Title, VideoStatus, VideoStore},
    zoom::AutoImportStore,
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
    auth: Arc<TokenVerifier>,
    users: Arc<dyn UserStore>,
    quotas: Quotas,
}

impl GetMe {
    pub fn new(auth: Arc<TokenVerifier>, users: Arc<dyn UserStore>, quotas: Quotas) -> Self {
        Self { auth, users, quotas }
    }
}

#[async_trait]
impl Handler for GetMe {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let now = unix_now();
        let (day, _) = utc_day(now);
        let profile = self.users.get_profile(&caller.user_id, &day).await?.ok_or(ApiError::NotFound("user"))?;
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
    auth: Arc<TokenVerifier>,
    spaces: Arc<dyn SpaceStore>,
    videos: Arc<dyn VideoStore>,
}

impl GetDashboard {
    pub fn new(auth: Arc<TokenVerifier>, spaces: Arc<dyn SpaceStore>, videos: Arc<dyn VideoStore>) -> Self {
        Self { auth, spaces, videos }
    }
}

const RECENT: u16 = 10;

#[async_trait]
impl Handler for GetDashboard {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let mut spaces = 0u32;
        let mut videos = 0u32;
        let mut member_of = std::collections::HashSet::new();
        let mut start = None;
        loop {
            let limit = Limit::clamped(100);
            let page = self.spaces.spaces_of(&caller.user_id, limit, start).await?;
            for (m, s) in page.items {
                spaces += 1;
                videos += s.video_count;
                member_of.insert(m.space_id);
            }
            start = page.next;
            if start.is_none() {
                break;
            }
        }
        let progress = self.videos.recent_progress(&caller.user_id, Limit::clamped(RECENT)).await?;
        let ids: Vec<VideoId> = progress.iter().map(|p| p.video_id.clone()).collect();
        let mut found: std::collections::HashMap<_, _> =
            self.videos.videos(&ids).await?.into_iter().map(|v| (v.video_id.clone(), v)).collect();
        let recent_videos: Vec<RecentVideo> = progress
            .into_iter()
            .filter(|p| member_of.contains(&p.space_id))
            .filter_map(|p| {
                found.remove(&p.video_id).map(|v| RecentVideo {
                    video_id: v.video_id,
                    space_id: v.space_id,
                    title: v.title,
                    status: v.status,
                    duration_seconds: v.duration_seconds,
                    progress_rate: p.progress_rate,
                    position_seconds: p.position_seconds.get(),
                    last_access_at: p.last_access_at,
                })
            })
            .collect();
        let completed = self.videos.completed_count(&caller.user_id).await?;
        let last_studied = recent_videos.first().cloned();
        http::json(
            StatusCode::OK,
            &Dashboard { counts: Counts { spaces, videos, completed }, last_studied, recent_videos },
        )
    }
}

/// `DELETE /users/me`: deletes the account — hosted spaces with their videos and media,
/// memberships with the caller's per-video data, sessions, the Webex connection, the identity.
/// The same Google account can sign up again afterwards.
pub struct DeleteMe {
    auth: Arc<TokenVerifier>,
    users: Arc<dyn UserStore>,
    spaces: Arc<dyn SpaceStore>,
    videos: Arc<dyn VideoStore>,
    media: Arc<dyn MediaStore>,
    sessions: Arc<dyn SessionStore>,
    auto_imports: Arc<dyn AutoImportStore>,
}

impl DeleteMe {
    pub fn new(
        auth: Arc<TokenVerifier>,
        users: Arc<dyn UserStore>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        media: Arc<dyn MediaStore>,
        sessions: Arc<dyn SessionStore>,
        auto_imports: Arc<dyn AutoImportStore>,
    ) -> Self {
        Self { auth, users, spaces, videos, media, sessions, auto_imports }
    }
}

impl DeleteMe {
    /// Hands a shared space the leaving user hosts to its longest-standing co-host (without
    /// their hosted-spaces quota: the course outlives the host); false when it has none, or is
    /// personal or already being deleted, and so goes with the account.
    async fn hand_over(&self, m: &Membership) -> Result<bool, ApiError> {
        if m.personal {
            return Ok(false);
        }
        // A co-host who leaves meanwhile: the next one.
        for _ in 0..3 {
            let Some(to) = successor(self.spaces.as_ref(), &m.space_id).await? else { return Ok(false) };
            match self.spaces.transfer_space(&m.space_id, &m.user_id, &to, u64::MAX).await {
                Ok(()) => {
                    tracing::info!(space_id = %m.space_id, "space handed over to its longest-standing co-host");
                    return Ok(true);
                }
                Err(StoreError::Condition(Guard::Membership)) => continue,
                Err(StoreError::Condition(Guard::Space)) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(false)
    }
}

#[async_trait]
impl Handler for DeleteMe {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let user = self.users.get_user(&caller.user_id).await?.ok_or(ApiError::NotFound("user"))?;
        let mut memberships = Vec::new();
        let mut start = None;
        loop {
            // Also the spaces an earlier, interrupted deletion left tombstoned: this one finishes them.
            let page = self.spaces.memberships_of(&user.user_id, Limit::clamped(100), start).await?;
            memberships.extend(page.items);
            start = page.next;
            if start.is_none() {
                break;
            }
        }
        for m in memberships {
            if m.role == Role::Host && !self.hand_over(&m).await? {
                match purge_space(self.spaces.as_ref(), self.videos.as_ref(), self.media.as_ref(), &m.space_id).await {
                    // Gone meanwhile (another deletion finished it).
                    Ok(()) | Err(StoreError::Condition(Guard::Space)) => {}
                    Err(e) => return Err(e.into()),
                }
            } else {
                // A member, or a host who handed the space over and is now its co-host.
                // The data first: a deletion that fails half-way still finds the membership.
                purge_member(self.spaces.as_ref(), self.media.as_ref(), &m.space_id, &user.user_id).await?;
                match self.spaces.remove_member(&m.space_id, &user.user_id).await {
                    Ok(()) | Err(StoreError::Condition(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        for link in self.auto_imports.auto_imports_by(&user.user_id).await? {
            self.auto_imports.delete_auto_import(&link.space_id).await?;
        }
        self.sessions.end_sessions_of(&user.user_id).await?;
        self.users.delete_user(&user).await?;
        tracing::info!(user_id = %user.user_id, "account deleted");
        http::with_cookies(http::no_content()?, &[cookies::clear_refresh()])
    }
}
