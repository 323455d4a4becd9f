//! The HTTP side every platform connector (Webex, Zoom) shares, so that each adapter only says
//! what is particular to its platform:
//!
//! - OAuth token requests (client credentials in the form or as HTTP Basic), answers mapped to
//!   [`ConnectorError`]: a refused code is `BadCode`, a refused refresh `ReconnectRequired`;
//! - authorized API calls: 401 → `Unauthorized` (the connector refreshes once), 404 → `NotFound`,
//!   429 waited out once when `Retry-After` is short, else `RateLimited`, 5xx → `Unavailable`;
//! - downloads that follow redirects only to the platform's own hosts (an allow-list), connect
//!   only to public addresses (`vivid_http`'s resolver and its check of IP hosts), stop at a
//!   byte cap and at an overall deadline, and never put their URL (which carries a temporary
//!   token) into an error.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use reqwest::Url;
use serde::Deserialize;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    connectors::{ByteStream, ConnectorError, OAuthTokens},
    types::unix_now,
};

/// A refresh token without a stated lifetime is treated as this long-lived (Zoom: 15 years).
const LONG_LIVED: u64 = 15 * 365 * 24 * 3600;
const MAX_REDIRECTS: usize = 5;

fn unavailable(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Unavailable(e.to_string())
}

/// A transport failure, without its URL: download links carry temporary tokens, and the message
/// ends up in logs and in a video's failure reason.
pub fn transport(e: reqwest::Error) -> ConnectorError {
    ConnectorError::Unavailable(vivid_http::describe(e))
}

/// Host names a download may be served from: `zoom.us` (exactly) or `*.zoom.us` (any subdomain).
#[derive(Debug, Clone, Default)]
pub struct Hosts(Vec<String>);

impl Hosts {
    pub fn new(patterns: impl IntoIterator<Item = String>) -> Self {
        Self(patterns.into_iter().map(|p| p.trim().to_ascii_lowercase()).filter(|p| !p.is_empty()).collect())
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.0.iter().any(|p| match p.strip_prefix("*.") {
            Some(suffix) => host.strip_suffix(suffix).is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
            None => *p == host,
        })
    }
}

/// What a download may do.
#[derive(Debug, Clone)]
pub struct DownloadRules {
    pub hosts: Hosts,
    /// The most bytes a download may bring.
    pub max_bytes: u64,
    /// The whole download, redirects and body, must end within this.
    pub deadline: Duration,
}

impl DownloadRules {
    /// `hosts_var` (comma-separated patterns, `default_hosts` when absent), the import quota
    /// (`importBytes` of `VIVID_QUOTAS`, 10 GiB by default) and `VIVID_IMPORT_DEADLINE_SECS` (14 minutes: inside Lambda's 15).
    pub fn from_config(cfg: &Config, hosts_var: &str, default_hosts: &str) -> Result<Self, ConfigError> {
        let hosts = cfg.optional(hosts_var).unwrap_or_else(|| default_hosts.to_owned());
        Ok(Self {
            hosts: Hosts::new(hosts.split(',').map(str::to_owned)),
            max_bytes: cfg
                .parsed::<vivid_domain::quota::Quotas>(vivid_domain::quota::QUOTAS_VAR)?
                .unwrap_or_default()
                .import_bytes,
            deadline: Duration::from_secs(cfg.number("VIVID_IMPORT_DEADLINE_SECS", 14 * 60)?),
        })
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    refresh_token: String,
    #[serde(default)]
    refresh_token_expires_in: Option<u64>,
}

/// A platform's OAuth client secret: read from the secret store by the first token request that
/// needs it (an exchange, a refresh, a revocation), not at init — most requests of a list or
/// import function use the stored access token and never need it.
pub type ClientSecret = std::sync::Arc<vivid_config::FirstUse<String>>;

/// A client secret already at hand (tests, the local stack).
pub fn client_secret(secret: impl Into<String>) -> ClientSecret {
    std::sync::Arc::new(vivid_config::FirstUse::ready(secret.into()))
}

/// How a token request authenticates the client.
pub enum ClientAuth<'a> {
    /// `client_id` and `client_secret` in the form (Webex).
    Form { id: &'a str, secret: &'a str },
    /// HTTP Basic (Zoom).
    Basic { id: &'a str, secret: &'a str },
}

