//! Progress: a member's own (`PUT /videos/{videoId}/progress`), and the class's, for the space's
//! host and co-hosts (`GET /spaces/{spaceId}/progress` and `GET /videos/{videoId}/progress`).
//! The class's is read from the standings progress writes keep on each membership: no scan,
//! whatever the class's size (docs/data-model.md). Notes, drawings, snapshots and bookmarks stay
//! their author's: only progress is shown.

use std::{collections::HashMap, sync::Arc};

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_domain::{
    access::{Denied, require_manager},
    spaces::{Membership, SpaceStore},
    types::{SpaceId, UserId, VideoId, now_rfc3339},
    users::UserStore,
    video::{Progress, ProgressStore, VideoCatalog},
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::{
    members::{MemberView, users_of},
    videos::video_member,
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberProgress {
    #[serde(flatten)]
    member: MemberView,
    /// Videos of the space the member has completed.
    videos_completed: u32,
    /// The space's videos when read (every status).
    video_count: u32,
    /// Progress through the space's videos: the mean of the member's rates, 0–100.
    percent: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_access_at: Option<String>,
}

/// `GET /spaces/{spaceId}/progress` (host, co-host): each member's videos completed, overall
/// progress and last access, a page of members at a time.
pub struct ClassProgress {
    pub auth: Arc<TokenVerifier>,
    /// The caller's role, and a page of the members' standings.
    pub spaces: Arc<dyn SpaceStore>,
    /// The members' names.
    pub users: Arc<dyn UserStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ClassProgress {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let binding = format!("class-progress|space={space_id}");
        let (limit, start) = self.cursors.page(req, &binding).await?;
        let manager = require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let videos = manager.space.video_count;
        let page = self.spaces.standings(&space_id, limit, start).await?;
        let memberships: Vec<Membership> = page.items.iter().map(|(m, _)| m.clone()).collect();
        let mut users = users_of(self.users.as_ref(), &memberships).await?;
        let items: Vec<MemberProgress> = page
            .items
            .into_iter()
            .filter_map(|(m, standing)| {
                let user = users.remove(&m.user_id)?;
                Some(MemberProgress {
                    member: MemberView::new(m, user),
                    videos_completed: standing.completed_videos.min(videos),
                    video_count: videos,
                    percent: standing.percent(videos),
                    last_access_at: standing.last_access_at,
                })
            })
            .collect();
        http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VideoRow {
    #[serde(flatten)]
    member: MemberView,
    /// 0 for a member who has not started.
    progress_rate: u8,
    position_seconds: f64,
    /// What the member actually watched, 0–100 (0 before their player reported).
    coverage_percent: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_access_at: Option<String>,
}

/// `GET /videos/{videoId}/progress` (host, co-host): each member's progress on one video, a page
/// of members at a time (members who have not started show 0).
pub struct VideoProgress {
    pub auth: Arc<TokenVerifier>,
    /// A page of the space's members.
    pub spaces: Arc<dyn SpaceStore>,
    /// The video and the caller's role in its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The members' progress on it.
    pub progress: Arc<dyn ProgressStore>,
    /// The members' names.
    pub users: Arc<dyn UserStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for VideoProgress {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let binding = format!("video-progress|video={video_id}");
        let (limit, start) = self.cursors.page(req, &binding).await?;
        let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        if !m.member.manages() {
            return Err(Denied::ManagersOnly.into());
        }
        let page = self.spaces.members(&m.video.space_id, limit, start).await?;
        let ids: Vec<UserId> = page.items.iter().map(|m| m.user_id.clone()).collect();
        let mut progress: HashMap<UserId, Progress> =
            self.progress.progress_by(&video_id, &ids).await?.into_iter().map(|p| (p.user_id.clone(), p)).collect();
        let mut users = users_of(self.users.as_ref(), &page.items).await?;
        let items: Vec<VideoRow> = page
            .items
            .into_iter()
            .filter_map(|m| {
                let user = users.remove(&m.user_id)?;
                let p = progress.remove(&m.user_id);
                Some(VideoRow {
                    member: MemberView::new(m, user),
                    progress_rate: p.as_ref().map_or(0, |p| p.progress_rate),
                    position_seconds: p.as_ref().map_or(0.0, |p| p.position_seconds.get()),
                    coverage_percent: p.as_ref().and_then(|p| p.coverage_percent).unwrap_or(0),
                    completed_at: p.as_ref().and_then(|p| p.completed_at.clone()),
                    last_access_at: p.map(|p| p.last_access_at),
                })
            })
            .collect();
        http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProgressBody {
    #[serde(deserialize_with = "vivid_domain::types::body::whole")]
    progress_rate: u8,
    position_seconds: f64,
}

/// `PUT /videos/{videoId}/progress` (member): one conditional write once the member's progress
/// item exists; the first write checks membership and creates it. The rate is the client's own
/// account of its progress (where to resume, a progress bar): it never completes the video nor
/// reaches a gradebook — completion is the watched coverage the player reports
/// (`POST /videos/{videoId}/watching`, [`crate::watching`]).
pub struct PutProgress {
    pub auth: Arc<TokenVerifier>,
    /// The member's progress (and grant).
    pub progress: Arc<dyn ProgressStore>,
    /// The video and the caller's membership of its space, on the first write.
    pub catalog: Arc<dyn VideoCatalog>,
}

#[async_trait]
impl Handler for PutProgress {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let body: ProgressBody = req.json(4096)?;
        if body.progress_rate > 100 {
            return Err(ApiError::unprocessable("invalid_progress", "progressRate must be from 0 to 100"));
        }
        let position = crate::seconds("positionSeconds", body.position_seconds)?;
        let now = now_rfc3339();
        let rate = body.progress_rate;
        if !self.progress.touch_progress(&video_id, &caller.user_id, rate, position, &now).await? {
            // The first write.
            let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?.ready()?;
            let progress = Progress {
                video_id: video_id.clone(),
                user_id: caller.user_id.clone(),
                space_id: m.video.space_id.clone(),
                progress_rate: rate,
                position_seconds: position,
                completed_at: None,
                coverage_percent: None,
                last_access_at: now,
            };
            self.progress.put_progress(&progress).await?;
        }
        http::no_content()
    }
}
