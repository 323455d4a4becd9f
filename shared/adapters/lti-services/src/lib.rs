//! LTI Advantage services at the platform, over HTTPS: the OAuth 2 client-credentials grant with
//! a JWT client assertion (IMS Security Framework 1.0 §4.1, RFC 7523) signed by the tool's key,
//! Names and Role Provisioning Services 2.0 and Assignment and Grade Services 2.0.
//!
//! - Tokens are cached per (token URL, client id, scopes) until a minute before they expire; a
//!   service's 401 drops the cached token and tries once more with a fresh one.
//! - Every URL comes from a platform's signed launch or its registration. Outside the local stack
//!   only `https:` URLs are called, and only at public addresses: an IP address in the URL is
//!   checked before the call, a name by the client's resolver at each connection
//!   ([`vivid_http::public_only`]), and no redirect is followed. `VIVID_ALLOW_PRIVATE_DOWNLOADS`,
//!   set by the local stack only, lets `http:` and private addresses through (its stand-ins
//!   listen on 127.0.0.1).
//! - The HTTP client is built by the first call that needs it, not at init.

mod wire;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use async_trait::async_trait;
use reqwest::{StatusCode, Url, header::HeaderMap};
use serde_json::{Map, Value, json};
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    lti::{
        services::{
            LineItem, LineItemSpec, LtiServices, PlatformMember, RosterBounds, SCOPE_LINE_ITEM, SCOPE_MEMBERSHIPS,
            SCOPE_SCORE, Score, ServiceClient, ServiceError,
        },
        signer::ToolSigner,
    },
    types::unix_now,
};

const MEMBERSHIPS: &str = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";
const LINE_ITEMS: &str = "application/vnd.ims.lis.v2.lineitemcontainer+json";
const LINE_ITEM: &str = "application/vnd.ims.lis.v2.lineitem+json";
const SCORE: &str = "application/vnd.ims.lis.v1.score+json";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A client assertion's life: long enough for clock skew, short enough not to be replayable.
const ASSERTION_SECONDS: u64 = 300;
/// A cached token is dropped this long before it expires.
const EARLY: u64 = 60;
/// The most bytes one answer (a page of members, a token) may have.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// Pages of line items read while looking for a video's.
const MAX_LINE_ITEM_PAGES: u32 = 20;

type TokenKey = (String, String, String);

/// The services client.
pub struct LtiHttp {
    signer: Arc<dyn ToolSigner>,
    http: OnceLock<Result<reqwest::Client, String>>,
    tokens: Mutex<HashMap<TokenKey, (String, u64)>>,
    allow_http: bool,
}

fn unavailable(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unavailable(e.to_string())
}

/// A transport failure, without its URL (which may carry the platform's query tokens).
fn transport(e: reqwest::Error) -> ServiceError {
    ServiceError::Unavailable(vivid_http::describe(e))
}

impl LtiHttp {
    /// `allow_http`: the local stack's stand-ins listen on `http://127.0.0.1` (plain HTTP and
    /// private addresses are called); never in AWS.
    pub fn new(signer: Arc<dyn ToolSigner>, allow_http: bool) -> Self {
        Self { signer, http: OnceLock::new(), tokens: Mutex::new(HashMap::new()), allow_http }
    }

    pub fn from_config(cfg: &Config, signer: Arc<dyn ToolSigner>) -> Result<Self, ConfigError> {
        Ok(Self::new(signer, cfg.flag("VIVID_ALLOW_PRIVATE_DOWNLOADS")))
    }

