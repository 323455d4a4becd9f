//! What every platform connector route shares (Webex, Zoom): the connect flow usable from a
//! browser and disconnecting. Importing is in `imports.rs`; the platform-particular routes
//! (listing its recordings, naming a recording to import) are in `webex.rs` and `zoom.rs`.

use std::sync::Arc;

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use vivid_domain::{
    connectors::{Connection, ConnectionStore, ConnectorError, OAuthClient, Provider, TokenCipher},
    sessions::random_token,
    types::{UserId, unix_now},
    zoom::AutoImportStore,
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
    problem::connector_problem,
};
use vivid_tokens::TokenVerifier;

const STATE_TTL_SECS: u64 = 600;

/// A platform's OAuth side with the caller's stored connection.
pub struct Platform {
    pub oauth: Arc<dyn OAuthClient>,
    pub connections: Arc<dyn ConnectionStore>,
    /// Seals and opens the stored tokens.
    pub cipher: Arc<dyn TokenCipher>,
}

impl Platform {
    pub fn provider(&self) -> Provider {
        self.oauth.provider()
    }

    pub fn connection<'a>(&'a self, user: &'a UserId) -> Connection<'a> {
        Connection { store: self.connections.as_ref(), cipher: self.cipher.as_ref(), oauth: self.oauth.as_ref(), user }
    }

    pub fn problem(&self, e: ConnectorError) -> ApiError {
        connector_problem(self.provider(), e)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeBody {
    authorize_url: String,
}

/// `GET /{platform}/login` (user): `{authorizeUrl}` — the platform's authorize URL with a state
/// bound to the caller (good once, ten minutes). A browser `fetch`es it with the access token and
/// navigates there; the platform returns to the front end, which posts `{code, state}` to
/// `POST /{platform}/token`. An access token whose account was deleted since it was issued gets
/// 401 `account_deleted`: the state is written only while the account exists.
pub struct ConnectLogin {
    pub auth: Arc<TokenVerifier>,
    pub oauth: Arc<dyn OAuthClient>,
    /// Where the connect state waits for `POST /{platform}/token`.
    pub connections: Arc<dyn ConnectionStore>,
}

#[async_trait]
impl Handler for ConnectLogin {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let state = random_token()?;
        let provider = self.oauth.provider();
        self.connections.put_connect_state(provider, &state, &caller.user_id, unix_now() + STATE_TTL_SECS).await?;
        let mut resp = http::json(StatusCode::OK, &AuthorizeBody { authorize_url: self.oauth.authorize_url(&state) })?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectBody {
    code: String,
    state: String,
}

/// `POST /{platform}/token` (user): exchanges the code of the caller's own connect and stores the
/// tokens, sealed, with their expiries. A deleted account's access token gets 401
/// `account_deleted` before the code is exchanged, and no connection is stored for it.
pub struct Connect {
    pub auth: Arc<TokenVerifier>,
    pub platform: Platform,
}

#[async_trait]
impl Handler for Connect {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let body: ConnectBody = req.json(8192)?;
        let chars = |s: &str| s.chars().count();
        if !(1..=2048).contains(&chars(&body.code)) || !(1..=128).contains(&chars(&body.state)) {
            let name = self.platform.provider().title();
            return Err(ApiError::unprocessable(
                "invalid_body",
                format!("code and state must be the ones {name} returned"),
            ));
        }
        self.platform
            .connection(&caller.user_id)
            .connect(&body.state, &body.code)
            .await
            .map_err(|e| self.platform.problem(e))?;
        http::no_content()
    }
}

/// `DELETE /{platform}/token` (user): revokes the tokens where the platform can (best effort) and
/// forgets the connection, with the automatic imports it fed.
pub struct Disconnect {
    pub auth: Arc<TokenVerifier>,
    pub provider: Provider,
    pub connections: Arc<dyn ConnectionStore>,
    /// The platform that revokes the tokens first (Zoom); `None`: the connection is only
    /// forgotten (Webex has no revocation endpoint).
    pub revoke: Option<Platform>,
    /// The caller's automatic imports, removed first (Zoom's); `None`: the platform has none.
    pub links: Option<Arc<dyn AutoImportStore>>,
}

#[async_trait]
impl Handler for Disconnect {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        if let Some(links) = &self.links {
            for link in links.auto_imports_by(&caller.user_id).await? {
                // Only while it is theirs: another manager may have linked the space since.
                links.remove_auto_import_of(&link.space_id, &caller.user_id).await?;
            }
        }
        match &self.revoke {
            Some(platform) => {
                platform.connection(&caller.user_id).disconnect().await.map_err(|e| platform.problem(e))?
            }
            None => self.connections.delete_connection(&caller.user_id, self.provider).await?,
        }
        http::no_content()
    }
}
