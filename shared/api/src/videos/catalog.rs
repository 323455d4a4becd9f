//! A space's lectures: listed in the host's order, ordered, edited and deleted.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_domain::{
    access::{require_manager, require_member},
    deletion::{Deletion, DeletionInvoker},
    error::{Guard, StoreError},
    search::{self, SearchIndex},
    spaces::SpaceStore,
    types::{Description, SpaceId, VideoId, now_rfc3339},
    video::{
        CatalogEdits, Chapter, OrderError, Progress, ProgressStore, Shown, Title, VideoCatalog, VideoPatch,
        VideoRemoval, VideoStatus, Visibility, VisibilityError, in_order, placements,
    },
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
};
use vivid_tokens::TokenVerifier;

use super::{VideoView, any_video_member, caller_video, manager_of};

/// The most videos one order lists.
const MAX_ORDERED: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Order {
    video_ids: Vec<VideoId>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderView {
    /// Every video of the space, in the order members now see them.
    video_ids: Vec<VideoId>,
}

/// `PUT /spaces/{spaceId}/videos/order {videoIds}` (host, co-host): the listed videos come first,
/// in that order; the others follow, newest first.
pub struct OrderVideos {
    pub auth: Arc<TokenVerifier>,
    /// The caller's role in the space.
    pub spaces: Arc<dyn SpaceStore>,
    /// The space's videos.
    pub catalog: Arc<dyn VideoCatalog>,
    /// Their places in the space's order.
    pub edits: Arc<dyn CatalogEdits>,
}

#[async_trait]
impl Handler for OrderVideos {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: Order = req.json(64 * 1024)?;
        if body.video_ids.len() > MAX_ORDERED {
            let detail = format!("an order lists at most {MAX_ORDERED} videos");
            return Err(ApiError::unprocessable("invalid_order", detail));
        }
        require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let mut all = self.catalog.all_videos(&space_id).await?;
        // A video being deleted is no longer in the space's order.
        all.retain(|v| !v.deleting);
        let moves = placements(&all, &body.video_ids).map_err(|e| match e {
            OrderError::Duplicate(_) => ApiError::unprocessable("invalid_order", e.to_string()),
            // The client's list and the space disagree (a video deleted, or from elsewhere).
            OrderError::Unknown(_) => ApiError::conflict(
                "unknown_video",
                format!("{e}: read the list again (GET /spaces/{{spaceId}}/videos) and send the order again"),
            ),
        })?;
        match self.edits.place_videos(&space_id, &moves).await {
            // A listed video was deleted meanwhile: nothing of this chunk was applied.
            Err(StoreError::Condition(Guard::Video)) => {
                return Err(ApiError::conflict(
                    "order_changed",
                    "a video of the order is gone: read the list and try again",
                ));
            }
            other => other?,
        }
        let placed: std::collections::HashMap<VideoId, Option<u32>> =
            moves.into_iter().map(|(v, p)| (v.video_id.clone(), p)).collect();
        for v in &mut all {
            if let Some(p) = placed.get(&v.video_id) {
                v.position = *p;
            }
        }
        let video_ids = in_order(all).into_iter().map(|v| v.video_id).collect();
        http::json(StatusCode::OK, &OrderView { video_ids })
    }
}