    fn http(&self) -> Result<&reqwest::Client, ServiceError> {
        self.http
            .get_or_init(|| {
                let mut builder = reqwest::Client::builder()
                    // Not through HTTPS_PROXY/ALL_PROXY: a proxy resolves names past the public-only resolver.
                    .no_proxy()
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(20))
                    .redirect(reqwest::redirect::Policy::none());
                if !self.allow_http {
                    builder = builder.dns_resolver(vivid_http::public_only());
                }
                builder.build().map_err(|e| format!("the LTI services client: {e}"))
            })
            .as_ref()
            .map_err(unavailable)
    }

    /// A platform URL the tool may call.
    fn url(&self, url: &str) -> Result<Url, ServiceError> {
        let parsed = Url::parse(url).map_err(|_| ServiceError::Unreadable("a service URL is not a URL".into()))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(ServiceError::Unreadable("a service URL is not https".into())),
        }
        if !vivid_http::public_host(parsed.as_str(), self.allow_http) {
            return Err(ServiceError::Unreadable("a service URL is not at a public address".into()));
        }
        Ok(parsed)
    }

    /// The client assertion: `iss` = `sub` = the client id, `aud` the token endpoint (or the
    /// platform's audience), a fresh `jti`, five minutes of life.
    async fn assertion(&self, client: &ServiceClient) -> Result<String, ServiceError> {
        let now = unix_now();
        let aud = client.audience.clone().unwrap_or_else(|| client.token_url.clone());
        let claims = json!({
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": aud,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
            "jti": ulid::Ulid::new().to_string(),
        });
        let claims: Map<String, Value> = match claims {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Ok(self.signer.sign(&claims).await?)
    }

    fn cached(&self, key: &TokenKey) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        tokens.get(key).filter(|(_, until)| *until > unix_now()).map(|(t, _)| t.clone())
    }

    fn forget(&self, key: &TokenKey) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.remove(key);
        }
    }

    /// An access token for `scopes`, from the cache or the platform's token endpoint.
    async fn token(&self, client: &ServiceClient, scopes: &[&str]) -> Result<(TokenKey, String), ServiceError> {
        let mut sorted = scopes.to_vec();
        sorted.sort_unstable();
        let scope = sorted.join(" ");
        let key = (client.token_url.clone(), client.client_id.clone(), scope.clone());
        if let Some(token) = self.cached(&key) {
            return Ok((key, token));
        }
        let url = self.url(&client.token_url)?;
        let assertion = self.assertion(client).await?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
            ("scope", scope.as_str()),
        ];
        let resp = self.http()?.post(url).form(&form).send().await.map_err(transport)?;
        let status = resp.status();
        if status.is_client_error() {
            let detail = wire::oauth_error(&read(resp).await.unwrap_or_default());
            tracing::warn!(%status, detail, client_id = %client.client_id, "the token endpoint refused the tool");
            return Err(token_refusal(status, &detail));
        }
        let body = checked(status, resp).await?;
        let token = wire::token(&body)?;
        let until = unix_now().saturating_add(token.expires_in.saturating_sub(EARLY).max(1));
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(key.clone(), (token.access_token.clone(), until));
        }
        Ok((key, token.access_token))
    }

    /// A service request with a bearer token; a 401 is tried once more with a fresh token.
    async fn call(
        &self,
        client: &ServiceClient,
        scopes: &[&str],
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder + Send + Sync,
    ) -> Result<(HeaderMap, Vec<u8>), ServiceError> {
        for attempt in 0..2 {
            let (key, token) = self.token(client, scopes).await?;
            let resp = build(self.http()?, &token).send().await.map_err(transport)?;
            if resp.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                self.forget(&key);
                continue;
            }
            let status = resp.status();
            let headers = resp.headers().clone();
            return Ok((headers, checked(status, resp).await?));
        }
        Err(ServiceError::Refused("the platform refused a fresh token".into()))
    }
}

