//! `/spaces` and `/spaces/{spaceId}`.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_domain::{
    access::{Member, require_host, require_member},
    coverage::{CompletionThreshold, CoverageError, KAnonymity},
    deletion::{Deletion, DeletionInvoker},
    error::StoreError,
    quota::Quotas,
    spaces::{Membership, Role, Space, SpacePatch, SpaceStore},
    step_up,
    types::{Description, SpaceId, SpaceName, UserId, now_rfc3339, unix_now},
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
};
use vivid_tokens::TokenVerifier;

/// A space as its members see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceView {
    pub space_id: SpaceId,
    pub name: SpaceName,
    pub description: Description,
    pub personal: bool,
    pub host_id: UserId,
    pub role: Role,
    pub member_count: u32,
    pub video_count: u32,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcription: Option<vivid_domain::transcripts::Transcription>,
    /// The watched share, in percent, that completes a video here.
    pub completion_threshold: u8,
    /// The fewest distinct students a count of the class study map stands for.
    pub study_map_k: u8,
    /// How new videos and imports start: published, or a draft.
    pub default_visibility: vivid_domain::video::Visibility,
}

impl SpaceView {
    pub fn new(space: Space, role: Role) -> Self {
        let (completion_threshold, study_map_k) = (space.completion().get(), space.study_k().get());
        let default_visibility = space.new_video_visibility();
        Self {
            space_id: space.space_id,
            name: space.name,
            description: space.description,
            personal: space.personal,
            host_id: space.host_id,
            role,
            member_count: space.member_count,
            video_count: space.video_count,
            created_at: space.created_at,
            updated_at: space.updated_at,
            transcription: space.transcription,
            completion_threshold,
            study_map_k,
            default_visibility,
        }
    }
}

impl From<Member> for SpaceView {
    fn from(m: Member) -> Self {
        Self::new(m.space, m.membership.role)
    }
}