/// `GET /spaces/{spaceId}/videos` (member): in the host's order (the placed videos first, then
/// the others newest first), with the caller's progress.
pub struct ListVideos {
    pub auth: Arc<TokenVerifier>,
    /// The caller's membership of the space.
    pub spaces: Arc<dyn SpaceStore>,
    /// A page of the space's videos.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The caller's progress on them.
    pub progress: Arc<dyn ProgressStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListVideos {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let binding = format!("videos|space={space_id}");
        let (limit, start) = self.cursors.page(req, &binding).await?;
        let member = require_member(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let mut page = self.catalog.list_videos(&space_id, limit, start).await?;
        // Students do not see a draft, a hidden video or one scheduled later (a page may then
        // hold fewer than `limit`).
        if !member.manages() {
            page.items.retain(|v| v.shown_to_students());
        }
        let ids: Vec<VideoId> = page.items.iter().map(|v| v.video_id.clone()).collect();
        let mut progress: std::collections::HashMap<VideoId, Progress> = self
            .progress
            .progress_on(&caller.user_id, &ids)
            .await?
            .into_iter()
            .map(|p| (p.video_id.clone(), p))
            .collect();
        let items = page
            .items
            .into_iter()
            .map(|v| {
                let p = progress.remove(&v.video_id);
                VideoView::new(v, p, None)
            })
            .collect();
        http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VideoChanges {
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    title: Option<Title>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    description: Option<Description>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    chapters: Option<Vec<Chapter>>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    visibility: Option<Visibility>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    publish_at: Option<String>,
}

impl VideoChanges {
    /// The visibility asked, checked: `publishAt` only with `scheduled` (422 `invalid_body`).
    fn shown(&self) -> Result<Option<Shown>, ApiError> {
        let refused = |e: VisibilityError| ApiError::unprocessable("invalid_body", e.to_string());
        match (self.visibility, self.publish_at.as_deref()) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(refused(VisibilityError::TimeWithout)),
            (Some(v), at) => {
                Shown::parse(v, at, time::OffsetDateTime::now_utc().unix_timestamp()).map(Some).map_err(refused)
            }
        }
    }
}

/// `PATCH /videos/{videoId}` (host, co-host): title, description, chapters, and who of the
/// space sees it (draft, published, scheduled with `publishAt`, hidden).
pub struct UpdateVideo {
    pub auth: Arc<TokenVerifier>,
    /// The video and the caller's role in its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// Its new words.
    pub edits: Arc<dyn CatalogEdits>,
    /// The space's search (a ready video's words).
    pub index: Arc<dyn SearchIndex>,
}

#[async_trait]
impl Handler for UpdateVideo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let changes: VideoChanges = req.json(DEFAULT_MAX_BODY)?;
        if changes.title.is_none()
            && changes.description.is_none()
            && changes.chapters.is_none()
            && changes.visibility.is_none()
            && changes.publish_at.is_none()
        {
            return Err(ApiError::unprocessable(
                "empty_patch",
                "give a title, a description, chapters, visibility or several",
            ));
        }
        let shown = changes.shown()?;
        let (_, m) = caller_video(&self.auth, self.catalog.as_ref(), req).await?;
        manager_of(&m)?;
        let chapters = changes
            .chapters
            .map(|list| vivid_domain::video::chapters(list, m.video.duration_seconds))
            .transpose()
            .map_err(|e| ApiError::unprocessable("invalid_chapters", e.0))?;
        let patch = VideoPatch { title: changes.title, description: changes.description, chapters, shown };
        let video = match self.edits.update_video(&m.video.video_id, &patch, &now_rfc3339()).await {
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("video")),
            other => other?,
        };
        if video.status == VideoStatus::Ready {
            // The space's search follows the new words (a video not yet READY is indexed then).
            let postings = search::word_postings(
                &video.video_id,
                video.title.as_str(),
                video.description.as_str(),
                &video.chapters,
            );
            self.index.index_video(&video.space_id, &video.video_id, search::Source::Words, &postings).await?;
        }
        http::json(StatusCode::OK, &VideoView::new(video, m.progress, None))
    }
}

/// `DELETE /videos/{videoId}` (host, co-host): marks the video as deleting — gone for every
/// reader and writer from then on, its place in the space freed — and starts the deletion worker,
/// which removes its raw and converted objects and everyone's per-video data; 202. Asked again
/// while the work runs, the same 202 and the worker started again (every step is safe to repeat).
pub struct DeleteVideo {
    pub auth: Arc<TokenVerifier>,
    /// The video (one being deleted included) and the caller's role in its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The video's mark.
    pub removal: Arc<dyn VideoRemoval>,
    /// The deletion worker, which removes the rest.
    pub deletions: Arc<dyn DeletionInvoker>,
}

#[async_trait]
impl Handler for DeleteVideo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let id: VideoId = req.path("videoId")?;
        let m = any_video_member(self.catalog.as_ref(), &id, &caller.user_id).await?;
        manager_of(&m)?;
        match self.removal.tombstone_video(&m.video).await {
            // Gone since it was read: another deletion finished.
            Err(StoreError::Condition(Guard::Video)) => return Err(ApiError::NotFound("video")),
            other => other?,
        };
        self.deletions.start(&Deletion::Video { video_id: id.clone() }).await?;
        tracing::info!(video_id = %id, "video deletion started");
        crate::deleting("videoId", id.as_str())
    }
}
