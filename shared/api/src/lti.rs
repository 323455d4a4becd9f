//! `/lti/*`: the LTI 1.3 tool's routes. The tool's public keys (`GET /lti/jwks`), the OIDC login
//! initiation (`GET`/`POST /lti/login`), the launch (`POST /lti/launch`), the exchange of the
//! launch's one-time code for a session (`POST /lti/session`) and the deep-linking response
//! (`POST /lti/deep-link`). Nothing here relies on a cookie: inside an LMS iframe the browser
//! blocks third-party cookies, so states live in the table and the session travels in bodies.

use std::{collections::HashMap, sync::Arc};

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use vivid_domain::{
    access::Denied,
    lti::{
        launch::LaunchError,
        launcher::{LoginRequest, Lti, LtiError},
        model::LaunchStore,
        signer::{SignError, ToolSigner},
    },
    sessions::{Sessions, random_token},
    types::{SpaceId, VideoId, unix_now},
    users::UserStore,
    video::VideoCatalog,
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::auth::{TokensBody, fragment_value};

/// The largest form a platform posts (an ID token of a few KiB, its state).
const MAX_FORM: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024;
const LAUNCH_PATH: &str = "/lti/launch";

/// LTI's refusals as problems: the one place they are mapped.
pub fn problem(e: LtiError) -> ApiError {
    match e {
        LtiError::Launch(LaunchError::BadState) => {
            ApiError::bad_request("invalid_state", LaunchError::BadState.to_string())
        }
        LtiError::Launch(LaunchError::UnknownPlatform) => ApiError::bad_request(
            "unknown_platform",
            "no platform is registered for this issuer and client id: the LMS administrator registers VIVID first (docs/lti.md)",
        ),
        LtiError::Launch(LaunchError::UnknownDeployment) => ApiError::bad_request(
            "unknown_platform",
            "this deployment of the tool is not registered: the LMS administrator registers it (docs/lti.md)",
        ),
        LtiError::Launch(e @ LaunchError::InvalidToken(_)) => {
            ApiError::unauthenticated(format!("{e}: launch again from the course"))
        }
        LtiError::Launch(LaunchError::KeysUnavailable(detail)) => {
            tracing::warn!(detail, "platform keys unavailable");
            ApiError::upstream("platform_unavailable", "the LMS's keys could not be fetched; launch again in a moment")
        }
        e @ LtiError::CourseNotLinked => ApiError::conflict("course_not_linked", e.to_string()),
        e @ LtiError::NoCourse => ApiError::bad_request("invalid_lti_request", e.to_string()),
        e @ LtiError::NotInstructor => ApiError::forbidden("managers_only", e.to_string()),
        e @ LtiError::AccountDeleting => ApiError::conflict("account_deleting", e.to_string()),
        e @ LtiError::RemovedByHost => ApiError::forbidden("removed_from_space", e.to_string()),
        LtiError::Store(e) => e.into(),
        LtiError::Random(e) => ApiError::internal(e),
    }
}

fn sign_failed(e: SignError) -> ApiError {
    ApiError::unavailable(e)
}

/// An `application/x-www-form-urlencoded` body's fields (the first of each name).
fn form(req: &ApiRequest) -> Result<HashMap<String, String>, ApiError> {
    let (_, bytes) =
        req.typed_body(MAX_FORM, &["application/x-www-form-urlencoded"], "application/x-www-form-urlencoded")?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("invalid_lti_request", "the form is not UTF-8"))?;
    let mut fields = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| ApiError::bad_request("invalid_lti_request", "the form is not UTF-8"))
        };
        fields.entry(decode(k)?).or_insert(decode(v)?);
    }
    Ok(fields)
}

/// A text of at most 4096 characters, free of control characters, or a 400 naming `name`.
fn field(value: Option<&str>, name: &'static str, required: bool) -> Result<Option<String>, ApiError> {
    field_up_to(value, name, required, 4096)
}