/// `GET /spaces`: the caller's spaces, personal space first.
pub struct ListSpaces {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListSpaces {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let binding = format!("spaces|user={}", caller.user_id);
        let (limit, start) = self.cursors.page(req, &binding).await?;
        let page = self.spaces.spaces_of(&caller.user_id, limit, start).await?;
        let items = page.items.into_iter().map(|(m, s)| SpaceView::new(s, m.role)).collect();
        http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewSpace {
    name: SpaceName,
    #[serde(default)]
    description: Description,
}

/// `POST /spaces`: the caller becomes host and first member.
pub struct CreateSpace {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    /// The caller's count of hosted spaces.
    pub quotas: Quotas,
    /// A new space's transcription ([`vivid_domain::transcripts::Transcription::for_new_space`]).
    pub transcription: Option<vivid_domain::transcripts::Transcription>,
}

#[async_trait]
impl Handler for CreateSpace {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let body: NewSpace = req.json(DEFAULT_MAX_BODY)?;
        let now = now_rfc3339();
        let mut space = Space::new(body.name, body.description, caller.user_id.clone(), false, &now);
        space.transcription = self.transcription.clone();
        let host = Membership {
            space_id: space.space_id.clone(),
            user_id: caller.user_id,
            role: Role::Host,
            personal: false,
            joined_at: now,
        };
        // A live token of a deleted account creates nothing: `Condition(Account)`, a 401.
        self.spaces.create_space(&space, &host, self.quotas.hosted_spaces).await?;
        let location = format!("/spaces/{}", space.space_id);
        http::created(&location, &SpaceView::new(space, Role::Host))
    }
}

/// `GET /spaces/{spaceId}`: one round trip for the space and the caller's role.
pub struct GetSpace {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
}

#[async_trait]
impl Handler for GetSpace {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let member = require_member(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        http::json(StatusCode::OK, &SpaceView::from(member))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SpaceChanges {
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    name: Option<SpaceName>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    description: Option<Description>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    transcription: Option<TranscriptionChange>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::some_whole")]
    completion_threshold: Option<u32>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::some_whole")]
    study_map_k: Option<u32>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    default_visibility: Option<vivid_domain::video::Visibility>,
}

impl SpaceChanges {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.transcription.is_none()
            && self.completion_threshold.is_none()
            && self.study_map_k.is_none()
            && self.default_visibility.is_none()
    }
}

/// A setting out of its range: 422 `invalid_body`, naming the rule.
fn setting<T>(value: Option<u32>, parse: fn(u32) -> Result<T, CoverageError>) -> Result<Option<T>, ApiError> {
    value.map(parse).transpose().map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TranscriptionChange {
    enabled: bool,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    language: Option<String>,
}

/// A language code Amazon Transcribe takes: `en-US`, `de-DE`, `zh-TW`.
fn transcribe_language(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && b[0..2].iter().all(u8::is_ascii_lowercase)
        && b[2] == b'-'
        && b[3..5].iter().all(u8::is_ascii_uppercase)
}

/// `PATCH /spaces/{spaceId}`: rename or describe (host).
pub struct UpdateSpace {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
}

#[async_trait]
impl Handler for UpdateSpace {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let changes: SpaceChanges = req.json(DEFAULT_MAX_BODY)?;
        if changes.is_empty() {
            return Err(ApiError::unprocessable(
                "empty_patch",
                "give a name, a description, transcription, completionThreshold, studyMapK, defaultVisibility or several",
            ));
        }
        let completion_threshold = setting(changes.completion_threshold, CompletionThreshold::new)?;
        let study_map_k = setting(changes.study_map_k, KAnonymity::new)?;
        let default_visibility = changes
            .default_visibility
            .map(vivid_domain::video::default_for_space)
            .transpose()
            .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
        let transcription = match changes.transcription {
            Some(t) if t.language.as_deref().is_some_and(|l| !transcribe_language(l)) => {
                return Err(ApiError::unprocessable(
                    "invalid_language",
                    "transcription.language must be a language code such as en-US or de-DE (absent: identified)",
                ));
            }
            Some(t) => Some(vivid_domain::transcripts::Transcription { enabled: t.enabled, language: t.language }),
            None => None,
        };
        let member = require_host(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let patch = SpacePatch {
            name: changes.name,
            description: changes.description,
            transcription,
            completion_threshold,
            study_map_k,
            default_visibility,
        };
        let space = match self.spaces.update_space(&space_id, &patch, &now_rfc3339()).await {
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("space")),
            other => other?,
        };
        http::json(StatusCode::OK, &SpaceView::new(space, member.membership.role))
    }
}

/// `DELETE /spaces/{spaceId}` (host; never the personal space): marks the space as deleting — it
/// is gone for every reader from then on — and starts the deletion worker, which deletes its
/// videos, media and members' data; 202. Asked again while the work runs (or after a start that
/// failed), the same 202 and the worker started again: every step of it is safe to repeat. It
/// needs a recent sign-in (`vivid_domain::step_up`): 401 `reauthentication_required` otherwise.
pub struct DeleteSpace {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    pub deletions: Arc<dyn DeletionInvoker>,
}

#[async_trait]
impl Handler for DeleteSpace {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let mut access = self.spaces.space_access(&space_id, &caller.user_id).await?;
        // A space being deleted is its host's to delete again (the same answer).
        if let Some(a) = access.as_mut() {
            a.space.deleting = false;
        }
        let member = require_host(access)?;
        if member.space.personal {
            return Err(ApiError::conflict("personal_space", "the personal space cannot be deleted"));
        }
        // Step-up: only a recent sign-in deletes a space (asked of its host only, once the
        // request could otherwise succeed).
        step_up::require_recent_sign_in(caller.auth_time, unix_now())?;
        match self.spaces.tombstone_space(&space_id).await {
            // Gone since it was read: another deletion finished.
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("space")),
            other => other?,
        }
        self.deletions.start(&Deletion::Space { space_id: space_id.clone() }).await?;
        tracing::info!(space_id = %space_id, "space deletion started");
        crate::deleting("spaceId", space_id.as_str())
    }
}
