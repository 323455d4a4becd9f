//! Any OpenID Connect provider by its issuer URL (the relying party's side of OpenID Connect
//! Core and Discovery): the discovery document (its `issuer` must equal the configured one
//! exactly), cached per warm container; the authorize URL (code + PKCE S256 + state + nonce);
//! the code exchange with `client_secret_basic` or `client_secret_post` as the provider allows;
//! the ID token verified against the provider's JWKS (RS256 or ES256, as published; an unknown
//! `kid` refetches the keys once, at most once a minute).
//!
//! The client secrets are one Secrets Manager secret, a JSON object of secrets by provider id,
//! read on its first use (the login route never needs it).
//!
//! A discovered provider is reached over HTTPS at public addresses only (its discovery URL and
//! the endpoints its document names: an IP address in them is refused before the call, a name
//! is connected to at its public addresses only by the client's resolver, and no redirect is
//! followed). `VIVID_ALLOW_PRIVATE_DOWNLOADS` (the local stack, [`Oidc::with_loopback_http`])
//! lets loopback `http://` and private addresses through for its identity provider.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;
use tokio::sync::RwLock;

use vivid_config::FirstUse;
use vivid_domain::{
    identity::IdentityError,
    oidc::{OidcClient, OidcProvider, VerifiedClaims},
};

/// A discovery document or key set is read again after this long.
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` refetches the JWKS at most this often.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(60);
/// The largest discovery document, key set or token response read.
const MAX_BODY: usize = 256 * 1024;

/// What the relying party reads of a discovery document; given by configuration instead for a
/// provider whose endpoints are known (Google's, or a stand-in's: [`Oidc::with_endpoints`]).
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// Where the claims an ID token may leave out are read (Core §5.3); none for a provider
    /// given by configuration.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
}

/// Google's issuer ([`vivid_domain::oidc::GOOGLE_ISSUER`]). Its tokens for an Android or iOS
/// client carry that client in `azp` with the web client in `aud`: accepted for this issuer
/// (whichever provider is configured with it).
pub use vivid_domain::oidc::GOOGLE_ISSUER;

/// The client secret(s) the code exchange presents.
pub enum ClientSecrets {
    /// None configured: a code exchange says so.
    None,
    /// One Secrets Manager secret, a JSON object of secrets by provider id, read on first use.
    ById(Arc<FirstUse<String>>),
    /// One secret for every provider of this relying party (Google's own).
    One(String),
}

struct Cached<T> {
    value: T,
    fetched: Instant,
}

/// The relying party for every configured provider.
pub struct Oidc {
    http: OnceLock<Result<reqwest::Client, String>>,
    secrets: ClientSecrets,
    /// Endpoints given by configuration, by provider id: no discovery document is read for them.
    fixed: HashMap<String, Discovery>,
    discovery: RwLock<HashMap<String, Cached<Discovery>>>,
    jwks: RwLock<HashMap<String, Cached<JwkSet>>>,
    /// A discovered provider on `http://127.0.0.1`, or at a private address, is reached (the
    /// local stack only).
    loopback_http: bool,
}

fn upstream(detail: impl Into<String>) -> IdentityError {
    IdentityError::Unavailable(detail.into())
}

fn invalid(reason: &'static str) -> IdentityError {
    IdentityError::InvalidToken(reason)
}

impl Oidc {
    /// `secrets` holds the client secrets by provider id (the login route has none).
    pub fn new(secrets: Option<Arc<FirstUse<String>>>) -> Self {
        Self::with_secrets(secrets.map_or(ClientSecrets::None, ClientSecrets::ById))
    }

    pub fn with_secrets(secrets: ClientSecrets) -> Self {
        Self {
            http: OnceLock::new(),
            secrets,
            fixed: HashMap::new(),
            discovery: RwLock::new(HashMap::new()),
            jwks: RwLock::new(HashMap::new()),
            loopback_http: false,
        }
    }