/// [`field`] of at most `max` bytes (an ID token is longer than the other fields).
fn field_up_to(
    value: Option<&str>,
    name: &'static str,
    required: bool,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value {
        None | Some("") if required => Err(ApiError::bad_request("invalid_lti_request", format!("{name} is required"))),
        None | Some("") => Ok(None),
        Some(v) if v.len() > max || v.chars().any(char::is_control) => Err(ApiError::bad_request(
            "invalid_lti_request",
            format!("{name} must be at most {max} characters without control characters"),
        )),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// An HTML page that posts `fields` to `action` at once (the form_post pattern LTI uses).
pub fn auto_post(action: &str, fields: &[(&str, &str)]) -> Result<Response<Body>, ApiError> {
    let esc = |s: &str| {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
    };
    let inputs: String = fields
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v)))
        .collect();
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>VIVID</title></head><body>\
         <form id=\"f\" method=\"post\" action=\"{}\">{inputs}<noscript><button>Continue</button></noscript></form>\
         <script>document.getElementById('f').submit()</script></body></html>",
        esc(action)
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("content-security-policy", "default-src 'none'; script-src 'unsafe-inline'; form-action https: http:")
        .body(Body::Text(page))
        .map_err(ApiError::internal)
}

/// `GET /lti/jwks`: the tool's public keys, for platforms to verify what it signs.
pub struct LtiJwks {
    pub signer: Arc<dyn ToolSigner>,
}

#[async_trait]
impl Handler for LtiJwks {
    async fn handle(&self, _req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let jwks = self.signer.jwks().await.map_err(sign_failed)?;
        let mut resp = http::json(StatusCode::OK, &jwks)?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
        Ok(resp)
    }
}

/// `GET` and `POST /lti/login`: the platform's third-party initiated login. The state and nonce
/// are stored server-side (ten minutes, good once); 302 to the platform's authorization
/// endpoint, which posts the ID token to `POST /lti/launch` on this API's own domain.
pub struct LtiLogin {
    pub lti: Arc<Lti>,
}

#[async_trait]
impl Handler for LtiLogin {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let posted = if req.method() == ::http::Method::POST { form(req)? } else { HashMap::new() };
        let get = |name: &str| posted.get(name).map(String::as_str).or_else(|| req.query(name));
        let login = LoginRequest {
            iss: field(get("iss"), "iss", true)?.unwrap_or_default(),
            login_hint: field(get("login_hint"), "login_hint", true)?.unwrap_or_default(),
            target_link_uri: field(get("target_link_uri"), "target_link_uri", true)?.unwrap_or_default(),
            lti_message_hint: field(get("lti_message_hint"), "lti_message_hint", false)?,
            client_id: field(get("client_id"), "client_id", false)?,
            lti_deployment_id: field(get("lti_deployment_id"), "lti_deployment_id", false)?,
        };
        let origin =
            req.origin().ok_or_else(|| ApiError::bad_request("unknown_api_domain", "the request names no domain"))?;
        let redirect =
            self.lti.start_login(&login, &format!("{origin}{LAUNCH_PATH}"), unix_now()).await.map_err(problem)?;
        let location = url_with(&redirect.auth_url, &redirect.params)?;
        http::redirect(&location)
    }
}

/// `base` with `params` appended to its query.
fn url_with(base: &str, params: &[(&'static str, String)]) -> Result<String, ApiError> {
    const VALUE: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let query: Vec<String> =
        params.iter().map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, VALUE))).collect();
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}{}", query.join("&")))
}

/// `POST /lti/launch`: the platform's form post of `id_token` and `state`. A launch that checks
/// out answers 302 to the front end with a one-time code in the fragment
/// (`#ltiCode=..`), which the page exchanges at `POST /lti/session`.
pub struct LtiLaunch {
    pub lti: Arc<Lti>,
    /// Where launches land: the front end (`VIVID_FRONTEND_URL`).
    pub frontend_url: String,
}

