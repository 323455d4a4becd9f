//! Typed API errors and their single mapping to `application/problem+json` (RFC 9457).

use std::borrow::Cow;

use http::StatusCode;
use serde::Serialize;
use vivid_domain::{
    access::Denied,
    connectors::{CipherError, ConnectorError, Provider},
    error::{Guard, StoreError},
    identity::IdentityError,
    imports::InvokeError,
    invitations::{InviteRefused, InviteRuleError},
    lti::{roster::SyncError, services::ServiceError},
    oidc::OidcError,
    playback::SignError,
    quota::{Exceeded, Quota},
    sessions::{IssueError, RandomError, SessionError},
};
use vivid_tokens::Unverified;

/// Everything a route can answer with besides success. The variant decides the HTTP status,
/// the `code` is a stable machine-readable string, the message is the human `detail`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be parsed (bad JSON, malformed id, bad cursor, bad query).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401: no credentials, or credentials that do not verify; the detail says which and how to
    /// get valid ones.
    #[error("{0}")]
    Unauthenticated(Cow<'static, str>),
    /// 401: the access token verifies but its account was deleted since it was issued.
    #[error("the account was deleted; sign in again to start a new one")]
    AccountDeleted,
    /// 401: the token is valid but its sign-in is too old for what was asked (a destructive
    /// deletion): sign in again, then repeat the request (RFC 9470 step-up).
    #[error("{0}")]
    ReauthenticationRequired(vivid_domain::step_up::SignInTooOld),
    /// 403: the caller is a member of the space but lacks the role.
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// 404: the resource does not exist or the caller may not know it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 404 `not_found` whose whole detail is given: it says where to go instead (no route serves
    /// the path: where the routes are listed; no account has the address: invite it).
    #[error("{0}")]
    NotFoundThen(&'static str),
    /// 405: the method is not served on this path (`Allow` names the ones that are).
    #[error("this path does not take this method: the Allow header lists the methods it does")]
    MethodNotAllowed,
    /// 409: the request conflicts with the resource's state.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 410: the thing named existed but is no longer usable (an expired, withdrawn or used-up
    /// invitation): the `code` says which, for a UI to explain.
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    /// 412: a conditional request's precondition failed.
    #[error("{0}")]
    PreconditionFailed(&'static str),
    /// 413: the body is larger than the route accepts.
    #[error("the request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 413: the upload a request announces is larger than allowed.
    #[error("the file must not be larger than {limit} bytes")]
    UploadTooLarge { limit: u64 },
    /// 415: the body is not of the type the route takes (`application/json` for most).
    #[error("the request body must be {0}, with a Content-Type saying so")]
    UnsupportedMediaType(&'static str),
    /// 422: well-formed JSON that breaks a rule (missing field, unknown field, over-long string...).
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// 409 (a count: delete something first) or 429 (a daily budget: wait): a quota.
    #[error("{}", quota_detail(.0))]
    QuotaExceeded(Exceeded),
    /// 429: this caller (a user, or an address without a valid token) sent more requests this
    /// minute than `limit`; `Retry-After` says when their window ends. Others are still served.
    #[error("more than {limit} requests a minute from this caller: try again in {retry_after_secs} seconds")]
    RateLimited { limit: u64, retry_after_secs: u64 },
    /// 502: a third party (Google, Webex) failed or answered something unreadable.
    #[error("{detail}")]
    Upstream { code: &'static str, detail: String },
    /// 503: a backend we store in was throttled or briefly out of service; the same request
    /// may pass after `Retry-After` seconds. The cause is logged, never shown.
    #[error("the service is busy or briefly unavailable; try again in a few seconds")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 500: anything unexpected. The cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// How long a client waits before repeating a request that was answered 503
/// `service_unavailable` (the `Retry-After` header): throttling and brief outages pass in seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u32 = 2;

/// The RFC 9457 problem document, with our stable `code` extension member.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    /// The quota's limit, on a `*_quota_exceeded` problem; requests a minute on `rate_limited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The detail of 400 `invalid_cursor`, wherever a list refuses its cursor.
pub const INVALID_CURSOR: &str =
    "the cursor is malformed or belongs to another query: list again from the start, without cursor";

impl ApiError {
    /// 400 `invalid_cursor`: a list's cursor is not one of its own pages'.
    pub fn invalid_cursor() -> Self {
        Self::bad_request("invalid_cursor", INVALID_CURSOR)
    }
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest { code, detail: detail.into() }
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden { code, detail: detail.into() }
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict { code, detail: detail.into() }
    }
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unprocessable { code, detail: detail.into() }
    }
    pub fn upstream(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Upstream { code, detail: detail.into() }
    }
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }
    pub fn unavailable(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(cause.into())
    }
    /// 401 `unauthenticated`; `detail` says what was missing or refused and how to get valid
    /// credentials.
    pub fn unauthenticated(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Unauthenticated(detail.into())
    }
    /// 404 `not_found` for a path no route serves (the `$default` route).
    pub fn no_route() -> Self {
        Self::NotFoundThen(
            "no route serves this path: the API's routes are listed in its OpenAPI document (docs/openapi.yaml)",
        )
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) | Self::AccountDeleted | Self::ReauthenticationRequired(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::NotFoundThen(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } | Self::UploadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::QuotaExceeded(e) if e.quota.resets_daily() => StatusCode::TOO_MANY_REQUESTS,
            Self::QuotaExceeded(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Gone { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Upstream { code, .. } => code,
            Self::Unauthenticated(_) => "unauthenticated",
            Self::AccountDeleted => "account_deleted",
            Self::ReauthenticationRequired(_) => "reauthentication_required",
            Self::NotFound(_) | Self::NotFoundThen(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UploadTooLarge { .. } => "upload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::QuotaExceeded(e) => quota_code(e.quota),
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The one place an error becomes a problem document.
    pub fn to_problem(&self, request_id: Option<&str>) -> Problem {
        let status = self.status();
        let detail = match self {
            Self::Internal(_) => "an unexpected error occurred; quote the request id when reporting it".to_owned(),
            other => other.to_string(),
        };
        Problem {
            kind: format!("https://vivid.dev/problems/{}", self.code().replace('_', "-")),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            code: self.code(),
            limit: match self {
                Self::QuotaExceeded(e) => Some(e.limit),
                Self::UploadTooLarge { limit } => Some(*limit),
                Self::RateLimited { limit, .. } => Some(*limit),
                _ => None,
            },
            request_id: request_id.map(str::to_owned),
        }
    }
}

/// The one mapping from the domain's errors to HTTP: each domain error names what went wrong,
/// this decides the status, the stable `code` and what the client may learn.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Condition(Guard::Quota(e)) => ApiError::QuotaExceeded(e),
            StoreError::Condition(Guard::Account) => ApiError::AccountDeleted,
            StoreError::Condition(Guard::Removed) => InviteRefused::Removed.into(),
            StoreError::Condition(Guard::Grant) => ApiError::NotFound("video"),
            StoreError::Condition(guard) => {
                ApiError::conflict("conflict", format!("the {guard} changed concurrently: read it again and retry"))
            }
            StoreError::ForeignStart => ApiError::invalid_cursor(),
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Backend(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<InviteRefused> for ApiError {
    fn from(e: InviteRefused) -> Self {
        let detail = e.to_string();
        match e {
            InviteRefused::Expired => ApiError::Gone { code: "invitation_expired", detail },
            InviteRefused::Revoked => ApiError::Gone { code: "invitation_revoked", detail },
            InviteRefused::UsedUp => ApiError::Gone { code: "invitation_used_up", detail },
            InviteRefused::OtherAccount => ApiError::forbidden("invitation_for_another_email", detail),
            InviteRefused::Removed => ApiError::forbidden("removed_from_space", detail),
        }
    }
}

impl From<InviteRuleError> for ApiError {
    fn from(e: InviteRuleError) -> Self {
        match e {
            InviteRuleError::Random(detail) => ApiError::internal(detail),
            InviteRuleError::HostRole => ApiError::unprocessable("invalid_role", e.to_string()),
            InviteRuleError::Expiry => ApiError::unprocessable("invalid_expiry", e.to_string()),
            InviteRuleError::MaxUses => ApiError::unprocessable("invalid_max_uses", e.to_string()),
            InviteRuleError::EmailCount => ApiError::unprocessable("invalid_emails", e.to_string()),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(e: Denied) -> Self {
        match e {
            Denied::Unknown => ApiError::NotFound("space"),
            Denied::HostOnly => ApiError::forbidden("host_only", e.to_string()),
            Denied::ManagersOnly => ApiError::forbidden("managers_only", e.to_string()),
        }
    }
}

impl From<vivid_domain::step_up::SignInTooOld> for ApiError {
    fn from(e: vivid_domain::step_up::SignInTooOld) -> Self {
        ApiError::ReauthenticationRequired(e)
    }
}

impl From<Unverified> for ApiError {
    fn from(e: Unverified) -> Self {
        ApiError::unauthenticated(format!("{}: get a new access token from POST /auth/refresh, or sign in again", e.0))
    }
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Refused => {
                ApiError::unauthenticated("the refresh token is invalid, expired or revoked: sign in again")
            }
            SessionError::EmailTaken => ApiError::conflict("email_taken", e.to_string()),
            SessionError::AccountDeleting => ApiError::conflict("account_deleting", e.to_string()),
            SessionError::Store(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::InvalidToken(why) => ApiError::unauthenticated(format!("{why}: sign in with Google again")),
            IdentityError::Unverified => ApiError::unauthenticated(
                "the Google account's e-mail address is not verified: verify it with Google, or sign in with another Google account",
            ),
            IdentityError::BadCode => ApiError::bad_request(
                "invalid_code",
                "the authorization code was refused: start the sign-in again (GET /auth/google/login)",
            ),
            IdentityError::Unavailable(detail) => {
                tracing::warn!(detail, "identity provider unavailable");
                ApiError::upstream("google_unavailable", "Google did not answer properly; try again later")
            }
        }
    }
}

impl From<OidcError> for ApiError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::UnknownProvider => ApiError::NotFound("sign-in provider"),
            OidcError::NotLinked => ApiError::NotFound("identity"),
            OidcError::Identity(IdentityError::InvalidToken(why)) => {
                ApiError::unauthenticated(format!("{why}: sign in with your institution again"))
            }
            OidcError::Identity(IdentityError::BadCode) => ApiError::bad_request(
                "invalid_code",
                "the authorization code was refused: start the sign-in again (GET /auth/oidc/{provider}/login)",
            ),
            OidcError::Identity(IdentityError::Unverified) | OidcError::Unverified => {
                ApiError::forbidden("email_not_verified", OidcError::Unverified.to_string())
            }
            OidcError::Identity(IdentityError::Unavailable(detail)) => {
                tracing::warn!(detail, "OpenID Connect provider unavailable");
                ApiError::upstream(
                    "idp_unavailable",
                    "the institution's sign-in provider did not answer properly; try again later",
                )
            }
            OidcError::DomainNotAllowed(_) => ApiError::forbidden("email_domain_not_allowed", e.to_string()),
            OidcError::LinkRequired => ApiError::conflict("link_required", e.to_string()),
            OidcError::LinkedElsewhere => ApiError::conflict("identity_linked_elsewhere", e.to_string()),
            OidcError::LastIdentity => ApiError::conflict("last_identity", e.to_string()),
            OidcError::TooMany => ApiError::conflict("too_many_identities", e.to_string()),
            OidcError::AccountDeleting => ApiError::conflict("account_deleting", e.to_string()),
            OidcError::Store(e) => e.into(),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        let e = match e {
            SyncError::Store(e) => return e.into(),
            SyncError::Platform(e) => e,
        };
        tracing::warn!(error = %e, "LMS service call failed");
        let detail = match e {
            ServiceError::Signing(_) => return ApiError::unavailable(e),
            ServiceError::Refused(_) => {
                "the LMS refused the tool's credentials: its administrator checks the tool's registration (client id, keys)"
            }
            ServiceError::NotFound => {
                "the LMS no longer has this course's service: launch the tool from the course again"
            }
            ServiceError::TooLarge(_) => "the course's roster is longer than the tool takes (docs/quotas.md)",
            ServiceError::Unreadable(_) | ServiceError::Conflict => {
                "the LMS answered something that is not the LTI service's format"
            }
            ServiceError::RateLimited | ServiceError::Unavailable(_) => {
                "the LMS did not answer properly; try again later"
            }
        };
        ApiError::upstream("platform_unavailable", detail)
    }
}

/// A connector failure, for the platform `provider` the route works with.
pub fn connector_problem(provider: Provider, e: ConnectorError) -> ApiError {
    let name = provider.title();
    // Where the caller (re)connects the platform.
    let connect = format!("connect {name} again (GET /{provider}/login)");
    match e {
        ConnectorError::NotConnected(p) => ApiError::Conflict {
            code: not_connected_code(p),
            detail: format!("{} is not connected: connect it first (GET /{p}/login)", p.title()),
        },
        ConnectorError::ReconnectRequired | ConnectorError::Unauthorized => ApiError::Conflict {
            code: reconnect_code(provider),
            detail: format!("the {name} connection has expired or was revoked: {connect}"),
        },
        ConnectorError::RateLimited(_) => ApiError::Upstream {
            code: rate_limited_code(provider),
            detail: format!("{name} is busy; try again shortly"),
        },
        ConnectorError::NotFound => ApiError::NotFound("recording"),
        ConnectorError::BadCode => {
            ApiError::bad_request("invalid_code", format!("{name} refused the authorization code: {connect}"))
        }
        ConnectorError::BadState => ApiError::bad_request(
            "invalid_state",
            format!("the connect state is missing, expired, already used or another user's: {connect}"),
        ),
        ConnectorError::Rejected(detail) | ConnectorError::Unavailable(detail) => {
            tracing::warn!(detail, provider = %provider, "platform unavailable");
            ApiError::Upstream {
                code: unavailable_code(provider),
                detail: format!("{name} did not answer properly; try again later"),
            }
        }
        ConnectorError::UnsupportedFormat(format) => {
            let what = if format == "unknown" {
                "recordings of unknown format".to_owned()
            } else {
                format!("{format} recordings")
            };
            ApiError::unprocessable(
                "unsupported_recording_format",
                format!(
                    "{name}'s {what} cannot be imported: record as MP4 in {name}, or download the recording and upload it"
                ),
            )
        }
        ConnectorError::Cipher(e) => ApiError::internal(e),
        ConnectorError::Store(e) => e.into(),
    }
}

/// The stable code a client explains a quota with.
fn quota_code(q: Quota) -> &'static str {
    match q {
        Quota::HostedSpaces => "space_quota_exceeded",
        Quota::VideosPerSpace => "video_quota_exceeded",
        Quota::SnapshotsPerVideo => "snapshot_quota_exceeded",
        Quota::DrawingsPerVideo => "drawing_quota_exceeded",
        Quota::CheckpointsPerVideo => "checkpoint_quota_exceeded",
        Quota::BookmarksPerVideo => "bookmark_quota_exceeded",
        Quota::DailyTranscodeBytes => "transcode_budget_exceeded",
        Quota::DailyInvitationMails => "invitation_mail_quota_exceeded",
        Quota::DailyTranscodeMinutes => "transcode_minutes_exceeded",
        Quota::DailyTranscribeMinutes => "transcribe_minutes_exceeded",
        Quota::StorageBytes => "storage_quota_exceeded",
    }
}

fn quota_detail(e: &Exceeded) -> String {
    // A count at its limit: deleting one makes room.
    let full = |what: &str| format!("{what}, the most allowed: delete one first");
    match e.quota {
        Quota::HostedSpaces => full(&format!("you already host {} spaces", e.limit)),
        Quota::VideosPerSpace => full(&format!("the space already holds {} videos", e.limit)),
        Quota::SnapshotsPerVideo => full(&format!("you have {} snapshots of this video", e.limit)),
        Quota::DrawingsPerVideo => full(&format!("you have {} drawings on this video", e.limit)),
        // Checkpoints are history, not deleted one by one (docs/quotas.md).
        Quota::CheckpointsPerVideo => format!(
            "this memo has {} checkpoints, the most allowed: it still saves, but keeps no more checkpoints",
            e.limit
        ),
        Quota::BookmarksPerVideo => full(&format!("you have {} bookmarks in this video", e.limit)),
        Quota::DailyTranscodeBytes => {
            format!("today's transcoding budget of {} bytes would be passed: try again after midnight UTC", e.limit)
        }
        Quota::DailyInvitationMails => format!(
            "you may send {} invitation e-mails a day and this request would pass that: invite fewer addresses, share a code, or try again after midnight UTC",
            e.limit
        ),
        Quota::DailyTranscodeMinutes => {
            format!("today's {} minutes of transcoding are used up: try again after midnight UTC", e.limit)
        }
        Quota::DailyTranscribeMinutes => {
            format!("today's {} minutes of transcription are used up: try again after midnight UTC", e.limit)
        }
        Quota::StorageBytes => format!(
            "your snapshots, drawings and memo checkpoints would pass your {} bytes of storage: delete some first",
            e.limit
        ),
    }
}

fn not_connected_code(p: Provider) -> &'static str {
    match p {
        Provider::Webex => "webex_not_connected",
        Provider::Zoom => "zoom_not_connected",
    }
}

fn reconnect_code(p: Provider) -> &'static str {
    match p {
        Provider::Webex => "webex_reconnect_required",
        Provider::Zoom => "zoom_reconnect_required",
    }
}

fn rate_limited_code(p: Provider) -> &'static str {
    match p {
        Provider::Webex => "webex_rate_limited",
        Provider::Zoom => "zoom_rate_limited",
    }
}

fn unavailable_code(p: Provider) -> &'static str {
    match p {
        Provider::Webex => "webex_unavailable",
        Provider::Zoom => "zoom_unavailable",
    }
}

macro_rules! internal_from {
    ($($ty:ty),* $(,)?) => {
        $(impl From<$ty> for ApiError {
            fn from(e: $ty) -> Self {
                ApiError::internal(e)
            }
        })*
    };
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Unavailable(_) => ApiError::unavailable(e),
            InvokeError::Failed(_) => ApiError::internal(e),
        }
    }
}

impl From<SignError> for ApiError {
    fn from(e: SignError) -> Self {
        match e {
            SignError::KeyUnavailable(_) => ApiError::unavailable(e),
            SignError::Failed(_) => ApiError::internal(e),
        }
    }
}

internal_from!(RandomError, IssueError, CipherError);
