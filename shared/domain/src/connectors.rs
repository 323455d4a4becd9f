//! Video-platform connectors (Webex today, Zoom next): the OAuth connection of a user, kept
//! sealed at rest, and the one path that hands out a fresh access token — refreshed when it has
//! expired or the platform refuses it, with a refresh race between two requests settled by the
//! stored version instead of losing the connection.

use std::{fmt, pin::Pin, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::{
    error::{Guard, StoreError},
    types::{UserId, unix_now},
};

/// The platforms a user can connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Webex,
    Zoom,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webex => "webex",
            Self::Zoom => "zoom",
        }
    }

    /// The platform's name for people.
    pub fn title(self) -> &'static str {
        match self {
            Self::Webex => "Webex",
            Self::Zoom => "Zoom",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's OAuth tokens with a platform. Never returned by the API, never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: u64,
    pub refresh_expires_at: u64,
}

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

impl OAuthTokens {
    /// Whether the access token is (about to be) expired.
    pub fn access_expired(&self, now: u64) -> bool {
        self.access_expires_at <= now + 30
    }
}

/// How a platform call failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The user has not connected the platform.
    #[error("the {0} account is not connected")]
    NotConnected(Provider),
    /// 401: the access token is expired or revoked.
    #[error("the access token was refused")]
    Unauthorized,
    /// The refresh token was refused: the user must connect again.
    #[error("the connection must be renewed")]
    ReconnectRequired,
    /// 429 with the server's `Retry-After`.
    #[error("the platform is rate limiting (retry after {0:?})")]
    RateLimited(Option<Duration>),
    /// 404 of a recording.
    #[error("no such recording")]
    NotFound,
    /// 4xx of the authorization code.
    #[error("the authorization code was refused")]
    BadCode,
    /// The connect state is missing, expired, used, or another user's.
    #[error("the connect state is invalid")]
    BadState,
    /// The platform refused the request itself (400/422): an expired page token, say.
    #[error("the platform refused the request: {0}")]
    Rejected(String),
    /// 5xx, transport failures, unreadable answers, links outside the platform.
    #[error("the platform failed: {0}")]
    Unavailable(String),
    /// The recording is in a format that cannot become a video (Webex's ARF): its format as the
    /// platform names it, or `unknown`.
    #[error("the recording's format ({0}) cannot be imported")]
    UnsupportedFormat(String),
    #[error(transparent)]
    Cipher(#[from] CipherError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sealing tokens before they reach the table failed.
#[derive(Debug, thiserror::Error)]
#[error("token sealing failed: {0}")]
pub struct CipherError(pub String);

/// Encrypts connection tokens bound to their user (KMS with an encryption context in AWS).
#[async_trait]
pub trait TokenCipher: Send + Sync {
    async fn seal(&self, user: &UserId, plaintext: &[u8]) -> Result<Vec<u8>, CipherError>;
    async fn open(&self, user: &UserId, sealed: &[u8]) -> Result<Vec<u8>, CipherError>;
}

/// A connection as the table holds it: the tokens sealed, the expiries in clear, and a version
/// that every refresh raises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedConnection {
    pub sealed: Vec<u8>,
    /// The platform's id of the connected account (Zoom's user id, what its webhooks name).
    pub external_id: Option<String>,
    pub access_expires_at: u64,
    pub refresh_expires_at: u64,
    pub version: u64,
}

/// The connections and connect states in the store.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn connection(&self, user: &UserId, provider: Provider) -> Result<Option<SealedConnection>, StoreError>;
    /// Stores a connection. With `replacing: Some(v)` only while the stored version is still `v`
    /// (`Condition(Connection)` otherwise); with `None` unconditionally (a new connect).
    async fn put_connection(
        &self,
        user: &UserId,
        provider: Provider,
        connection: &SealedConnection,
        replacing: Option<u64>,
    ) -> Result<(), StoreError>;
    async fn delete_connection(&self, user: &UserId, provider: Provider) -> Result<(), StoreError>;
    /// The users whose connection with `provider` is the platform's account `external_id` (Zoom's
    /// user id: what its webhooks name), read on an index.
    async fn connected_as(&self, provider: Provider, external_id: &str) -> Result<Vec<UserId>, StoreError>;
    /// Forgets `user`'s connection only while it is still the platform's account `external_id` (a
    /// condition): `true` when it went.
    async fn forget_connection_as(
        &self,
        user: &UserId,
        provider: Provider,
        external_id: &str,
    ) -> Result<bool, StoreError>;
    /// A short-lived connect state bound to the user; taken once.
    async fn put_connect_state(
        &self,
        provider: Provider,
        state: &str,
        user: &UserId,
        expires_at: u64,
    ) -> Result<(), StoreError>;
    async fn take_connect_state(
        &self,
        provider: Provider,
        state: &str,
        user: &UserId,
        now: u64,
    ) -> Result<bool, StoreError>;
}

