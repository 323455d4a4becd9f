//! Failures of the storage ports, independent of the backend.

/// The guard of a conditional write that did not hold: which item existed, was missing or had
/// changed. Callers match on it; nothing is matched by string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Guard {
    #[error("user")]
    User,
    #[error("e-mail address")]
    Email,
    #[error("Google account link")]
    Google,
    #[error("space")]
    Space,
    #[error("membership")]
    Membership,
    #[error("video")]
    Video,
    #[error("memo")]
    Memo,
    #[error("checkpoint")]
    Checkpoint,
    #[error("drawing")]
    Drawing,
    #[error("refresh token")]
    Refresh,
    #[error("refresh-token family")]
    Family,
    #[error("multipart upload")]
    Upload,
    #[error("connection")]
    Connection,
    /// The caller's account (its `PROFILE`) is gone: a write on behalf of a deleted user, made
    /// with an access token issued before the deletion.
    #[error("account")]
    Account,
    /// A space's import of one platform recording (a recording is imported once per space).
    #[error("recording import")]
    Recording,
    /// An invitation that no longer admits (revoked, expired or used up meanwhile).
    #[error("invitation")]
    Invitation,
    /// A manager removed the user from the space: they rejoin only when a manager invites
    /// them again (not with a shareable code).
    #[error("removal from the space")]
    Removed,
    /// The caller's live grant on a video, checked in a member's own write: their membership,
    /// a space and a video that are not being deleted (and, for a new item, a ready video).
    /// Answered as for a stranger: the video is not found.
    #[error("access")]
    Grant,
    #[error("item")]
    Item,
    /// A counted write would pass a quota.
    #[error("{} quota", .0.quota)]
    Quota(crate::quota::Exceeded),
}

/// Failures of a storage adapter (table or object store).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition on the write did not hold.
    #[error("condition failed: the {0} changed, exists or is gone")]
    Condition(Guard),
    /// A page start key that does not belong to the queried partition (an edited cursor).
    #[error("the page start is outside the query")]
    ForeignStart,
    /// The backend is throttled or out of service for now (throttling, a 5xx, a timeout, a
    /// connection that failed or broke off): the call did not happen, and trying again a moment
    /// later may pass. HTTP answers it with 503 and `Retry-After`; an event consumer fails so
    /// that Lambda delivers the event again.
    #[error("storage backend unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The backend failed or answered something we cannot read.
    #[error("storage backend failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Backend(cause.into())
    }

    pub fn unavailable(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(cause.into())
    }

    /// Whether trying again later may succeed (the backend was throttled or unavailable).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// Whether this is the failed guard `guard`.
    pub fn is(&self, guard: Guard) -> bool {
        matches!(self, Self::Condition(g) if *g == guard)
    }
}
