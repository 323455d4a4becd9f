//! Registering LMS platforms with the tool. An operator (an address `LtiAdmins` lists) makes a
//! one-time registration URL (`POST /lti/registration-invitations`); the LMS administrator
//! pastes it into the LMS, which opens it with its `openid_configuration` and
//! `registration_token` (`GET /lti/register`, LTI Dynamic Registration 1.0): the tool reads the
//! platform's configuration, posts its own to the platform's `registration_endpoint`, keeps the
//! registration and answers a page that tells the LMS it is done. An LMS without dynamic
//! registration (Open edX's LTI Consumer, Canvas's or Moodle's manual entry) is registered by an
//! operator by hand (`POST /lti/registrations`); deployments are added to a registration later
//! (`POST /lti/registrations/{registrationId}/deployments`: Canvas gives a new deployment id each
//! time the key is installed in another account or course). Operators list and delete
//! registrations (`GET /lti/registrations`, `DELETE /lti/registrations/{registrationId}`).

use std::sync::Arc;

use ::http::{StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    error::StoreError,
    lti::{
        dynamic::{PlatformConfig, PlatformRegistrar},
        manual::{MAX_DEPLOYMENTS, ManualRegistration, deployment_id},
        model::{DeploymentAdded, Registration, RegistrationInvite, RegistrationStore},
    },
    sessions::{hash_secret, random_token},
    types::{rfc3339_at, unix_now},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::{Caller, TokenVerifier};

/// How long a registration URL admits a platform.
pub const INVITE_TTL_SECS: u64 = 7 * 24 * 3600;

/// Who administers the tool's registrations: the signed-in users whose (verified) address
/// `VIVID_LTI_ADMINS` lists. Empty (the default): nobody, and no platform can register.
#[derive(Debug, Clone, Default)]
pub struct LtiAdmins(Vec<String>);

impl LtiAdmins {
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self(cfg.list("VIVID_LTI_ADMINS").into_iter().map(|a| a.trim().to_lowercase()).collect()))
    }

    /// The caller, when they administer the tool; 403 `lti_admins_only` otherwise.
    fn check(&self, req: &ApiRequest, verifier: &TokenVerifier) -> Result<Caller, ApiError> {
        let caller = req.caller(verifier)?;
        if self.0.iter().any(|a| a == caller.email.as_str()) {
            Ok(caller)
        } else {
            Err(ApiError::forbidden(
                "lti_admins_only",
                "only the tool's LTI administrators (the LtiAdmins parameter) manage LMS registrations",
            ))
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InviteView {
    registration_url: String,
    expires_at: String,
}

/// `POST /lti/registration-invitations`: a one-time registration URL (seven days) for an LMS
/// administrator to paste into the LMS.
pub struct CreateLtiInvitation {
    pub registrations: Arc<dyn RegistrationStore>,
    pub verifier: Arc<TokenVerifier>,
    pub admins: LtiAdmins,
}

#[async_trait]
impl Handler for CreateLtiInvitation {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = self.admins.check(req, &self.verifier)?;
        let token = random_token().map_err(ApiError::internal)?;
        let now = unix_now();
        let invite = RegistrationInvite {
            token_hash: hash_secret(&token),
            invite_id: ulid::Ulid::new().to_string(),
            created_by: caller.user_id,
            expires_at: now + INVITE_TTL_SECS,
        };
        self.registrations.put_invite(&invite).await?;
        let origin = req.origin().unwrap_or_default();
        let view = InviteView {
            registration_url: format!("{origin}/lti/register?invite={token}"),
            expires_at: rfc3339_at(invite.expires_at),
        };
        let mut resp = http::json(StatusCode::CREATED, &view)?;
        resp.headers_mut().insert(header::CACHE_CONTROL, ::http::HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

/// `GET /lti/register`: LTI Dynamic Registration, opened by the LMS in the administrator's
/// browser with `invite` (ours), `openid_configuration` and `registration_token` (the LMS's).
pub struct RegisterPlatform {
    pub registrations: Arc<dyn RegistrationStore>,
    pub platform: Arc<dyn PlatformRegistrar>,
}

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_lti_request", detail)
}

/// The tool's configuration as LTI Dynamic Registration posts it, on this API's `origin`.
pub fn tool_configuration(origin: &str) -> Value {
    let domain = origin.split_once("://").map(|(_, d)| d).unwrap_or(origin);
    let launch = format!("{origin}/lti/launch");
    json!({
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": format!("{origin}/lti/login"),
        "redirect_uris": [launch],
        "client_name": "VIVID",
        "jwks_uri": format!("{origin}/lti/jwks"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem https://purl.imsglobal.org/spec/lti-ags/scope/score https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
            "domain": domain,
            "target_link_uri": launch,
            "claims": ["iss", "sub", "name"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": "VIVID"},
                {"type": "LtiDeepLinkingRequest", "target_link_uri": launch, "label": "VIVID lectures",
                 "placements": ["ContentArea", "link_selection", "assignment_selection"]},
            ],
        },
    })
}

#[async_trait]
impl Handler for RegisterPlatform {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let short = |name: &str| req.query(name).filter(|v| !v.is_empty() && v.len() <= 2048);
        let invite = short("invite")
            .ok_or_else(|| bad("the registration URL has no invitation: ask the tool's operator for one"))?;
        let config_url = short("openid_configuration").ok_or_else(|| bad("openid_configuration is required"))?;
        let token = short("registration_token");
        let now = unix_now();
        // Spent by this attempt, whatever comes of it: a failed one needs a new URL.
        let invite = self.registrations.take_invite(&hash_secret(invite), now).await?.ok_or_else(|| {
            ApiError::bad_request(
                "invalid_state",
                "the registration URL is unknown, expired or already used: ask the tool's operator for a new one",
            )
        })?;
        let platform_failed = |e: String| {
            tracing::warn!(error = %e, "dynamic registration: the platform failed");
            ApiError::upstream("platform_unavailable", format!("the LMS did not answer properly: {e}"))
        };
        let config: PlatformConfig = self.platform.configuration(config_url, token).await.map_err(platform_failed)?;
        // Checked before the platform is asked, so a refused attempt leaves nothing behind there.
        one_key_set(self.registrations.as_ref(), &config.issuer, &config.jwks_uri).await?;
        let origin = req.origin().unwrap_or_default();
        let answer = self
            .platform
            .register(&config.registration_endpoint, token, &tool_configuration(&origin))
            .await
            .map_err(platform_failed)?;
        let client_id = answer.get("client_id").and_then(Value::as_str).filter(|c| !c.is_empty() && c.len() <= 255);
        let client_id = client_id.ok_or_else(|| platform_failed("the registration has no client_id".into()))?;
        let deployment = answer
            .get("https://purl.imsglobal.org/spec/lti-tool-configuration")
            .and_then(|c| c.get("deployment_id"))
            .and_then(Value::as_str);
        let reg = Registration {
            issuer: config.issuer.clone(),
            client_id: client_id.to_owned(),
            deployment_ids: deployment.map(|d| vec![d.to_owned()]).unwrap_or_default(),
            auth_url: config.authorization_endpoint.clone(),
            token_url: config.token_endpoint.clone(),
            jwks_url: config.jwks_uri.clone(),
            name: config.name(),
            created_by: format!("invite:{}", invite.invite_id),
            created_at: rfc3339_at(now),
        };
        put_new(self.registrations.as_ref(), &reg).await?;
        tracing::info!(registration = %reg.id(), "lti platform registered");
        closing_page()
    }
}

/// Launches are trusted by the issuer's keys and users are matched by (issuer, subject): a second
/// registration of an issuer (Canvas Cloud has one issuer for every institution) must name the
/// same keys, or it could sign launches as the first one's users. 409 `issuer_key_conflict`.
/// An LTI administrator registering by hand may vouch for a key set per client instead
/// (`separateKeySet`, Open edX's per-component keys); later registrations may name any key set
/// the issuer's registrations name.
async fn one_key_set(registrations: &dyn RegistrationStore, issuer: &str, jwks_url: &str) -> Result<(), ApiError> {
    let known = registrations.registrations_of(issuer).await?;
    // A key set the issuer's registrations name already (one, or the ones an administrator
    // vouched for) adds no signer.
    if known.iter().any(|r| r.jwks_url == jwks_url) {
        return Ok(());
    }
    if let Some(other) = known.first() {
        // The other registration's key-set URL is for the operator (the log, the list), not for
        // whoever is registering.
        tracing::warn!(registration = %other.id(), "lti registration: the issuer is registered with other keys");
        return Err(ApiError::conflict(
            "issuer_key_conflict",
            format!(
                "{issuer} is registered already with another key set than {jwks_url}: an issuer has one key set (the tool's operator deletes the old registration first if the platform moved its keys)"
            ),
        ));
    }
    Ok(())
}

/// Stores a new registration; 409 `already_registered` when `(issuer, client_id)` is registered.
async fn put_new(registrations: &dyn RegistrationStore, reg: &Registration) -> Result<(), ApiError> {
    match registrations.put_registration(reg).await {
        Ok(()) => Ok(()),
        Err(StoreError::Condition(_)) => Err(ApiError::conflict(
            "already_registered",
            "this LMS has registered the tool with this client id already: delete that registration first (DELETE /lti/registrations/{registrationId})",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The page that ends a dynamic registration: it tells the LMS (its opener, or the frame's
/// parent) `{subject: "org.imsglobal.lti.close"}`.
fn closing_page() -> Result<Response<Body>, ApiError> {
    let page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>VIVID registered</title></head>\
        <body><p>VIVID is registered with this LMS. You can close this window.</p>\
        <script>(window.opener || window.parent).postMessage({subject: 'org.imsglobal.lti.close'}, '*')</script>\
        </body></html>";
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("content-security-policy", "default-src 'none'; script-src 'unsafe-inline'")
        .body(Body::Text(page.to_owned()))
        .map_err(ApiError::internal)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationView {
    registration_id: String,
    #[serde(flatten)]
    registration: Registration,
}

impl From<Registration> for RegistrationView {
    fn from(registration: Registration) -> Self {
        Self { registration_id: registration.id(), registration }
    }
}

/// The largest body of the registration routes (20 deployment ids and 4 URLs fit well within).
const MAX_BODY: usize = 32 * 1024;

/// `POST /lti/registrations`: a platform registered by hand, for an LMS without LTI Dynamic
/// Registration: its issuer, the client id and deployment ids it gave the tool, its endpoints.
pub struct CreateLtiRegistration {
    pub registrations: Arc<dyn RegistrationStore>,
    pub verifier: Arc<TokenVerifier>,
    pub admins: LtiAdmins,
    /// Plain HTTP to a loopback host is registered too (the local stack's platform stand-in);
    /// never in AWS, where only `https://` is.
    pub loopback_http: bool,
}

#[async_trait]
impl Handler for CreateLtiRegistration {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = self.admins.check(req, &self.verifier)?;
        let body: ManualRegistration = req.json(MAX_BODY)?;
        let separate_key_set = body.separate_key_set;
        let reg = body
            .into_registration(self.loopback_http, format!("user:{}", caller.user_id), rfc3339_at(unix_now()))
            .map_err(|e| ApiError::unprocessable("invalid_body", e.0))?;
        if !separate_key_set {
            one_key_set(self.registrations.as_ref(), &reg.issuer, &reg.jwks_url).await?;
        }
        put_new(self.registrations.as_ref(), &reg).await?;
        let view = RegistrationView::from(reg);
        tracing::info!(registration = %view.registration_id, separate_key_set, "lti platform registered by hand");
        http::created(&format!("/lti/registrations/{}", view.registration_id), &view)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewDeployment {
    deployment_id: String,
}

/// `POST /lti/registrations/{registrationId}/deployments`: `{deploymentId}` added to the
/// registration's deployments (idempotent: one it holds already answers the same); the
/// registration as it is now.
pub struct AddLtiDeployment {
    pub registrations: Arc<dyn RegistrationStore>,
    pub verifier: Arc<TokenVerifier>,
    pub admins: LtiAdmins,
}

#[async_trait]
impl Handler for AddLtiDeployment {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        self.admins.check(req, &self.verifier)?;
        let id = req.path::<RegistrationId>("registrationId")?;
        let body: NewDeployment = req.json(MAX_BODY)?;
        deployment_id(&body.deployment_id).map_err(|e| ApiError::unprocessable("invalid_body", e.0))?;
        let reg = self.registrations.registration_by_id(&id.0).await?.ok_or(ApiError::NotFound("registration"))?;
        let added = self
            .registrations
            .add_deployment(&reg.issuer, &reg.client_id, &body.deployment_id, MAX_DEPLOYMENTS)
            .await?;
        match added {
            DeploymentAdded::Added(reg) => {
                tracing::info!(registration = %id.0, deployments = reg.deployment_ids.len(), "lti deployment added");
                http::json(StatusCode::OK, &RegistrationView::from(reg))
            }
            DeploymentAdded::AlreadyThere(reg) => http::json(StatusCode::OK, &RegistrationView::from(reg)),
            DeploymentAdded::Full => Err(ApiError::conflict(
                "too_many_deployments",
                format!(
                    "the registration holds {MAX_DEPLOYMENTS} deployments, the most allowed: register the LMS's other deployments under another client id"
                ),
            )),
            DeploymentAdded::NoRegistration => Err(ApiError::NotFound("registration")),
        }
    }
}

/// `GET /lti/registrations`: every registered platform, oldest first.
pub struct ListLtiRegistrations {
    pub registrations: Arc<dyn RegistrationStore>,
    pub verifier: Arc<TokenVerifier>,
    pub admins: LtiAdmins,
}

#[async_trait]
impl Handler for ListLtiRegistrations {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        self.admins.check(req, &self.verifier)?;
        let items: Vec<RegistrationView> =
            self.registrations.all_registrations().await?.into_iter().map(RegistrationView::from).collect();
        http::json(StatusCode::OK, &json!({ "items": items }))
    }
}

/// `DELETE /lti/registrations/{registrationId}`: the platform can launch no more (its courses'
/// spaces and its users stay).
pub struct DeleteLtiRegistration {
    pub registrations: Arc<dyn RegistrationStore>,
    pub verifier: Arc<TokenVerifier>,
    pub admins: LtiAdmins,
}

#[async_trait]
impl Handler for DeleteLtiRegistration {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        self.admins.check(req, &self.verifier)?;
        let id = req.path::<RegistrationId>("registrationId")?;
        if self.registrations.delete_registration(&id.0).await? {
            http::no_content()
        } else {
            Err(ApiError::NotFound("registration"))
        }
    }
}

/// A registration's id: 64 lower-case hex digits.
struct RegistrationId(String);

impl std::str::FromStr for RegistrationId {
    type Err = vivid_domain::types::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(vivid_domain::types::Invalid("registrationId must be 64 hex digits".into()))
        }
    }
}