/// The body, at most [`MAX_BODY`] bytes.
async fn read(mut resp: reqwest::Response) -> Result<Vec<u8>, ServiceError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ServiceError::Unreadable(format!("an answer over {MAX_BODY} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The token endpoint's 4xx: 429 asks the tool to slow down (retryable), any other refuses the
/// tool's client assertion (the registration's key or client id is wrong).
fn token_refusal(status: StatusCode, detail: &str) -> ServiceError {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ServiceError::RateLimited;
    }
    ServiceError::Refused(format!("the token endpoint answered {status}: {detail}"))
}

/// The body of a successful answer; a failure's status as a [`ServiceError`].
async fn checked(status: StatusCode, resp: reqwest::Response) -> Result<Vec<u8>, ServiceError> {
    match status.as_u16() {
        200..=299 => read(resp).await,
        401 | 403 => Err(ServiceError::Refused(format!("the platform answered {status}"))),
        404 => Err(ServiceError::NotFound),
        409 => Err(ServiceError::Conflict),
        429 => Err(ServiceError::RateLimited),
        400..=499 => Err(ServiceError::Unreadable(format!("the platform answered {status}"))),
        _ => Err(unavailable(format!("the platform answered {status}"))),
    }
}

#[async_trait]
impl LtiServices for LtiHttp {
    async fn members(
        &self,
        client: &ServiceClient,
        memberships_url: &str,
        bounds: RosterBounds,
    ) -> Result<Vec<PlatformMember>, ServiceError> {
        let mut members = Vec::new();
        let mut next = Some(self.url(memberships_url)?);
        let mut pages = 0u32;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > bounds.max_pages {
                return Err(ServiceError::TooLarge("the pages a roster sync follows"));
            }
            let (headers, body) = self
                .call(client, &[SCOPE_MEMBERSHIPS], |http, token| {
                    http.get(url.clone()).bearer_auth(token).header("accept", MEMBERSHIPS)
                })
                .await?;
            members.extend(wire::members(&body)?);
            if members.len() > bounds.max_members as usize {
                return Err(ServiceError::TooLarge("the members a roster sync reads"));
            }
            next = wire::next_link(&headers).map(|u| self.url(&u)).transpose()?;
        }
        tracing::info!(pages, members = members.len(), "course roster read");
        Ok(members)
    }

    async fn line_item(
        &self,
        client: &ServiceClient,
        lineitems_url: &str,
        spec: &LineItemSpec,
    ) -> Result<LineItem, ServiceError> {
        let scopes = [SCOPE_LINE_ITEM];
        let container = self.url(lineitems_url)?;
        let mut first = container.clone();
        first.query_pairs_mut().append_pair("resource_id", &spec.resource_id);
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_LINE_ITEM_PAGES {
                break;
            }
            let (headers, body) = self
                .call(client, &scopes, |http, token| {
                    http.get(url.clone()).bearer_auth(token).header("accept", LINE_ITEMS)
                })
                .await?;
            if let Some(found) = wire::line_items(&body)?.into_iter().find(|i| i.resource_id == spec.resource_id) {
                return Ok(LineItem { id: found.id });
            }
            next = wire::next_link(&headers).map(|u| self.url(&u)).transpose()?;
        }
        let body = wire::new_line_item(spec);
        let (_, created) = self
            .call(client, &scopes, |http, token| {
                http.post(container.clone())
                    .bearer_auth(token)
                    .header("accept", LINE_ITEM)
                    .header("content-type", LINE_ITEM)
                    .body(body.clone())
            })
            .await?;
        let item = wire::line_item(&created)?;
        tracing::info!(resource_id = %spec.resource_id, "line item created");
        Ok(LineItem { id: item.id })
    }

    async fn post_score(
        &self,
        client: &ServiceClient,
        line_item: &LineItem,
        score: &Score,
    ) -> Result<(), ServiceError> {
        let mut url = self.url(&line_item.id)?;
        let path = format!("{}/scores", url.path().trim_end_matches('/'));
        url.set_path(&path);
        let body = serde_json::to_vec(score).map_err(|e| ServiceError::Unreadable(e.to_string()))?;
        let result = self
            .call(client, &[SCOPE_SCORE], |http, token| {
                http.post(url.clone()).bearer_auth(token).header("content-type", SCORE).body(body.clone())
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            // The platform holds a later score already (AGS: an older timestamp is ignored).
            Err(ServiceError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_endpoint_s_429_is_retryable_and_other_refusals_are_not() {
        let slow = token_refusal(StatusCode::TOO_MANY_REQUESTS, "slow_down");
        assert!(matches!(slow, ServiceError::RateLimited), "{slow:?}");
        assert!(slow.is_transient());
        let refused = token_refusal(StatusCode::BAD_REQUEST, "invalid_client");
        assert!(matches!(&refused, ServiceError::Refused(d) if d.contains("invalid_client")), "{refused:?}");
        assert!(!refused.is_transient());
        assert!(matches!(token_refusal(StatusCode::UNAUTHORIZED, ""), ServiceError::Refused(_)));
    }

    #[test]
    fn outside_the_local_stack_a_service_url_must_name_no_private_address() {
        let signer = Arc::new(vivid_testkit::lti::RsaToolSigner::new("k"));
        let aws = LtiHttp::new(signer.clone(), false);
        let local = LtiHttp::new(signer, true);
        for url in [
            "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "https://10.0.0.5/api/lti/courses/1/names_and_roles",
            "https://[fd00:ec2::254]/token",
            "https://0x7f.1/token",
        ] {
            let refused = aws.url(url);
            assert!(
                matches!(&refused, Err(ServiceError::Unreadable(d)) if d.contains("public address")),
                "{refused:?}"
            );
            assert!(local.url(url).is_ok(), "{url}");
        }
        assert!(aws.url("https://lms.example/api/lti/courses/1/line_items").is_ok());
        assert!(aws.url("https://52.1.2.3/token").is_ok());
    }
}