/// The OAuth side every platform shares.
#[async_trait]
pub trait OAuthClient: Send + Sync {
    fn provider(&self) -> Provider;
    fn authorize_url(&self, state: &str) -> String;
    async fn exchange_code(&self, code: &str) -> Result<OAuthTokens, ConnectorError>;
    /// Trades a refresh token for a new pair (platforms that rotate refresh tokens return a new
    /// one; the old one stops working).
    async fn refresh(&self, refresh_token: &str) -> Result<OAuthTokens, ConnectorError>;
    /// Revokes the tokens at the platform, where it offers that.
    async fn revoke(&self, tokens: &OAuthTokens) -> Result<(), ConnectorError>;
    /// The platform's id of the account the tokens belong to, where the suite needs it (to match
    /// webhooks to connections); `None` by default.
    async fn account_id(&self, _access_token: &str) -> Result<Option<String>, ConnectorError> {
        Ok(None)
    }
}

/// Ends a user's grants at the platforms they connected (an account's deletion).
#[async_trait]
pub trait GrantRevoker: Send + Sync {
    /// Best effort, each platform's failure logged and never returned: the deletion goes on and
    /// forgets the tokens anyway.
    async fn revoke_grants(&self, user: &UserId);
}

/// The platforms' OAuth clients with the stored connections and their cipher.
pub struct Grants {
    pub store: std::sync::Arc<dyn ConnectionStore>,
    pub cipher: std::sync::Arc<dyn TokenCipher>,
    pub platforms: Vec<std::sync::Arc<dyn OAuthClient>>,
}

#[async_trait]
impl GrantRevoker for Grants {
    async fn revoke_grants(&self, user: &UserId) {
        for oauth in &self.platforms {
            let connection =
                Connection { store: self.store.as_ref(), cipher: self.cipher.as_ref(), oauth: oauth.as_ref(), user };
            connection.revoke().await;
        }
    }
}

/// A download: a stream of chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ConnectorError>> + Send>>;

/// Where an import fetches a recording's bytes.
#[async_trait]
pub trait RecordingSource: OAuthClient {
    /// Opens the recording's video file for download with the user's access token.
    async fn open(&self, access_token: &str, recording: &str) -> Result<ByteStream, ConnectorError>;

    /// The platform's own transcript of the recording as WebVTT (at most `limit` bytes), when it
    /// made one: `None` when it has none, or one larger than that.
    async fn transcript(
        &self,
        _access_token: &str,
        _recording: &str,
        _limit: usize,
    ) -> Result<Option<Vec<u8>>, ConnectorError> {
        Ok(None)
    }
}

/// Reads a download whole, up to `limit` bytes: `None` past it.
pub async fn read_bounded(mut body: ByteStream, limit: usize) -> Result<Option<Vec<u8>>, ConnectorError> {
    let mut out = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        out.extend_from_slice(&chunk?);
        if out.len() > limit {
            return Ok(None);
        }
    }
    Ok(Some(out))
}

/// How often, and how long apart, a refused refresh looks for the pair a concurrent refresh is
/// storing (about a second in all).
const RACE_POLLS: u32 = 10;
const RACE_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A user's connection with one platform: the store, the cipher and the platform's OAuth client
/// together. The only place tokens are unsealed, refreshed and sealed again.
pub struct Connection<'a> {
    pub store: &'a dyn ConnectionStore,
    pub cipher: &'a dyn TokenCipher,
    pub oauth: &'a dyn OAuthClient,
    pub user: &'a UserId,
}

