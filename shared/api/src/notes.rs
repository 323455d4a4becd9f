//! Notes, private to their author (SPEC §5): `/videos/{videoId}/text-memo` (latest state with
//! optimistic versions, and its checkpoint history) and `/videos/{videoId}/drawings`.

use std::sync::Arc;

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use vivid_domain::{
    error::{Guard, StoreError},
    media::{Bucket, MediaStore},
    notes::{
        Checkpoint, Drawing, DrawingId, DrawingKind, INLINE_DRAWING_BYTES, MAX_DRAWING_BYTES, MAX_MEMO_STATE_BYTES,
        Memo, NoteStore, Placement, Precondition, SaveOutcome, drawing_object,
    },
    quota::Quotas,
    search::{self, SearchIndex},
    storage::Limits,
    types::{Seconds, VideoId, now_rfc3339},
    video::VideoCatalog,
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
struct MemoView {
    video_id: VideoId,
    state_json: Option<String>,
    video_time: Option<Seconds>,
    version: u64,
    updated_at: Option<String>,
}

impl From<Memo> for MemoView {
    fn from(m: Memo) -> Self {
        Self {
            video_id: m.video_id,
            state_json: Some(m.state_json),
            video_time: m.video_time,
            version: m.version,
            updated_at: Some(m.updated_at),
        }
    }
}

fn with_etag(mut resp: Response<Body>, version: u64) -> Result<Response<Body>, ApiError> {
    let etag = HeaderValue::from_str(&format!("\"{version}\"")).map_err(ApiError::internal)?;
    resp.headers_mut().insert(header::ETAG, etag);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(resp)
}

/// The memo save's precondition from `If-Match` / `If-None-Match` (400 when malformed).
fn precondition(req: &ApiRequest) -> Result<Precondition, ApiError> {
    Precondition::parse(req.header(header::IF_MATCH), req.header(header::IF_NONE_MATCH))
        .map_err(|e| ApiError::bad_request("invalid_precondition", e.0))
}

fn precondition_failed(detail: &'static str) -> ApiError {
    ApiError::PreconditionFailed(detail)
}

/// `GET /videos/{videoId}/text-memo` (member, own): the memo read beside the membership check
/// (one round trip of latency more than the memo alone).
pub struct GetTextMemo {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub notes: Arc<dyn NoteStore>,
}

#[async_trait]
impl Handler for GetTextMemo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        // The memo and the membership, read together: a removed member reads nothing, even
        // before the purge of their data has reached this memo.
        let (memo, _) = futures_util::try_join!(
            async { self.notes.memo(&video_id, &caller.user_id).await.map_err(ApiError::from) },
            video_member(self.catalog.as_ref(), &video_id, &caller.user_id),
        )?;
        match memo {
            Some(memo) => {
                let version = memo.version;
                with_etag(http::json(StatusCode::OK, &MemoView::from(memo))?, version)
            }
            None => {
                let empty = MemoView { video_id, state_json: None, video_time: None, version: 0, updated_at: None };
                with_etag(http::json(StatusCode::OK, &empty)?, 0)
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MemoBody {
    state_json: String,
    video_time: Option<f64>,
}

/// `PUT /videos/{videoId}/text-memo` (member, own): one conditional write; `If-Match` makes it
/// optimistic (412 on a stale version); the new version comes back in `ETag`. The memo's terms
/// move in the author's own search index (one more write, only when its words changed).
pub struct PutTextMemo {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub notes: Arc<dyn NoteStore>,
    /// The author's own search index of their memos.
    pub index: Arc<dyn SearchIndex>,
}

#[async_trait]
impl Handler for PutTextMemo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let pre = precondition(req)?;
        let body: MemoBody = req.json(MAX_MEMO_STATE_BYTES * 2 + 4096)?;
        if body.state_json.len() > MAX_MEMO_STATE_BYTES {
            return Err(ApiError::PayloadTooLarge { limit: MAX_MEMO_STATE_BYTES });
        }
        let video_time = body.video_time.map(|t| crate::seconds("videoTime", t)).transpose()?;
        let now = now_rfc3339();
        let save = |expected: Option<u64>| {
            self.notes.save_memo(&video_id, &caller.user_id, &body.state_json, video_time, expected, &now)
        };
        let create = || async {
            let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?.ready()?;
            let memo = Memo {
                video_id: video_id.clone(),
                user_id: caller.user_id.clone(),
                space_id: m.video.space_id,
                state_json: body.state_json.clone(),
                video_time,
                version: 1,
                updated_at: now.clone(),
                checkpointed_version: None,
                indexed_terms: Some(search::note_index_step(
                    &Default::default(),
                    &search::note_terms(&body.state_json),
                    search::MAX_NOTE_INDEX_WRITES,
                )),
            };
            match self.notes.create_memo(&memo).await {
                Ok(()) => Ok(Some(memo)),
                // Another first save came first (a refused grant is answered as such).
                Err(StoreError::Condition(Guard::Memo)) => Ok(None),
                Err(e) => Err(ApiError::from(e)),
            }
        };
        // The memo, and the state it replaced (none: created).
        let (memo, previous) = match pre {
            Precondition::Never => {
                return Err(precondition_failed(
                    "a weak ETag never matches If-Match: send the memo's ETag as GET /videos/{videoId}/text-memo gives it",
                ));
            }
            Precondition::Version(0) | Precondition::Absent => match create().await? {
                Some(memo) => (memo, None),
                None => {
                    return Err(precondition_failed(
                        "the memo exists already: read it (GET /videos/{videoId}/text-memo), apply the change to it and save with its ETag in If-Match",
                    ));
                }
            },
            Precondition::Version(v) => match save(Some(v)).await? {
                SaveOutcome::Saved(memo, previous) => (*memo, Some(previous)),
                SaveOutcome::Stale => {
                    return Err(precondition_failed(
                        "the memo has another version now: read it again (GET /videos/{videoId}/text-memo), apply the change to it and save with its new ETag in If-Match",
                    ));
                }
                SaveOutcome::NoMemo => {
                    return Err(precondition_failed(
                        "there is no memo at that version: read it again (GET /videos/{videoId}/text-memo) and save with the ETag it gives",
                    ));
                }
            },
            Precondition::Exists => match save(None).await? {
                SaveOutcome::Saved(memo, previous) => (*memo, Some(previous)),
                _ => {
                    return Err(precondition_failed(
                        "there is no memo yet: save without If-Match (or with If-None-Match: *) to create it",
                    ));
                }
            },
            Precondition::None => match save(None).await? {
                SaveOutcome::Saved(memo, previous) => (*memo, Some(previous)),
                _ => match create().await? {
                    Some(memo) => (memo, None),
                    // A first save of another tab won: save on top of it.
                    None => match save(None).await? {
                        SaveOutcome::Saved(memo, previous) => (*memo, Some(previous)),
                        _ => return Err(ApiError::conflict("conflict", "the memo changed concurrently: save again")),
                    },
                },
            },
        };
        // The author's index moves the step the save recorded (nothing to write when the words are
        // the same; at most `MAX_NOTE_INDEX_WRITES` postings). The save stands if that fails.
        let status = if previous.is_none() { StatusCode::CREATED } else { StatusCode::OK };
        let before = previous.unwrap_or_default();
        let after = search::indexed_terms(&memo);
        if let Err(e) = self.index.index_notes(&memo.space_id, &video_id, &caller.user_id, &before, &after).await {
            tracing::warn!(video_id = %video_id, error = %e, "the memo's terms were not indexed");
        }
        let version = memo.version;
        with_etag(http::json(status, &MemoView::from(memo))?, version)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointView {
    checkpoint_id: String,
    state_json: String,
    video_time: Option<Seconds>,
    version: u64,
    created_at: String,
}

impl From<Checkpoint> for CheckpointView {
    fn from(c: Checkpoint) -> Self {
        Self {
            checkpoint_id: c.checkpoint_id,
            state_json: c.state_json,
            video_time: c.video_time,
            version: c.version,
            created_at: c.created_at,
        }
    }
}

/// `POST /videos/{videoId}/text-memo/history` (member, own): copies the latest state into the
/// history; an unchanged state is not copied twice (200 with the existing checkpoint).
pub struct CreateCheckpoint {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub notes: Arc<dyn NoteStore>,
    /// The checkpoints a member keeps per video, and their storage.
    pub quotas: Quotas,
}

#[async_trait]
impl Handler for CreateCheckpoint {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        // The memo read beside the membership: a removed member reads nothing back either.
        let (memo, _) = futures_util::try_join!(
            async { self.notes.memo(&video_id, &caller.user_id).await.map_err(ApiError::from) },
            video_member(self.catalog.as_ref(), &video_id, &caller.user_id),
        )?;
        let Some(memo) = memo else {
            return Err(ApiError::conflict(
                "no_memo",
                "there is no memo to checkpoint yet: save one first (PUT /videos/{videoId}/text-memo)",
            ));
        };
        let latest = |notes: Arc<dyn NoteStore>, video: VideoId, user| async move {
            let page = notes.history(&video, &user, vivid_domain::types::Limit::clamped(1), None).await?;
            page.items.into_iter().next().ok_or(ApiError::internal("a checkpointed memo has no history"))
        };
        if memo.checkpointed_version == Some(memo.version) {
            let existing = latest(Arc::clone(&self.notes), video_id, caller.user_id).await?;
            return http::json(StatusCode::OK, &CheckpointView::from(existing));
        }
        let checkpoint = Checkpoint {
            checkpoint_id: ulid::Ulid::new().to_string(),
            video_id: video_id.clone(),
            user_id: caller.user_id.clone(),
            space_id: memo.space_id,
            state_json: memo.state_json,
            video_time: memo.video_time,
            version: memo.version,
            created_at: now_rfc3339(),
        };
        match self.notes.checkpoint(&checkpoint, Limits::new(self.quotas.checkpoints_per_video, &self.quotas)).await {
            Ok(()) => {
                http::created(&format!("/videos/{video_id}/text-memo/history"), &CheckpointView::from(checkpoint))
            }
            // A concurrent checkpoint of the same version won.
            Err(StoreError::Condition(Guard::Checkpoint | Guard::Memo)) => {
                let existing = latest(Arc::clone(&self.notes), video_id, caller.user_id).await?;
                http::json(StatusCode::OK, &CheckpointView::from(existing))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// `GET /videos/{videoId}/text-memo/history` (member, own): newest first, paginated.
pub struct ListMemoHistory {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub notes: Arc<dyn NoteStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListMemoHistory {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let binding = format!("memo-history|video={video_id}|user={}", caller.user_id);
        let (limit, start) = self.cursors.page(req, &binding).await?;
        video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        let page = self.notes.history(&video_id, &caller.user_id, limit, start).await?;
        let items: Vec<CheckpointView> = page.items.into_iter().map(CheckpointView::from).collect();
        http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DrawingView<'a> {
    drawing_id: DrawingId,
    kind: DrawingKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_seconds: Option<Seconds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_seconds: Option<Seconds>,
    size_bytes: u64,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<&'a RawValue>,
}

impl<'a> DrawingView<'a> {
    fn new(d: Drawing, document: Option<&'a RawValue>) -> Self {
        Self {
            drawing_id: d.drawing_id,
            kind: d.kind,
            start_seconds: d.start_seconds,
            end_seconds: d.end_seconds,
            size_bytes: d.size_bytes,
            updated_at: d.updated_at,
            document,
        }
    }
}

/// `GET /videos/{videoId}/drawings` (member, own): the caller's drawings, without documents.
pub struct ListDrawings {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub notes: Arc<dyn NoteStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListDrawings {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let binding = format!("drawings|video={video_id}|user={}", caller.user_id);
        let (limit, start) = self.cursors.page(req, &binding).await?;
        video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?;
        let page = self.notes.drawings(&video_id, &caller.user_id, limit, start).await?;
        let items: Vec<DrawingView> = page.items.into_iter().map(|d| DrawingView::new(d, None)).collect();
        http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DrawingBody {
    kind: DrawingKind,
    start_seconds: Option<f64>,
    end_seconds: Option<f64>,
    document: Box<RawValue>,
}

/// `PUT /videos/{videoId}/drawings/{drawingId}` (member, own): creates or replaces a drawing;
/// documents above the table's budget are kept in the user-content bucket.
pub struct PutDrawing {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub notes: Arc<dyn NoteStore>,
    /// Keeps the documents too large for the table.
    pub media: Arc<dyn MediaStore>,
    /// The drawings a member keeps per video, and their storage.
    pub quotas: Quotas,
}

#[async_trait]
impl Handler for PutDrawing {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let drawing_id: DrawingId = req.path("drawingId")?;
        let body: DrawingBody = req.json(MAX_DRAWING_BYTES + 4096)?;
        let document = body.document.get();
        if document.len() > MAX_DRAWING_BYTES {
            return Err(ApiError::PayloadTooLarge { limit: MAX_DRAWING_BYTES });
        }
        let m = video_member(self.catalog.as_ref(), &video_id, &caller.user_id).await?.ready()?;
        // Kept to the millisecond outwards: an overlay never starts later nor ends earlier than
        // asked, so two distinct times stay distinct.
        let start = body.start_seconds.map(|t| crate::seconds_by("startSeconds", t, Seconds::floor)).transpose()?;
        let end = body.end_seconds.map(|t| crate::seconds_by("endSeconds", t, Seconds::ceil)).transpose()?;
        let placement = Placement::new(body.kind, start, end, m.video.duration_seconds)
            .map_err(|e| ApiError::unprocessable("invalid_placement", e.0))?;
        let (start_seconds, end_seconds) = match placement {
            Placement::Page => (None, None),
            Placement::Overlay { start, end } => (Some(start), Some(end)),
        };
        let large = document.len() > INLINE_DRAWING_BYTES;
        let object_key = large.then(|| drawing_object(&video_id, &caller.user_id, &drawing_id));
        if let Some(key) = &object_key {
            self.media.put(Bucket::User, key, "application/json", document.as_bytes().to_vec()).await?;
        }
        let drawing = Drawing {
            drawing_id,
            video_id,
            user_id: caller.user_id,
            space_id: m.video.space_id,
            kind: body.kind,
            start_seconds,
            end_seconds,
            size_bytes: document.len() as u64,
            updated_at: now_rfc3339(),
            document: (!large).then(|| document.to_owned()),
            object_key,
        };
        let previous = match self
            .notes
            .put_drawing(&drawing, Limits::new(self.quotas.drawings_per_video, &self.quotas))
            .await
        {
            Ok(previous) => previous,
            Err(e) => {
                // The document no item points at: removed (the one saved before is untouched).
                if let Some(key) = &drawing.object_key
                    && let Err(cleanup) = self.media.delete(Bucket::User, key).await
                {
                    tracing::warn!(key, error = %cleanup, "an unsaved drawing's document stays until its video goes");
                }
                return Err(e.into());
            }
        };
        if let Some(old) = previous.as_ref().and_then(|p| p.object_key.as_ref())
            && drawing.object_key.as_ref() != Some(old)
        {
            // The drawing is saved: the replaced document is removed, or, if that fails, left
            // under the video's prefix until the video goes (never read again).
            if let Err(e) = self.media.delete(Bucket::User, old).await {
                tracing::warn!(key = old, error = %e, "a replaced drawing's document stays until its video goes");
            }
        }
        let status = if previous.is_some() { StatusCode::OK } else { StatusCode::CREATED };
        http::json(status, &DrawingView::new(drawing, None))
    }
}

/// `GET /videos/{videoId}/drawings/{drawingId}` (member, own): one drawing with its document.
pub struct GetDrawing {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub notes: Arc<dyn NoteStore>,
    /// Reads a document kept outside the table.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for GetDrawing {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let drawing_id: DrawingId = req.path("drawingId")?;
        let (drawing, _) = futures_util::try_join!(
            async { self.notes.drawing(&video_id, &caller.user_id, &drawing_id).await.map_err(ApiError::from) },
            video_member(self.catalog.as_ref(), &video_id, &caller.user_id),
        )?;
        let mut drawing = drawing.ok_or(ApiError::NotFound("drawing"))?;
        let text = match (drawing.document.take(), &drawing.object_key) {
            (Some(inline), _) => inline,
            (None, Some(key)) => {
                // No document: a deletion removed it and has yet to remove the item.
                let bytes = self.media.get(Bucket::User, key).await?.ok_or(ApiError::NotFound("drawing"))?;
                String::from_utf8(bytes).map_err(ApiError::internal)?
            }
            (None, None) => return Err(ApiError::internal("a drawing without a document")),
        };
        let raw = RawValue::from_string(text).map_err(ApiError::internal)?;
        let mut resp = http::json(StatusCode::OK, &DrawingView::new(drawing, Some(&raw)))?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        Ok(resp)
    }
}

/// `DELETE /videos/{videoId}/drawings/{drawingId}` (member, own).
pub struct DeleteDrawing {
    pub auth: Arc<TokenVerifier>,
    /// The caller's access to the video.
    pub catalog: Arc<dyn VideoCatalog>,
    pub notes: Arc<dyn NoteStore>,
    /// Deletes a document kept outside the table.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for DeleteDrawing {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let drawing_id: DrawingId = req.path("drawingId")?;
        let notes = &self.notes;
        // A member's own drawing, read beside the membership: a removed member is a stranger.
        let (drawing, _) = futures_util::try_join!(
            async { notes.drawing(&video_id, &caller.user_id, &drawing_id).await.map_err(ApiError::from) },
            video_member(self.catalog.as_ref(), &video_id, &caller.user_id),
        )?;
        // The document first, the item last: a deletion that fails half-way leaves the drawing,
        // and deleting it again finishes it.
        let drawing = drawing.ok_or(ApiError::NotFound("drawing"))?;
        if let Some(key) = &drawing.object_key {
            self.media.delete(Bucket::User, key).await?;
        }
        let deleted = notes.delete_drawing(&video_id, &caller.user_id, &drawing_id).await?;
        // Replaced meanwhile by a save with its own document.
        if let Some(key) = deleted.and_then(|d| d.object_key).filter(|k| drawing.object_key.as_ref() != Some(k)) {
            self.media.delete(Bucket::User, &key).await?;
        }
        http::no_content()
    }
}