#[async_trait]
impl Handler for LtiLaunch {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let fields = form(req)?;
        // The LMS's error response (OpenID Connect Core 3.1.2.6, e.g. `login_required` when the
        // person's LMS session ended): back to the front end, which says what happened, as the
        // sign-in flows do. An empty `error` is no error.
        if let Some(error) = fields.get("error").filter(|e| !e.is_empty()) {
            let said: String = error.chars().take(100).collect();
            let location = format!(
                "{}#error=lti_launch_refused&error_description={}",
                self.frontend_url.trim_end_matches('/'),
                fragment_value(&format!("the LMS refused the launch ({said}): launch again from the course"))
            );
            return http::redirect(&location);
        }
        let id_token =
            field_up_to(fields.get("id_token").map(String::as_str), "id_token", true, MAX_FORM)?.unwrap_or_default();
        let state = field(fields.get("state").map(String::as_str), "state", true)?.unwrap_or_default();
        if id_token.len() > MAX_FORM || state.chars().count() > 128 {
            return Err(ApiError::bad_request("invalid_lti_request", "id_token or state is too long"));
        }
        let launched = match self.lti.launch(&id_token, &state, unix_now()).await {
            Ok(launched) => launched,
            // A browser's launch (its navigation accepts text/html) that is refused (4xx) lands
            // on the front end inside the LMS's frame, which says why, rather than showing a JSON
            // document there; the problem's code, detail and request id ride in the fragment. A
            // failure of ours (5xx) stays a problem answer: logged and counted by the dispatch
            // like every route's, for the API's 5XX alarms.
            Err(e) => {
                let e = problem(e);
                if !navigation(req) || e.status().is_server_error() {
                    return Err(e);
                }
                tracing::info!(
                    code = e.code(),
                    status = e.status().as_u16(),
                    "lti launch refused: the front end says why"
                );
                let location = format!(
                    "{}#error={}&error_description={}&request_id={}",
                    self.frontend_url.trim_end_matches('/'),
                    e.code(),
                    fragment_value(&e.to_problem(None).detail),
                    fragment_value(req.request_id())
                );
                return http::redirect(&location);
            }
        };
        let location = format!("{}#ltiCode={}", self.frontend_url.trim_end_matches('/'), launched.code);
        http::redirect(&location)
    }
}

