//! Institutional sign-in with any OpenID Connect provider: the providers (configured by issuer
//! URL), what a verified ID token proves, the identities linked to a user — keyed by
//! (issuer, subject), never merged across providers by e-mail — and the rules of signing in,
//! linking and unlinking.

mod providers;
mod service;
#[cfg(test)]
mod service_tests;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use self::{
    providers::{ANY_DOMAIN, DEFAULT_SCOPES, MAX_DOMAINS, MAX_PROVIDERS, OidcProvider},
    service::{link, sign_in, unlink},
};
use crate::{
    error::StoreError,
    identity::IdentityError,
    spaces::Space,
    types::{Email, UserId},
    users::User,
};

/// At most this many identities linked to one user (docs/quotas.md).
pub const MAX_IDENTITIES: usize = 20;

/// What a provider's ID token proved, its signature, issuer, audience, expiry and nonce
/// verified by the adapter. Whether it may sign in is the domain's ([`sign_in`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClaims {
    pub issuer: String,
    pub sub: String,
    /// As the token writes it (unparsed): absent or malformed refuses the sign-in.
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
    pub picture: Option<String>,
    /// Google's `hd`: the Workspace domain the account belongs to (none for a consumer account,
    /// whatever its address).
    pub hosted_domain: Option<String>,
}

/// Google's issuer. Its ID tokens may also name it `accounts.google.com` (Google's documentation:
/// both forms).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// An identity at a provider, linked to one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedIdentity {
    /// Stable, opaque: `DELETE /users/me/identities/{identityId}` names it.
    pub identity_id: String,
    pub user_id: UserId,
    /// The configured provider's id (`uni`), as it was at the link.
    pub provider: String,
    pub issuer: String,
    pub sub: String,
    /// The verified address at the link.
    pub email: Email,
    pub linked_at: String,
}

impl LinkedIdentity {
    /// The identity's id: a digest of (issuer, subject), so the same identity has one id.
    pub fn id_for(issuer: &str, sub: &str) -> String {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{issuer}\n{sub}").as_bytes());
        format!("oidc-{}", URL_SAFE_NO_PAD.encode(&digest[..18]))
    }
}

/// Why an institutional sign-in, link or unlink is refused.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// No provider of that id is configured.
    #[error("no such sign-in provider")]
    UnknownProvider,
    /// The provider's discovery, token or keys failed, or its token did not verify.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The ID token has no verified e-mail address.
    #[error(
        "the provider has not verified this account's e-mail address: sign in with an account whose address it has verified"
    )]
    Unverified,
    /// The verified address's domain is not allowed for this provider.
    #[error("this provider signs in addresses of its institution only: {0} is not one of them")]
    DomainNotAllowed(String),
    /// A first sign-in whose address belongs to an account of another provider: never merged.
    #[error(
        "an account with this e-mail address already exists, signed in another way: sign in the usual way, then link this provider from your account (POST /auth/oidc/{{provider}}/link)"
    )]
    LinkRequired,
    /// The identity is linked to another user.
    #[error("this sign-in is already linked to another account: sign in with it there, or unlink it there first")]
    LinkedElsewhere,
    /// Unlinking would leave the account with no way to sign in.
    #[error("this is the account's only way to sign in: link another one before unlinking it")]
    LastIdentity,
    /// The account has [`MAX_IDENTITIES`] identities already.
    #[error("an account links at most {MAX_IDENTITIES} sign-ins: unlink one first")]
    TooMany,
    /// The account is being deleted.
    #[error("this account is being deleted; sign in again in a minute to start a new one")]
    AccountDeleting,
    #[error("no such linked identity")]
    NotLinked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The identities' store: the link of (issuer, subject) to a user, unique by condition.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// The user an identity is linked to.
    async fn user_by_identity(&self, issuer: &str, sub: &str) -> Result<Option<User>, StoreError>;
    /// A new user with their personal space, host membership, e-mail lock and this identity's
    /// link, atomically: `Condition(Email)` when the address is taken, `Condition(Item)` when the
    /// identity is linked already.
    async fn create_user_with_identity(
        &self,
        user: &User,
        personal: &Space,
        identity: &LinkedIdentity,
    ) -> Result<(), StoreError>;
    /// Links the identity to its user, atomically with the user's identity count: `Condition(Item)`
    /// when the identity is linked already (to anyone), `Condition(Account)` when the account is
    /// gone, being deleted or has [`MAX_IDENTITIES`] identities.
    async fn link_identity(&self, identity: &LinkedIdentity) -> Result<(), StoreError>;
    /// The user's linked identities, oldest first.
    async fn identities_of(&self, user: &UserId) -> Result<Vec<LinkedIdentity>, StoreError>;
    /// Removes the link, atomically, while the user still has `expected` identities (their
    /// count as read): `Condition(Item)` when it changed meanwhile.
    async fn unlink_identity(&self, identity: &LinkedIdentity, expected: usize) -> Result<(), StoreError>;
}

/// An OpenID Connect relying party: discovery, the authorize URL, the code exchange and the ID
/// token's verification against the provider's keys.
#[async_trait]
pub trait OidcClient: Send + Sync {
    /// The provider's authorize URL for a login with this state, PKCE challenge (S256) and nonce,
    /// returning to `redirect_uri` (discovery read when not cached). `fresh`: the provider asks
    /// the person to sign in again (`prompt=login`) rather than reusing a session open in the
    /// browser — a link must be the person's own act, not whoever left the provider signed in.
    async fn authorize_url(
        &self,
        provider: &OidcProvider,
        state: &str,
        code_challenge: &str,
        nonce: &str,
        redirect_uri: &str,
        fresh: bool,
    ) -> Result<String, IdentityError>;
    /// Exchanges the code (with its PKCE verifier) and verifies the ID token it gives: signature
    /// by a key of the provider's JWKS, `iss`, `aud`, `azp`, `exp` and the login's nonce.
    async fn verified_claims(
        &self,
        provider: &OidcProvider,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> Result<VerifiedClaims, IdentityError>;
}