/// The HTTP clients of one platform adapter, each built at its first use and kept for the
/// container's life: a function that only builds URLs (the connect login) never builds them, and
/// the others pay for them (the TLS roots read and parsed, about 2 ms each) on the request that
/// calls the platform, beside a TLS handshake with it, instead of at every cold start.
pub struct PlatformHttp {
    api: OnceLock<Result<reqwest::Client, String>>,
    downloads: OnceLock<Result<reqwest::Client, String>>,
    allow_private_downloads: bool,
    /// The longest `Retry-After` waited for before giving up.
    max_wait: Duration,
}

impl PlatformHttp {
    /// `allow_private_downloads` lets downloads reach loopback and private addresses (the local
    /// stack's stand-ins); never in AWS.
    pub fn new(allow_private_downloads: bool) -> Result<Self, ConfigError> {
        Ok(Self {
            api: OnceLock::new(),
            downloads: OnceLock::new(),
            allow_private_downloads,
            max_wait: Duration::from_secs(5),
        })
    }

    fn api(&self) -> Result<&reqwest::Client, ConnectorError> {
        self.api
            .get_or_init(|| {
                reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(30))
                    .build()
                    .map_err(|e| format!("the platform API client: {e}"))
            })
            .as_ref()
            .map_err(unavailable)
    }

    fn downloads(&self) -> Result<&reqwest::Client, ConnectorError> {
        self.downloads
            .get_or_init(|| {
                let mut builder = reqwest::Client::builder()
                    // Not through HTTPS_PROXY/ALL_PROXY: a proxy resolves names past the public-only resolver.
                    .no_proxy()
                    .connect_timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none());
                if !self.allow_private_downloads {
                    builder = builder.dns_resolver(vivid_http::public_only());
                }
                builder.build().map_err(|e| format!("the download client: {e}"))
            })
            .as_ref()
            .map_err(unavailable)
    }

    /// From `VIVID_ALLOW_PRIVATE_DOWNLOADS` (set by the local stack only).
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Self::new(cfg.flag("VIVID_ALLOW_PRIVATE_DOWNLOADS"))
    }

    /// A form POST authenticated as the client.
    fn client_post(
        &self,
        url: &str,
        auth: ClientAuth<'_>,
        form: &[(&str, &str)],
    ) -> Result<reqwest::RequestBuilder, ConnectorError> {
        let api = self.api()?;
        Ok(match auth {
            ClientAuth::Form { id, secret } => {
                let mut all = vec![("client_id", id), ("client_secret", secret)];
                all.extend_from_slice(form);
                api.post(url).form(&all)
            }
            ClientAuth::Basic { id, secret } => api.post(url).basic_auth(id, Some(secret)).form(form),
        })
    }

    /// A token request; `code_flow` says whether a 4xx means a bad code (else a dead refresh token).
    pub async fn token(
        &self,
        url: &str,
        auth: ClientAuth<'_>,
        form: &[(&str, &str)],
        code_flow: bool,
    ) -> Result<OAuthTokens, ConnectorError> {
        let resp = self.client_post(url, auth, form)?.send().await.map_err(transport)?;
        let status = resp.status();
        if status.is_client_error() {
            return Err(if code_flow { ConnectorError::BadCode } else { ConnectorError::ReconnectRequired });
        }
        if !status.is_success() {
            return Err(unavailable(format!("the token endpoint answered {status}")));
        }
        let t: TokenResponse = resp.json().await.map_err(transport)?;
        let now = unix_now();
        Ok(OAuthTokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            access_expires_at: now.saturating_add(t.expires_in),
            refresh_expires_at: now.saturating_add(t.refresh_token_expires_in.unwrap_or(LONG_LIVED)),
        })
    }

    /// A POST that needs only to succeed (revocations).
    pub async fn post_form(
        &self,
        url: &str,
        auth: ClientAuth<'_>,
        form: &[(&str, &str)],
    ) -> Result<(), ConnectorError> {
        let resp = self.client_post(url, auth, form)?.send().await.map_err(transport)?;
        if resp.status().is_success() { Ok(()) } else { Err(unavailable(format!("answered {}", resp.status()))) }
    }

    /// A DELETE with the access token that needs only to succeed (Webex's revocation of its
    /// authorization): 401 → `Unauthorized`, any other failure `Unavailable` with the status.
    pub async fn delete(&self, url: &str, access_token: &str) -> Result<(), ConnectorError> {
        let resp = self.api()?.delete(url).bearer_auth(access_token).send().await.map_err(transport)?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            401 => Err(ConnectorError::Unauthorized),
            status => Err(unavailable(format!("the platform answered {status}"))),
        }
    }

    /// A GET with the access token; a 429 is waited out once when `Retry-After` is short.
    pub async fn get(&self, url: &str, access_token: &str) -> Result<reqwest::Response, ConnectorError> {
        for attempt in 0..2 {
            let resp = self.api()?.get(url).bearer_auth(access_token).send().await.map_err(transport)?;
            match resp.status().as_u16() {
                200..=299 => return Ok(resp),
                401 => return Err(ConnectorError::Unauthorized),
                404 => return Err(ConnectorError::NotFound),
                400 | 422 => return Err(ConnectorError::Rejected(format!("the platform answered {}", resp.status()))),
                429 => {
                    let wait = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    match wait {
                        Some(w) if attempt == 0 && w <= self.max_wait => tokio::time::sleep(w).await,
                        _ => return Err(ConnectorError::RateLimited(wait)),
                    }
                }
                status => return Err(unavailable(format!("the platform answered {status}"))),
            }
        }
        Err(ConnectorError::RateLimited(None))
    }

    /// Streams a download: redirects followed only to allowed hosts, the body cut at the byte
    /// cap and at the deadline. `access_token` is sent to the first URL only (never to a host a
    /// redirect names).
    pub async fn download(
        &self,
        url: &str,
        access_token: Option<&str>,
        rules: &DownloadRules,
    ) -> Result<ByteStream, ConnectorError> {
        let started = Instant::now();
        let mut url = Url::parse(url).map_err(|_| unavailable("the download link is not a URL"))?;
        let mut bearer = access_token;
        for _ in 0..=MAX_REDIRECTS {
            let host = url.host_str().unwrap_or_default().to_owned();
            if !rules.hosts.allows(&host) {
                return Err(unavailable(format!("the download is served from {host}, which is not the platform's")));
            }
            // An address in the URL is connected to without the resolver: checked here.
            if !vivid_http::public_host(url.as_str(), self.allow_private_downloads) {
                return Err(unavailable(format!("the download is served from {host}, which is not a public address")));
            }
            let mut req = self.downloads()?.get(url.clone());
            if let Some(token) = bearer {
                req = req.bearer_auth(token);
            }
            let left = rules.deadline.saturating_sub(started.elapsed());
            let resp = tokio::time::timeout(left, req.send())
                .await
                .map_err(|_| unavailable("the download did not start in time"))?
                .map_err(transport)?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| unavailable("a redirect without a location"))?;
                if next.host_str() != url.host_str() {
                    bearer = None;
                }
                url = next;
                continue;
            }
            match status.as_u16() {
                200..=299 => {}
                401 => return Err(ConnectorError::Unauthorized),
                404 => return Err(ConnectorError::NotFound),
                _ => return Err(unavailable(format!("the download answered {status}"))),
            }
            if resp.content_length().is_some_and(|n| n > rules.max_bytes) {
                return Err(unavailable(format!("the recording is larger than the {} bytes allowed", rules.max_bytes)));
            }
            let deadline = tokio::time::Instant::now() + left;
            let max = rules.max_bytes;
            let body = Box::pin(resp.bytes_stream());
            let stream = futures_util::stream::unfold(Some((body, 0u64)), move |state| async move {
                let (mut body, seen) = state?;
                match tokio::time::timeout_at(deadline, body.next()).await {
                    Err(_) => Some((Err(unavailable("the download took longer than allowed")), None)),
                    Ok(None) => None,
                    Ok(Some(Err(e))) => Some((Err(transport(e)), None)),
                    Ok(Some(Ok(chunk))) => {
                        let seen = seen + chunk.len() as u64;
                        if seen > max {
                            Some((
                                Err(unavailable(format!("the recording is larger than the {max} bytes allowed"))),
                                None,
                            ))
                        } else {
                            Some((Ok(chunk), Some((body, seen))))
                        }
                    }
                }
            });
            return Ok(Box::pin(stream));
        }
        Err(unavailable("too many redirects"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_exactly_or_as_subdomains() {
        let h = Hosts::new(["zoom.us".to_owned(), "*.zoom.us".to_owned()]);
        assert!(h.allows("zoom.us"));
        assert!(h.allows("us02web.zoom.us"));
        assert!(h.allows("SSRWEB.ZOOM.US"));
        assert!(!h.allows("zoom.us.evil.com"));
        assert!(!h.allows("evilzoom.us"));
        assert!(!h.allows(".zoom.us"));
    }
}
