//! Typed API errors and their single mapping to `application/problem+json` (RFC 9457).

use http::StatusCode;
use serde::Serialize;

/// Everything a route can answer with besides success. The variant decides the HTTP status,
/// the `code` is a stable machine-readable string, the message is the human `detail`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be parsed (bad JSON, malformed id, bad cursor, bad query).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401: no credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 403: the caller is a member of the space but lacks the role.
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// 404: the resource does not exist or the caller may not know it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the method is not served on this path.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with the resource's state.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 412: a conditional request's precondition failed.
    #[error("{0}")]
    PreconditionFailed(&'static str),
    /// 413: the body is larger than the route accepts.
    #[error("the request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not `application/json`.
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// 422: well-formed JSON that breaks a rule (missing field, unknown field, over-long string...).
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// 502: a third party (Google, Webex) failed or answered something unreadable.
    #[error("{detail}")]
    Upstream { code: &'static str, detail: String },
    /// 500: anything unexpected. The cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
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

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Upstream { code, .. } => code,
            Self::Unauthenticated(_) => "unauthenticated",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
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
            request_id: request_id.map(str::to_owned),
        }
    }
}

/// Failures of a storage adapter, independent of the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition on the write did not hold (the item exists, is gone, or changed).
    #[error("condition failed: {0}")]
    Condition(&'static str),
    /// A page start key that does not belong to the queried partition (an edited cursor).
    #[error("the page start is outside the query")]
    ForeignStart,
    /// The backend failed or answered something we cannot read.
    #[error("storage backend failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Backend(cause.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Condition(what) => ApiError::conflict("conflict", format!("the {what} changed concurrently")),
            StoreError::ForeignStart => {
                ApiError::bad_request("invalid_cursor", "the cursor is malformed or belongs to another query")
            }
            StoreError::Backend(cause) => ApiError::Internal(cause),
        }
    }
}
