//! Sign-in with an identity provider (Google): the port and what it proves.

use async_trait::async_trait;

use crate::types::Email;

/// A verified identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The provider's stable subject.
    pub sub: String,
    pub email: Email,
    /// The profile name as the provider gives it (empty when it gives none): anything the
    /// provider's user typed, cleaned when stored (`User::sign_up`).
    pub name: String,
    pub picture: Option<String>,
}

/// Why an identity could not be established.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The ID token is malformed, forged, expired, for another audience or nonce.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// The provider has not verified the account's e-mail address.
    #[error("the account's e-mail address is not verified")]
    Unverified,
    /// The authorization code was refused (invalid, used, foreign).
    #[error("the authorization code was refused")]
    BadCode,
    /// The provider failed or answered something unreadable.
    #[error("the identity provider failed: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// The authorize URL for a login with this state, PKCE challenge and nonce, returning to
    /// `redirect_uri`.
    fn authorize_url(&self, state: &str, code_challenge: &str, nonce: &str, redirect_uri: &str) -> String;
    /// Exchanges an authorization code (with its PKCE verifier) for an ID token.
    async fn exchange_code(&self, code: &str, code_verifier: &str, redirect_uri: &str)
    -> Result<String, IdentityError>;
    /// Verifies an ID token: signature by a key of the provider's JWKS, `iss`, `aud`, `exp`,
    /// `email_verified`, and the nonce when one is expected.
    async fn verify_id_token(&self, id_token: &str, nonce: Option<&str>) -> Result<Identity, IdentityError>;
}
