//! The launch's rules, free of I/O: the claims of a platform's ID token (signature checked by
//! [`PlatformKeys`]) checked against the registration and the server-side state, and LTI roles
//! mapped to a space's roles.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{AgsEndpoint, LaunchState, NrpsEndpoint, Registration};
use crate::spaces::Role;

const CLAIM: &str = "https://purl.imsglobal.org/spec/lti/claim/";
pub const RESOURCE_LINK_REQUEST: &str = "LtiResourceLinkRequest";
pub const DEEP_LINKING_REQUEST: &str = "LtiDeepLinkingRequest";
/// Clock skew allowed on `iat` and `exp`.
pub const LEEWAY_SECS: u64 = 60;
/// How long a login initiation waits for its launch.
pub const STATE_TTL_SECS: u64 = 600;
/// How long the launch's one-time code waits for its exchange.
pub const CODE_TTL_SECS: u64 = 120;
/// How long a deep-linking request waits for the instructor's pick.
pub const DEEP_LINK_TTL_SECS: u64 = 3600;
/// The longest deep-linking `data` a request may carry (bytes): it is kept with the request and
/// signed back verbatim.
pub const MAX_DEEP_LINK_DATA: usize = 16 * 1024;

/// Why a launch is refused. Every one is the platform's or the person's to fix, none a 5xx.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    #[error("the ID token is invalid: {0}")]
    InvalidToken(String),
    #[error("the launch state is missing, expired or already used: launch again from the course")]
    BadState,
    #[error("no platform is registered for this issuer and client id")]
    UnknownPlatform,
    #[error("the deployment is not registered for this platform")]
    UnknownDeployment,
    #[error("the platform's keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

fn invalid(why: impl Into<String>) -> LaunchError {
    LaunchError::InvalidToken(why.into())
}

/// Verifies a platform's JWT signature (RS256 only) by a key of its JWKS, answering its claims.
#[async_trait]
pub trait PlatformKeys: Send + Sync {
    async fn verify(&self, jwks_url: &str, token: &str) -> Result<Map<String, Value>, LaunchError>;
}

/// For functions that verify no platform token (the login initiation, the code exchange): every
/// verification is refused. Their `Lti` never launches, and they link no HTTP client.
pub struct NoPlatformKeys;

#[async_trait]
impl PlatformKeys for NoPlatformKeys {
    async fn verify(&self, _jwks_url: &str, _token: &str) -> Result<Map<String, Value>, LaunchError> {
        Err(LaunchError::KeysUnavailable("this function verifies no platform token".into()))
    }
}

/// `aud`: one string or an array of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn list(&self) -> Vec<&str> {
        match self {
            Audience::One(a) => vec![a.as_str()],
            Audience::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Core {
    iss: String,
    sub: Option<String>,
    aud: Audience,
    azp: Option<String>,
    exp: u64,
    iat: u64,
    nonce: Option<String>,
    name: Option<String>,
}

/// A launch whose every claim checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub issuer: String,
    pub client_id: String,
    pub deployment_id: String,
    pub subject: String,
    pub name: String,
    pub message_type: String,
    pub roles: Vec<String>,
    pub context_id: Option<String>,
    pub context_title: String,
    /// `custom.vivid_video` (or the resource link's target naming a video): the video to open.
    pub video: Option<String>,
    pub deep_link_return_url: Option<String>,
    pub deep_link_data: Option<String>,
    pub nrps: Option<NrpsEndpoint>,
    pub ags: Option<AgsEndpoint>,
}

fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    claims.get(&format!("{CLAIM}{name}"))
}

fn claim_str(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claim(claims, name).and_then(Value::as_str).map(str::to_owned)
}