impl Connection<'_> {
    fn provider(&self) -> Provider {
        self.oauth.provider()
    }

    async fn load(&self) -> Result<Option<(OAuthTokens, u64, Option<String>)>, ConnectorError> {
        let Some(stored) = self.store.connection(self.user, self.provider()).await? else { return Ok(None) };
        let plain = self.cipher.open(self.user, &stored.sealed).await?;
        let mut tokens: OAuthTokens =
            serde_json::from_slice(&plain).map_err(|e| CipherError(format!("unreadable tokens: {e}")))?;
        // The expiries in clear on the item are the ones that count (an operator may expire them).
        tokens.access_expires_at = stored.access_expires_at;
        tokens.refresh_expires_at = stored.refresh_expires_at;
        Ok(Some((tokens, stored.version, stored.external_id)))
    }

    async fn store(
        &self,
        tokens: &OAuthTokens,
        replacing: Option<u64>,
        external_id: Option<String>,
    ) -> Result<(), ConnectorError> {
        let plain = serde_json::to_vec(tokens).map_err(|e| CipherError(e.to_string()))?;
        let sealed = self.cipher.seal(self.user, &plain).await?;
        let connection = SealedConnection {
            sealed,
            external_id,
            access_expires_at: tokens.access_expires_at,
            refresh_expires_at: tokens.refresh_expires_at,
            version: replacing.map_or(1, |v| v + 1),
        };
        self.store.put_connection(self.user, self.provider(), &connection, replacing).await?;
        Ok(())
    }

    /// Exchanges an authorization code of the user's own connect and stores the tokens.
    pub async fn connect(&self, state: &str, code: &str) -> Result<(), ConnectorError> {
        if state.len() > 128 || !self.store.take_connect_state(self.provider(), state, self.user, unix_now()).await? {
            return Err(ConnectorError::BadState);
        }
        let tokens = self.oauth.exchange_code(code).await?;
        let account = self.oauth.account_id(&tokens.access_token).await?;
        self.store(&tokens, None, account).await?;
        tracing::info!(user_id = %self.user, provider = %self.provider(), "connected");
        Ok(())
    }

    /// Revokes (best effort) and forgets the connection.
    pub async fn disconnect(&self) -> Result<(), ConnectorError> {
        self.revoke().await;
        self.store.delete_connection(self.user, self.provider()).await?;
        Ok(())
    }

    /// Revokes the user's grant at the platform, best effort: `true` when the platform confirmed
    /// it; a failure (no connection, the platform refusing or unreachable) is logged, never
    /// returned, and the caller forgets the tokens anyway. An expired access token is refreshed
    /// first (platforms revoke with a live one); the fresh pair is not stored, as the connection
    /// is about to go. No token is logged.
    pub async fn revoke(&self) -> bool {
        let provider = self.provider();
        let (mut tokens, _, _) = match self.load().await {
            Ok(Some(loaded)) => loaded,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(error = %e, %provider, "cannot read the connection to revoke it");
                return false;
            }
        };
        if tokens.access_expired(unix_now()) {
            match self.oauth.refresh(&tokens.refresh_token).await {
                Ok(fresh) => tokens = fresh,
                Err(e) => tracing::warn!(error = %e, %provider, "cannot refresh the tokens to revoke them"),
            }
        }
        match self.oauth.revoke(&tokens).await {
            Ok(()) => {
                tracing::info!(user_id = %self.user, %provider, "grant revoked at the platform");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, %provider, "revocation failed; forgetting the tokens anyway");
                false
            }
        }
    }

    /// Refreshes the tokens read at `version`. When another request refreshed first (the stored
    /// version moved on, or the platform refused our now-rotated refresh token while a newer pair
    /// is stored), its tokens are used instead: concurrent refreshes never lose the connection.
    async fn refresh(
        &self,
        tokens: &OAuthTokens,
        version: u64,
        external_id: Option<String>,
    ) -> Result<OAuthTokens, ConnectorError> {
        match self.oauth.refresh(&tokens.refresh_token).await {
            Ok(fresh) => match self.store(&fresh, Some(version), external_id).await {
                Ok(()) => {
                    tracing::info!(user_id = %self.user, provider = %self.provider(), "access token refreshed");
                    Ok(fresh)
                }
                // A concurrent refresh stored first; ours is just as fresh, but theirs is kept.
                Err(ConnectorError::Store(e)) if e.is(Guard::Connection) => Ok(fresh),
                Err(e) => Err(e),
            },
            // Refused: either revoked, or another request rotated the token a moment ago and is
            // storing the new pair. Wait briefly for that pair before giving up.
            Err(ConnectorError::ReconnectRequired) => {
                for _ in 0..RACE_POLLS {
                    if let Some((newer, v, _)) = self.load().await?
                        && v > version
                    {
                        return Ok(newer);
                    }
                    tokio::time::sleep(RACE_POLL_INTERVAL).await;
                }
                Err(ConnectorError::ReconnectRequired)
            }
            Err(e) => Err(e),
        }
    }

    /// Runs `call` with a fresh access token; when the platform refuses the token, refreshes
    /// once and calls again. The one "refresh and retry" path of every connector route.
    pub async fn with_access<T, F, Fut>(&self, call: F) -> Result<T, ConnectorError>
    where
        F: Fn(String) -> Fut + Send + Sync,
        Fut: std::future::Future<Output = Result<T, ConnectorError>> + Send,
        T: Send,
    {
        let (mut tokens, version, external) =
            self.load().await?.ok_or(ConnectorError::NotConnected(self.provider()))?;
        let mut refreshed = false;
        if tokens.access_expired(unix_now()) {
            tokens = self.refresh(&tokens, version, external.clone()).await?;
            refreshed = true;
        }
        match call(tokens.access_token.clone()).await {
            Err(ConnectorError::Unauthorized) if !refreshed => {
                let fresh = self.refresh(&tokens, version, external).await?;
                call(fresh.access_token).await
            }
            other => other,
        }
    }

    /// Whether the user has this platform connected.
    pub async fn exists(&self) -> Result<bool, StoreError> {
        Ok(self.store.connection(self.user, self.provider()).await?.is_some())
    }
}
