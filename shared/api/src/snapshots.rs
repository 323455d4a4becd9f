//! `/videos/{videoId}/snapshots`: captured frames, private to their author.

use std::{sync::Arc, time::Duration};

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_domain::{
    error::StoreError,
    media::{Bucket, MediaStore},
    quota::Quotas,
    storage::Limits,
    types::{SnapshotId, VideoId, now_rfc3339, rfc3339_at, unix_now},
    video::{ImageContentType, Snapshot, SnapshotStore, VideoCatalog, layout},
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::videos::video_member;

const UPLOAD_TTL: Duration = Duration::from_secs(900);
const DOWNLOAD_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotView {
    snapshot_id: SnapshotId,
    video_id: VideoId,
    video_seconds: f64,
    content_type: ImageContentType,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upload: Option<serde_json::Value>,
}

impl SnapshotView {
    fn new(s: Snapshot) -> Self {
        Self {
            snapshot_id: s.snapshot_id,
            video_id: s.video_id,
            video_seconds: s.video_seconds.get(),
            content_type: s.content_type,
            created_at: s.created_at,
            url: None,
            upload: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewSnapshot {
    video_seconds: f64,
    content_type: ImageContentType,
    /// The image's exact size (bound into the upload URL).
    #[serde(deserialize_with = "vivid_domain::types::body::whole")]
    size_bytes: u64,
}

/// The largest snapshot image: a lossless full-HD frame fits with room to spare.
pub const MAX_SNAPSHOT_BYTES: u64 = 5 * 1024 * 1024;

/// `POST /videos/{videoId}/snapshots` (member): a snapshot and a presigned PUT for its image.
pub struct CreateSnapshot {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub snapshots: Arc<dyn SnapshotStore>,
    /// Signs the image's upload.
    pub media: Arc<dyn MediaStore>,
    /// The snapshots a member keeps per video, and their storage.
    pub quotas: Quotas,
}

#[async_trait]
impl Handler for CreateSnapshot {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let body: NewSnapshot = req.json(4096)?;
        let video_seconds = crate::seconds("videoSeconds", body.video_seconds)?;
        if body.size_bytes == 0 {
            return Err(ApiError::unprocessable("invalid_size", "sizeBytes must be at least 1"));
        }
        if body.size_bytes > MAX_SNAPSHOT_BYTES {
            return Err(ApiError::UploadTooLarge { limit: MAX_SNAPSHOT_BYTES });
        }
        let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?.ready()?;
        let snapshot_id = SnapshotId::generate();
        let snapshot = Snapshot {
            object_key: layout::snapshot(&video_id, &caller.user_id, &snapshot_id),
            snapshot_id,
            video_id,
            user_id: caller.user_id,
            space_id: m.video.space_id,
            video_seconds,
            content_type: body.content_type,
            created_at: now_rfc3339(),
            size_bytes: body.size_bytes,
        };
        self.snapshots.put_snapshot(&snapshot, Limits::new(self.quotas.snapshots_per_video, &self.quotas)).await?;
        let url = self
            .media
            .presign_put(
                Bucket::User,
                &snapshot.object_key,
                snapshot.content_type.as_str(),
                body.size_bytes,
                UPLOAD_TTL,
            )
            .await?;
        let mut view = SnapshotView::new(snapshot.clone());
        view.upload = Some(serde_json::json!({
            "method": "PUT",
            "url": url,
            "headers": crate::put_headers(snapshot.content_type.as_str()),
            "expiresAt": rfc3339_at(unix_now() + UPLOAD_TTL.as_secs()),
        }));
        http::created(&format!("/videos/{}/snapshots/{}", snapshot.video_id, snapshot.snapshot_id), &view)
    }
}

/// `GET /videos/{videoId}/snapshots` (member, own): with short-lived download URLs.
pub struct ListSnapshots {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub snapshots: Arc<dyn SnapshotStore>,
    /// Signs each image's download.
    pub media: Arc<dyn MediaStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListSnapshots {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let binding = format!("snapshots|video={video_id}|user={}", caller.user_id);
        let (limit, start) = self.cursors.page(req, &binding).await?;
        video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        let page = self.snapshots.snapshots(&video_id, &caller.user_id, limit, start).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for s in page.items {
            let url = self.media.presign_get(Bucket::User, &s.object_key, DOWNLOAD_TTL).await?;
            let mut view = SnapshotView::new(s);
            view.url = Some(url);
            items.push(view);
        }
        let mut resp = http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)?;
        resp.headers_mut().insert(::http::header::CACHE_CONTROL, ::http::HeaderValue::from_static("private, no-store"));
        Ok(resp)
    }
}

/// `DELETE /videos/{videoId}/snapshots/{snapshotId}` (member, own).
pub struct DeleteSnapshot {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub snapshots: Arc<dyn SnapshotStore>,
    /// Deletes the image.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for DeleteSnapshot {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let snapshot_id: SnapshotId = req.path("snapshotId")?;
        video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        // The image first (its key is the snapshot's own), the item last: a deletion that fails
        // half-way leaves the snapshot, and deleting it again finishes it.
        let object_key = layout::snapshot(&video_id, &caller.user_id, &snapshot_id);
        self.media.delete(Bucket::User, &object_key).await?;
        let deleted = match self.snapshots.delete_snapshot(&video_id, &caller.user_id, &snapshot_id).await {
            Err(StoreError::Condition(_)) => None,
            other => other?,
        };
        let snapshot = deleted.ok_or(ApiError::NotFound("snapshot"))?;
        if snapshot.object_key != object_key {
            self.media.delete(Bucket::User, &snapshot.object_key).await?;
        }
        http::no_content()
    }
}
