//! `POST /spaces/{spaceId}/engagement-export` (host, co-host): the class's engagement as a CSV of
//! students × videos (`vivid_domain::engagement`), written to the user-content bucket and offered
//! as a download link that works for 15 minutes. For classes too large to page through in the
//! class views; one request reads the whole class (one query per video, pages of 100 members),
//! so a space exports once a minute at most (429 before), and a class past the bounds is refused
//! before anything is read.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt, stream};
use lambda_http::{Body, Response};
use serde::Serialize;

use vivid_domain::{
    access::require_manager,
    engagement::{DOWNLOAD_TTL, Engagement, EngagementStore, Student, export_key},
    media::{Bucket, MediaStore},
    spaces::{Role, SpaceStore},
    types::{Limit, SpaceId, rfc3339_at, unix_now},
    users::UserStore,
    video::VideoCatalog,
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::members::users_of;

/// Videos whose class is read at once.
const CONCURRENT_VIDEOS: usize = 8;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportView {
    /// A GET of the CSV, until `expiresAt`.
    download_url: String,
    expires_at: String,
    students: usize,
    videos: usize,
    bytes: usize,
}

/// `POST /spaces/{spaceId}/engagement-export` (host, co-host).
pub struct ExportEngagement {
    pub auth: Arc<TokenVerifier>,
    /// The caller's role; the members' standings, a page at a time.
    pub spaces: Arc<dyn SpaceStore>,
    /// The space's videos.
    pub catalog: Arc<dyn VideoCatalog>,
    /// Each video's progress items; the space's export claim.
    pub engagement: Arc<dyn EngagementStore>,
    /// The students' names and addresses.
    pub users: Arc<dyn UserStore>,
    /// The file and its link.
    pub media: Arc<dyn MediaStore>,
}

impl ExportEngagement {
    /// Every participant of the space, with their standing.
    async fn students(&self, space: &SpaceId, into: &mut Engagement) -> Result<(), ApiError> {
        let mut start = None;
        loop {
            let page = self.spaces.standings(space, Limit::clamped(Limit::MAX), start).await?;
            let standings: Vec<_> = page.items.into_iter().filter(|(m, _)| m.role == Role::Participant).collect();
            let memberships: Vec<_> = standings.iter().map(|(m, _)| m.clone()).collect();
            let mut users = users_of(self.users.as_ref(), &memberships).await?;
            for (m, standing) in standings {
                // An account deleted meanwhile has no row.
                if let Some(user) = users.remove(&m.user_id) {
                    into.add_student(Student {
                        user_id: m.user_id,
                        name: user.name,
                        email: user.email,
                        joined_at: m.joined_at,
                        standing,
                    });
                }
            }
            match page.next {
                Some(next) => start = Some(next),
                None => return Ok(()),
            }
        }
    }
}

#[async_trait]
impl Handler for ExportEngagement {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let manager = require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let mut engagement = Engagement::new(self.catalog.all_videos(&space_id).await?);
        let members = usize::try_from(manager.space.member_count).unwrap_or(usize::MAX);
        engagement.fits(members).map_err(|e| ApiError::unprocessable("export_too_large", e.to_string()))?;
        if let Some(retry_after_secs) = self.engagement.claim_export(&space_id, unix_now()).await? {
            return Err(ApiError::RateLimited { limit: 1, retry_after_secs });
        }
        self.students(&space_id, &mut engagement).await?;
        let ids: Vec<_> = engagement.videos().iter().map(|v| v.video_id.clone()).collect();
        let columns: Vec<_> = stream::iter(ids.iter().cloned().enumerate())
            .map(|(i, video)| {
                let progress = Arc::clone(&self.engagement);
                async move { progress.class_progress(&video).await.map(|p| (i, p)) }
            })
            .buffer_unordered(CONCURRENT_VIDEOS)
            .try_collect()
            .await?;
        for (i, items) in columns {
            engagement.add_progress(i, items);
        }
        let csv = engagement.to_csv().map_err(ApiError::internal)?;
        let key = export_key(&space_id, &ulid::Ulid::new());
        let bytes = csv.len();
        self.media.put(Bucket::User, &key, "text/csv; charset=utf-8", csv).await?;
        // A space whose deletion began meanwhile keeps no export (its deletion may have swept
        // the prefix before this file was written).
        if self.spaces.get_space(&space_id).await?.is_none_or(|s| s.deleting) {
            self.media.delete(Bucket::User, &key).await?;
            return Err(ApiError::NotFound("space"));
        }
        let expires_at = rfc3339_at(unix_now().saturating_add(DOWNLOAD_TTL.as_secs()));
        let download_url = self.media.presign_get(Bucket::User, &key, DOWNLOAD_TTL).await?;
        tracing::info!(space = %space_id, students = engagement.students(), videos = ids.len(), bytes, "engagement exported");
        let view = ExportView { download_url, expires_at, students: engagement.students(), videos: ids.len(), bytes };
        http::json(StatusCode::OK, &view)
    }
}
