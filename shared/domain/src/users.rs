//! People: a user and their personal space.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    connectors::Provider,
    error::StoreError,
    spaces::Space,
    types::{Description, Email, PersonName, SpaceId, SpaceName, UserId},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    pub personal_space_id: SpaceId,
    pub created_at: String,
    /// The Google account's subject, when the user signed up with Google.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_sub: Option<String>,
    /// Set when the account's deletion has begun: it can no longer sign in, refresh or write,
    /// and the deletion worker removes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleting: bool,
}

impl User {
    /// A new user and their personal space ("Personal", hosted by them, not deletable). The
    /// name is an identity provider's, kept cleaned to a [`PersonName`] (no control or
    /// bidirectional characters, at most 200 characters; none usable: the address's local part).
    pub fn sign_up(email: Email, name: String, picture: Option<String>, now: &str) -> (User, Space) {
        let name = PersonName::from_provider(&name, &email).into();
        let user_id = UserId::generate();
        let personal = Space::new(SpaceName::personal(), Description::default(), user_id.clone(), true, now);
        let user = User {
            user_id,
            email,
            name,
            picture,
            personal_space_id: personal.space_id.clone(),
            created_at: now.to_owned(),
            google_sub: None,
            deleting: false,
        };
        (user, personal)
    }
}

/// A user with the platforms they have connected and what they use of their quotas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user: User,
    pub connected: Vec<Provider>,
    pub usage: Usage,
}

/// The counted part of a user's quotas (per-space and per-video counts are shown with those).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Spaces they host besides their personal space.
    pub hosted_spaces: u64,
    /// Bytes sent to transcoding today (UTC).
    pub transcode_bytes_today: u64,
    /// Minutes of media sent to transcoding today (UTC).
    pub transcode_minutes_today: u64,
    /// Minutes of media sent to transcription today (UTC).
    pub transcribe_minutes_today: u64,
    /// Bytes their snapshots, drawings and memo checkpoints take, all spaces together.
    pub storage_bytes: u64,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user with their personal space and its host membership, and the link to their
    /// Google account when given, atomically. The e-mail address and the Google subject are
    /// unique (`Condition(Email)`, `Condition(Google)` when taken).
    async fn create_user(&self, user: &User, personal: &Space, google_sub: Option<&str>) -> Result<(), StoreError>;
    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// The user, the platforms they have connected and their usage on `day` (UTC), in one
    /// round trip.
    async fn get_profile(&self, id: &UserId, day: &str) -> Result<Option<Profile>, StoreError>;
    /// Users by id, in no particular order; missing ones are left out.
    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError>;
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;
    /// Marks the account as deleting, by the request `mark` (a fresh id); `Condition(User)` when
    /// there is no such user. Marking an account marked already is no error.
    async fn mark_deleting(&self, id: &UserId, mark: &str) -> Result<(), StoreError>;
    /// Takes back the mark `mark` set (a deletion that could not be started), unless another
    /// request marked the account since: then its deletion stands.
    async fn unmark_deleting(&self, id: &UserId, mark: &str) -> Result<(), StoreError>;
    /// Deletes the user's identity, atomically: profile, e-mail lock, Google link, platform
    /// connections. The same e-mail and Google account can sign up again afterwards.
    async fn delete_user(&self, user: &User) -> Result<(), StoreError>;
}
