//! `/users/me`.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::{
    auth::TokenVerifier,
    error::ApiError,
    http::{self, ApiRequest, Handler},
    model::{User, UserStore},
    runtime::{ConfigError, Deps},
    types::{Email, SpaceId, UserId},
};

/// The caller's own profile.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    pub personal_space_id: SpaceId,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webex_connected: Option<bool>,
}

impl UserView {
    pub fn new(u: User, webex_connected: Option<bool>) -> Self {
        Self {
            user_id: u.user_id,
            email: u.email,
            name: u.name,
            picture: u.picture,
            personal_space_id: u.personal_space_id,
            created_at: u.created_at,
            webex_connected,
        }
    }
}

/// `GET /users/me`: one round trip for the profile and the Webex connection.
pub struct GetMe {
    auth: Arc<TokenVerifier>,
    users: Arc<dyn UserStore>,
}

impl GetMe {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { auth: d.verifier(), users: d.users() })
    }
}

#[async_trait]
impl Handler for GetMe {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let (user, webex) = self.users.get_profile(&caller.user_id).await?.ok_or(ApiError::NotFound("user"))?;
        http::json(StatusCode::OK, &UserView::new(user, Some(webex)))
    }
}