/// Checks a verified token's claims: `iss` and `aud` (string or array; with several audiences
/// `azp` must be the client id, and `azp` when present always), `exp`/`iat` with
/// [`LEEWAY_SECS`], the nonce of the state taken for this launch, the deployment registered (and
/// the login's, when it named one), `message_type`, `version` 1.3.0 and the roles claim.
pub fn check_claims(
    claims: &Map<String, Value>,
    reg: &Registration,
    state: &LaunchState,
    now: u64,
) -> Result<Launch, LaunchError> {
    let core: Core =
        serde_json::from_value(Value::Object(claims.clone())).map_err(|e| invalid(format!("claims: {e}")))?;
    if core.iss != reg.issuer || core.iss != state.issuer {
        return Err(invalid("iss is not the registered platform's"));
    }
    let aud = core.aud.list();
    if !aud.contains(&reg.client_id.as_str()) {
        return Err(invalid("aud does not name the tool's client id"));
    }
    if (aud.len() > 1 || core.azp.is_some()) && core.azp.as_deref() != Some(reg.client_id.as_str()) {
        return Err(invalid("azp is not the tool's client id"));
    }
    if core.exp.saturating_add(LEEWAY_SECS) <= now {
        return Err(invalid("the ID token has expired"));
    }
    if core.iat > now + LEEWAY_SECS {
        return Err(invalid("the ID token is issued in the future"));
    }
    if core.nonce.as_deref() != Some(state.nonce.as_str()) {
        return Err(invalid("the nonce is not the one this launch's login sent"));
    }
    let subject = core
        .sub
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .ok_or_else(|| invalid("no sub (anonymous launches are not supported)"))?;
    let deployment_id = claim_str(claims, "deployment_id").ok_or_else(|| invalid("no deployment_id"))?;
    if !reg.deployment_ids.contains(&deployment_id) {
        return Err(LaunchError::UnknownDeployment);
    }
    // The login initiation named the deployment: the token must be for the same (a token minted
    // for another placement cannot ride this login's state). Its `target_link_uri` is not compared:
    // LMSs re-encode it between the login and the token, and what a launch opens is read from the
    // signed claims alone.
    if state.deployment_id.as_ref().is_some_and(|d| d != &deployment_id) {
        return Err(invalid("deployment_id is not the one this launch's login named"));
    }
    if claim_str(claims, "version").as_deref() != Some("1.3.0") {
        return Err(invalid("version is not 1.3.0"));
    }
    let message_type = claim_str(claims, "message_type").unwrap_or_default();
    if message_type != RESOURCE_LINK_REQUEST && message_type != DEEP_LINKING_REQUEST {
        return Err(invalid(format!("message_type {message_type:?} is not supported")));
    }
    let roles: Vec<String> = match claim(claims, "roles") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => return Err(invalid("no roles claim")),
    };
    let context = claim(claims, "context");
    let context_id = context.and_then(|c| c.get("id")).and_then(Value::as_str).map(str::to_owned);
    let context_title = context
        .and_then(|c| c.get("title").or_else(|| c.get("label")))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let custom = claim(claims, "custom");
    let video = custom
        .and_then(|c| c.get("vivid_video"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| claim_str(claims, "target_link_uri").and_then(|t| video_of_target(&t)));
    let settings = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings");
    let deep_link_return_url =
        settings.and_then(|s| s.get("deep_link_return_url")).and_then(Value::as_str).map(str::to_owned);
    if message_type == DEEP_LINKING_REQUEST && deep_link_return_url.is_none() {
        return Err(invalid("a deep-linking request without deep_link_return_url"));
    }
    let deep_link_data = match settings.and_then(|s| s.get("data")) {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => Some(d.clone()),
        // The specification's `data` is a string, returned as is: anything else cannot be.
        Some(_) => return Err(invalid("the deep-linking request's data is not a string")),
    };
    if deep_link_data.as_ref().is_some_and(|d| d.len() > MAX_DEEP_LINK_DATA) {
        // Returned verbatim in the signed response, so never cut: refused.
        return Err(invalid("the deep-linking request's data is longer than 16 KiB"));
    }
    let nrps = claims
        .get("https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice")
        .and_then(|v| serde_json::from_value::<NrpsEndpoint>(v.clone()).ok());
    let ags = claims
        .get("https://purl.imsglobal.org/spec/lti-ags/claim/endpoint")
        .and_then(|v| serde_json::from_value::<AgsEndpoint>(v.clone()).ok());
    Ok(Launch {
        issuer: core.iss,
        client_id: reg.client_id.clone(),
        deployment_id,
        subject,
        name: core.name.unwrap_or_default(),
        message_type,
        roles,
        context_id,
        context_title,
        video,
        deep_link_return_url,
        deep_link_data,
        nrps,
        ags,
    })
}

/// The video a target link names: `…/lti/launch?video={id}` or `…/videos/{id}`.
fn video_of_target(target: &str) -> Option<String> {
    let (_, query) = target.split_once('?').unwrap_or((target, ""));
    let from_query = query.split('&').find_map(|pair| pair.strip_prefix("video=")).map(str::to_owned);
    from_query
        .or_else(|| {
            target
                .split_once("/videos/")
                .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default().to_owned())
        })
        .filter(|v| !v.is_empty())
}

/// Whether the LTI roles make a person a manager of the course's space (host on the course's
/// first launch, else co-host): the one strict reading roster sync uses too
/// ([`super::roster::manages`]), so a launch and a sync never disagree on a member's role.
pub use super::roster::manages;

/// The role a person joins a course's space with by a launch (the space's creator is its host):
/// the role a roster sync gives them ([`super::roster::role_for`]).
pub fn joining_role(roles: &[String]) -> Role {
    super::roster::role_for(roles)
}

#[cfg(test)]
#[path = "launch_tests.rs"]
mod tests;
