//! `/videos/{videoId}/bookmarks`: a member's named moments of a video, private to them.

use std::sync::Arc;

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_domain::{
    quota::Quotas,
    types::{BookmarkId, VideoId, now_rfc3339},
    video::{Bookmark, BookmarkLabel, BookmarkStore, VideoCatalog},
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::videos::video_member;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BookmarkView {
    bookmark_id: BookmarkId,
    video_id: VideoId,
    video_seconds: f64,
    label: BookmarkLabel,
    created_at: String,
}

impl From<Bookmark> for BookmarkView {
    fn from(b: Bookmark) -> Self {
        Self {
            bookmark_id: b.bookmark_id,
            video_id: b.video_id,
            video_seconds: b.video_seconds.get(),
            label: b.label,
            created_at: b.created_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewBookmark {
    video_seconds: f64,
    label: BookmarkLabel,
}

/// `POST /videos/{videoId}/bookmarks` (member): a bookmark of the caller's.
pub struct CreateBookmark {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub bookmarks: Arc<dyn BookmarkStore>,
    /// The bookmarks a member keeps per video.
    pub quotas: Quotas,
}

#[async_trait]
impl Handler for CreateBookmark {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let body: NewBookmark = req.json(4096)?;
        let video_seconds = crate::seconds("videoSeconds", body.video_seconds)?;
        let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?.ready()?;
        let bookmark = Bookmark {
            bookmark_id: BookmarkId::generate(),
            video_id,
            user_id: caller.user_id,
            space_id: m.video.space_id,
            video_seconds,
            label: body.label,
            created_at: now_rfc3339(),
        };
        self.bookmarks.put_bookmark(&bookmark, self.quotas.bookmarks_per_video).await?;
        let location = format!("/videos/{}/bookmarks/{}", bookmark.video_id, bookmark.bookmark_id);
        http::created(&location, &BookmarkView::from(bookmark))
    }
}

/// `GET /videos/{videoId}/bookmarks` (member, own): oldest first, paged.
pub struct ListBookmarks {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub bookmarks: Arc<dyn BookmarkStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListBookmarks {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let binding = format!("bookmarks|video={video_id}|user={}", caller.user_id);
        let (limit, start) = self.cursors.page(req, &binding).await?;
        video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        let page = self.bookmarks.bookmarks(&video_id, &caller.user_id, limit, start).await?;
        let items: Vec<BookmarkView> = page.items.into_iter().map(BookmarkView::from).collect();
        let mut resp = http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        Ok(resp)
    }
}

/// `DELETE /videos/{videoId}/bookmarks/{bookmarkId}` (member, own).
pub struct DeleteBookmark {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub bookmarks: Arc<dyn BookmarkStore>,
}

#[async_trait]
impl Handler for DeleteBookmark {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let bookmark_id: BookmarkId = req.path("bookmarkId")?;
        video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        if !self.bookmarks.delete_bookmark(&video_id, &caller.user_id, &bookmark_id).await? {
            return Err(ApiError::NotFound("bookmark"));
        }
        http::no_content()
    }
}