    /// Discovered providers on `http://` loopback addresses, and at private addresses, are
    /// reached: the local stack's identity provider (`VIVID_ALLOW_PRIVATE_DOWNLOADS`); never in
    /// AWS, where loopback is the Lambda runtime API and 169.254.169.254 the metadata service.
    /// Set before the first call (the HTTP client is built then).
    pub fn with_loopback_http(self, allow: bool) -> Self {
        Self { loopback_http: allow, ..self }
    }

    /// With this HTTP client rather than one of its own (its resolver is the caller's choice).
    pub fn with_http(self, http: reqwest::Client) -> Self {
        Self { http: OnceLock::from(Ok(http)), ..self }
    }

    /// The provider `id`'s endpoints as given, not read from its discovery document.
    pub fn with_endpoints(mut self, id: &str, endpoints: Discovery) -> Self {
        self.fixed.insert(id.to_owned(), endpoints);
        self
    }

    /// The HTTP client (rustls, 5-second timeout, no redirects followed; names connected to at
    /// their public addresses only unless [`Self::with_loopback_http`]), built on first use.
    fn http(&self) -> Result<&reqwest::Client, IdentityError> {
        self.http
            .get_or_init(|| {
                let mut builder = reqwest::Client::builder()
                    // Not through HTTPS_PROXY/ALL_PROXY: a proxy resolves names past the public-only resolver.
                    .no_proxy()
                    .timeout(Duration::from_secs(5))
                    .redirect(reqwest::redirect::Policy::none());
                if !self.loopback_http {
                    builder = builder.dns_resolver(vivid_http::public_only());
                }
                builder.build().map_err(|e| format!("the OpenID Connect HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| upstream(e.clone()))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str, what: &str) -> Result<T, IdentityError> {
        let resp = self
            .http()?
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| upstream(format!("cannot fetch the provider's {what}: {}", vivid_http::describe(e))))?;
        if !resp.status().is_success() {
            return Err(upstream(format!("the provider's {what} answered {}", resp.status())));
        }
        let body =
            vivid_http::read_capped(resp, MAX_BODY, &format!("the provider's {what}")).await.map_err(upstream)?;
        serde_json::from_slice(&body).map_err(|e| upstream(format!("the provider's {what} is unreadable: {e}")))
    }

    /// The provider's discovery document, cached; refused when its `issuer` is not exactly the
    /// configured one (Discovery §4.3), or an endpoint is not https (loopback http only in the
    /// local stack: [`Self::with_loopback_http`]).
    async fn discovery(&self, provider: &OidcProvider) -> Result<Discovery, IdentityError> {
        if let Some(fixed) = self.fixed.get(&provider.id) {
            return Ok(fixed.clone());
        }
        if let Some(c) = self.discovery.read().await.get(&provider.id)
            && c.fetched.elapsed() < CACHE_TTL
        {
            return Ok(c.value.clone());
        }
        let url = provider.discovery_url();
        if !vivid_http::fetchable(&url, self.loopback_http) {
            return Err(upstream("the provider's issuer is not an https URL"));
        }
        if !vivid_http::public_host(&url, self.loopback_http) {
            return Err(upstream("the provider's issuer is not at a public address"));
        }
        let doc: Discovery = self.get_json(&url, "discovery document").await?;
        if doc.issuer != provider.issuer {
            tracing::warn!(provider = %provider.id, published = %doc.issuer, "discovery names another issuer");
            return Err(upstream(format!(
                "the provider's discovery document names the issuer {:?}, not the configured {:?}",
                doc.issuer, provider.issuer
            )));
        }
        let endpoints = [&doc.authorization_endpoint, &doc.token_endpoint, &doc.jwks_uri];
        if !endpoints.iter().all(|u| vivid_http::fetchable(u, self.loopback_http)) {
            return Err(upstream("the provider's discovery document has an endpoint that is not https"));
        }
        // The tool calls these two (the browser goes to the authorization endpoint).
        if ![&doc.token_endpoint, &doc.jwks_uri].iter().all(|u| vivid_http::public_host(u, self.loopback_http)) {
            return Err(upstream("the provider's discovery document has an endpoint that is not at a public address"));
        }
        let mut cache = self.discovery.write().await;
        cache.insert(provider.id.clone(), Cached { value: doc.clone(), fetched: Instant::now() });
        Ok(doc)
    }

    /// The key `kid` of the provider's JWKS, cached; refetched once when the kid is unknown and
    /// the cache is older than a minute (the provider rotated its keys).
    async fn key(&self, provider: &OidcProvider, jwks_uri: &str, kid: &str) -> Result<DecodingKey, IdentityError> {
        if let Some(c) = self.jwks.read().await.get(&provider.id)
            && c.fetched.elapsed() < CACHE_TTL
        {
            if let Some(jwk) = c.value.find(kid) {
                return DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable signing key"));
            }
            if c.fetched.elapsed() < JWKS_MIN_REFRESH {
                return Err(invalid("the ID token is signed by an unknown key"));
            }
        }
        let keys: JwkSet = self.get_json(jwks_uri, "keys").await?;
        let found = keys.find(kid).map(DecodingKey::from_jwk);
        self.jwks.write().await.insert(provider.id.clone(), Cached { value: keys, fetched: Instant::now() });
        match found {
            Some(Ok(key)) => Ok(key),
            _ => Err(invalid("the ID token is signed by an unknown key")),
        }
    }

    async fn client_secret(&self, provider: &OidcProvider) -> Result<String, IdentityError> {
        let secrets = match &self.secrets {
            ClientSecrets::None => return Err(upstream("no client secrets configured")),
            ClientSecrets::One(secret) => return Ok(secret.clone()),
            ClientSecrets::ById(secrets) => secrets,
        };
        let raw = secrets.get().await.map_err(|e| upstream(format!("the client secrets: {e}")))?;
        let map: HashMap<String, String> =
            serde_json::from_str(raw).map_err(|_| upstream("the client secrets are not a JSON object of strings"))?;
        map.get(&provider.id).cloned().ok_or_else(|| upstream(format!("no client secret for {}", provider.id)))
    }

    async fn exchange(
        &self,
        provider: &OidcProvider,
        doc: &Discovery,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<TokenResponse, IdentityError> {
        let secret = self.client_secret(provider).await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        // client_secret_basic unless the provider lists only client_secret_post (Discovery:
        // absent means client_secret_basic).
        let methods = doc.token_endpoint_auth_methods_supported.as_deref().unwrap_or_default();
        let post = !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post");
        let mut req = self.http()?.post(&doc.token_endpoint).header("accept", "application/json");
        if post {
            form.extend([("client_id", provider.client_id.as_str()), ("client_secret", secret.as_str())]);
        } else {
            // RFC 6749 §2.3.1: each form-encoded before the basic encoding.
            let enc = |v: &str| -> String { url_form(v) };
            req = req.basic_auth(enc(&provider.client_id), Some(enc(&secret)));
        }
        let resp = req.form(&form).send().await.map_err(|e| {
            upstream(format!("cannot reach the provider's token endpoint: {}", vivid_http::describe(e)))
        })?;
        let status = resp.status();
        if status.is_client_error() {
            // RFC 6749 §5.2: `invalid_grant` is the code (used, expired, another client's);
            // `invalid_client` (or a 401) is the relying party's own credentials — an operator's
            // problem, not the user's, so never answered as a bad code.
            let body = vivid_http::read_capped(resp, MAX_BODY, "the provider's token error").await.unwrap_or_default();
            let error = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_default();
            if status == reqwest::StatusCode::UNAUTHORIZED
                || matches!(error.as_str(), "invalid_client" | "unauthorized_client")
            {
                tracing::error!(provider = %provider.id, %status, error, "the provider refused the client's credentials: check its client secret");
                return Err(upstream("the provider refused VIVID's client credentials"));
            }
            return Err(IdentityError::BadCode);
        }
        if !status.is_success() {
            return Err(upstream(format!("the provider's token endpoint answered {status}")));
        }
        let body = vivid_http::read_capped(resp, MAX_BODY, "the provider's token response").await.map_err(upstream)?;
        // RFC 6749 §5.1: a JSON object (serde would also read a struct from an array).
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| upstream(format!("unreadable token response: {e}")))?;
        if !value.is_object() {
            return Err(upstream("the token response is not a JSON object"));
        }
        let tokens: TokenResponse =
            serde_json::from_value(value).map_err(|e| upstream(format!("unreadable token response: {e}")))?;
        if tokens.id_token.is_none() {
            return Err(upstream("the token response has no id_token"));
        }
        Ok(tokens)
    }

    /// The UserInfo endpoint's claims for the access token; refused unless its `sub` is the ID
    /// token's (Core §5.3.2: the answer may be another user's otherwise).
    async fn user_info(&self, endpoint: &str, access_token: &str, sub: &str) -> Result<UserInfo, IdentityError> {
        let resp = self
            .http()?
            .get(endpoint)
            .bearer_auth(access_token)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                upstream(format!("cannot reach the provider's userinfo endpoint: {}", vivid_http::describe(e)))
            })?;
        if !resp.status().is_success() {
            return Err(upstream(format!("the provider's userinfo endpoint answered {}", resp.status())));
        }
        let body = vivid_http::read_capped(resp, MAX_BODY, "the provider's userinfo").await.map_err(upstream)?;
        // A signed (JWT) answer is not read: a provider configured to sign UserInfo puts the
        // claims in the ID token as well.
        let info: UserInfo =
            serde_json::from_slice(&body).map_err(|e| upstream(format!("unreadable userinfo answer: {e}")))?;
        if info.sub != sub {
            return Err(invalid("the userinfo answer is for another subject"));
        }
        Ok(info)
    }

    /// The ID token's claims, verified for `provider`: signature, `iss`, `aud`, `azp`, `exp`
    /// and the nonce.
    async fn verify(
        &self,
        provider: &OidcProvider,
        doc: &Discovery,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<VerifiedClaims, IdentityError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| invalid("malformed ID token"))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(invalid("the ID token must be signed with RS256 or ES256"));
        }
        let published = doc.id_token_signing_alg_values_supported.as_deref().unwrap_or_default();
        if !published.is_empty() && !published.iter().any(|a| a == &format!("{:?}", header.alg)) {
            return Err(invalid("the ID token's algorithm is not one the provider publishes"));
        }
        let kid = header.kid.ok_or(invalid("the ID token names no key"))?;
        let key = self.key(provider, &doc.jwks_uri, &kid).await?;
        let mut validation = Validation::new(header.alg);
        let google = provider.issuer == GOOGLE_ISSUER;
        if google {
            validation.set_issuer(&[GOOGLE_ISSUER, "accounts.google.com"]);
        } else {
            validation.set_issuer(&[&provider.issuer]);
        }
        validation.set_audience(&[&provider.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let claims = jsonwebtoken::decode::<Claims>(id_token, &key, &validation)
            .map_err(|e| {
                tracing::info!(provider = %provider.id, reason = %e, "ID token refused");
                invalid("the ID token is invalid or expired")
            })?
            .claims;
        // Core §3.1.3.7: with several audiences `azp` is ours; when present it must be ours.
        let several = claims.aud.as_array().is_some_and(|a| a.len() > 1);
        let azp_ok = match &claims.azp {
            Some(azp) => azp == &provider.client_id || (google && !several),
            None => !several,
        };
        if !azp_ok {
            return Err(invalid("the ID token was issued to another party (azp)"));
        }
        // The redirect flow's login always has one; Google's ID-token flow (`POST /auth/google`)
        // has none to compare.
        if let Some(expected) = nonce
            && claims.nonce.as_deref() != Some(expected)
        {
            return Err(invalid("the ID token's nonce does not match the login"));
        }
        Ok(VerifiedClaims {
            issuer: provider.issuer.clone(),
            sub: claims.sub,
            email: claims.email,
            email_verified: claims.email_verified.0 || claims.xms_edov.0,
            name: claims.name.unwrap_or_default(),
            picture: claims.picture,
            hosted_domain: claims.hd,
        })
    }
}

impl Oidc {
    /// The code exchanged at the provider's token endpoint: its ID token, not verified yet.
    pub async fn exchange_code(
        &self,
        provider: &OidcProvider,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, IdentityError> {
        let doc = self.discovery(provider).await?;
        let tokens = self.exchange(provider, &doc, code, code_verifier, redirect_uri).await?;
        tokens.id_token.ok_or_else(|| upstream("the token response has no id_token"))
    }

    /// An ID token verified for `provider` (with the login's nonce when there is a login).
    pub async fn verify_id_token(
        &self,
        provider: &OidcProvider,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<VerifiedClaims, IdentityError> {
        let doc = self.discovery(provider).await?;
        self.verify(provider, &doc, id_token, nonce).await
    }
}

/// The authorization request's URL: `endpoint` with the code flow's parameters (PKCE S256,
/// state, nonce, the provider's scopes) and `extra` ones (Google's `prompt=select_account`).
pub fn authorization_url(
    endpoint: &str,
    provider: &OidcProvider,
    request: [&str; 4],
    extra: &[(&str, &str)],
) -> Result<String, IdentityError> {
    let [state, code_challenge, nonce, redirect_uri] = request;
    let scope = provider.scopes.join(" ");
    let mut params = vec![
        ("client_id", provider.client_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", scope.as_str()),
        ("state", state),
        ("code_challenge", code_challenge),
        ("code_challenge_method", "S256"),
        ("nonce", nonce),
    ];
    params.extend_from_slice(extra);
    reqwest::Url::parse_with_params(endpoint, &params)
        .map(String::from)
        .map_err(|_| upstream("the provider's authorization endpoint is not a URL"))
}

/// `application/x-www-form-urlencoded` of one value.
fn url_form(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[async_trait]
impl OidcClient for Oidc {
    async fn authorize_url(
        &self,
        provider: &OidcProvider,
        state: &str,
        code_challenge: &str,
        nonce: &str,
        redirect_uri: &str,
        fresh: bool,
    ) -> Result<String, IdentityError> {
        let doc = self.discovery(provider).await?;
        let extra: &[(&str, &str)] = if fresh { &[("prompt", "login")] } else { &[] };
        authorization_url(&doc.authorization_endpoint, provider, [state, code_challenge, nonce, redirect_uri], extra)
    }

    async fn verified_claims(
        &self,
        provider: &OidcProvider,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> Result<VerifiedClaims, IdentityError> {
        let doc = self.discovery(provider).await?;
        let tokens = self.exchange(provider, &doc, code, code_verifier, redirect_uri).await?;
        let id_token = tokens.id_token.as_deref().unwrap_or_default();
        let mut claims = self.verify(provider, &doc, id_token, Some(nonce)).await?;
        // A conforming provider puts the scopes' claims (email, profile) at its UserInfo endpoint
        // and not in an ID token issued with an access token (Core §5.4): read them there.
        if claims.email.is_none()
            && let (Some(endpoint), Some(access)) =
                (doc.userinfo_endpoint.as_deref(), tokens.access_token.as_ref().and_then(|t| t.as_str()))
        {
            if !vivid_http::fetchable(endpoint, self.loopback_http) {
                return Err(upstream("the provider's userinfo endpoint is not https"));
            }
            if !vivid_http::public_host(endpoint, self.loopback_http) {
                return Err(upstream("the provider's userinfo endpoint is not at a public address"));
            }
            let info = self.user_info(endpoint, access, &claims.sub).await?;
            claims.email = info.email;
            // Entra's UserInfo carries neither flag: its ID token's `xms_edov` (read above) stands.
            claims.email_verified = claims.email_verified || info.email_verified.0 || info.xms_edov.0;
            claims.hosted_domain = claims.hosted_domain.or(info.hd);
            if claims.name.is_empty() {
                claims.name = info.name.unwrap_or_default();
            }
            claims.picture = claims.picture.or(info.picture);
        }
        Ok(claims)
    }
}

mod claims;
#[cfg(test)]
mod verify_tests;

use claims::{Claims, TokenResponse, UserInfo};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(url_form("a b:c/é"), "a+b%3Ac%2F%C3%A9");
        assert_eq!(url_form("Az09-._*"), "Az09-._*");
    }
}