/// Whether the request is a browser's navigation (its `Accept` names `text/html`), as the LMS's
/// form post in the course page is; an API client asking for JSON gets the problem document.
fn navigation(req: &ApiRequest) -> bool {
    req.header(::http::header::ACCEPT).is_some_and(|a| a.split(',').any(|t| t.trim().starts_with("text/html")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CodeBody {
    code: String,
}

/// What the launch opens, beside the tokens.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LaunchView {
    space_id: SpaceId,
    #[serde(skip_serializing_if = "Option::is_none")]
    video_id: Option<VideoId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deep_link_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionBody {
    #[serde(flatten)]
    tokens: TokensBody,
    launch: LaunchView,
}

/// `POST /lti/session`: `{code}` (the launch's, two minutes, good once) → the access and refresh
/// tokens (the refresh in the body: no cookie works in the iframe) and what the launch opens.
pub struct LtiSession {
    pub lti: Arc<Lti>,
    pub users: Arc<dyn UserStore>,
    pub sessions: Sessions,
}

#[async_trait]
impl Handler for LtiSession {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let body: CodeBody = req.json(MAX_BODY)?;
        let refused = || {
            ApiError::bad_request(
                "invalid_code",
                "the launch code is unknown, expired or already used: launch again from the course",
            )
        };
        let code = self.lti.take_code(&body.code, unix_now()).await.map_err(problem)?.ok_or_else(refused)?;
        let user = self.users.get_user(&code.user_id).await?.filter(|u| !u.deleting).ok_or(ApiError::AccountDeleted)?;
        let pair = self.sessions.issue(&user.user_id, &user.email, req.header(header::USER_AGENT)).await?;
        let body = SessionBody {
            tokens: TokensBody {
                access_token: pair.access.token,
                token_type: "Bearer",
                expires_in: pair.access.expires_in,
                refresh_token: Some(pair.refresh),
                user: Some(crate::users::UserView::new(user)),
            },
            launch: LaunchView { space_id: code.space_id, video_id: code.video_id, deep_link_id: code.deep_link_id },
        };
        let mut resp = http::json(StatusCode::OK, &body)?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeepLinkBody {
    deep_link_id: String,
    video_ids: Vec<VideoId>,
}

/// `POST /lti/deep-link`: `{deepLinkId, videoIds}` by the instructor the deep-linking launch was
/// for (bearer token; the request is good once) → the signed `LtiDeepLinkingResponse`, as a page
/// that posts it to the platform's `deep_link_return_url`. Each video becomes an
/// `ltiResourceLink` whose launch opens it.
pub struct LtiDeepLink {
    pub launches: Arc<dyn LaunchStore>,
    pub videos: Arc<dyn VideoCatalog>,
    pub signer: Arc<dyn ToolSigner>,
    pub verifier: TokenVerifier,
}

#[async_trait]
impl Handler for LtiDeepLink {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.verifier)?;
        let body: DeepLinkBody = req.json(MAX_BODY)?;
        if body.video_ids.is_empty() || body.video_ids.len() > 20 {
            // At least one: each picked video is where the caller's role is checked again.
            return Err(ApiError::unprocessable("invalid_body", "videoIds: 1 to 20 videos a deep link"));
        }
        if body.deep_link_id.is_empty() || body.deep_link_id.len() > 128 {
            return Err(ApiError::unprocessable("invalid_body", "deepLinkId: 1 to 128 characters"));
        }
        // Read before the request is taken: an unknown video leaves the request usable. The
        // caller must still manage the videos' space now (a role taken away since the
        // deep-linking launch, an hour at most, counts): 403 `managers_only`.
        let mut videos = Vec::new();
        for id in &body.video_ids {
            let m = crate::videos::video_member(self.videos.as_ref(), id, &caller.user_id).await?;
            if !m.member.manages() {
                return Err(Denied::ManagersOnly.into());
            }
            videos.push(m.video);
        }
        let now = unix_now();
        let ctx = self.launches.take_deep_link(&body.deep_link_id, &caller.user_id, now).await?.ok_or_else(|| {
            ApiError::bad_request(
                "invalid_state",
                "the deep-linking request is unknown, expired, used or not yours: open the picker again from the LMS",
            )
        })?;
        if videos.iter().any(|v| v.space_id != ctx.space_id) {
            // Another space's video: refused as unknown, and the request is put back unspent.
            self.launches.put_deep_link(&ctx).await?;
            return Err(ApiError::NotFound("video"));
        }
        let origin = req.origin().unwrap_or_default();
        let mut picked = Vec::new();
        for video in videos {
            picked.push(json!({
                "type": "ltiResourceLink",
                "title": video.title.as_str(),
                "url": format!("{origin}{LAUNCH_PATH}?video={}", video.video_id),
                "custom": { "vivid_video": video.video_id.to_string() },
            }));
        }
        let mut claims = Map::new();
        claims.insert("iss".into(), ctx.client_id.clone().into());
        claims.insert("aud".into(), json!([ctx.issuer]));
        claims.insert("azp".into(), ctx.client_id.clone().into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + 300).into());
        claims.insert("nonce".into(), random_token().map_err(ApiError::internal)?.into());
        let lti = "https://purl.imsglobal.org/spec/lti/claim/";
        claims.insert(format!("{lti}message_type"), "LtiDeepLinkingResponse".into());
        claims.insert(format!("{lti}version"), "1.3.0".into());
        claims.insert(format!("{lti}deployment_id"), ctx.deployment_id.clone().into());
        claims.insert("https://purl.imsglobal.org/spec/lti-dl/claim/content_items".into(), Value::Array(picked));
        if let Some(data) = &ctx.data {
            claims.insert("https://purl.imsglobal.org/spec/lti-dl/claim/data".into(), data.clone().into());
        }
        let jwt = self.signer.sign(&claims).await.map_err(sign_failed)?;
        auto_post(&ctx.return_url, &[("JWT", &jwt)])
    }
}
