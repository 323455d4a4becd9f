//! A stand-in for Google's OpenID Connect endpoints, a real HTTP server on loopback: an
//! authorize page where a person picks an e-mail, the token endpoint (authorization code with
//! PKCE S256) and the JWKS. It signs RS256 ID tokens exactly as Google does, with a key made at
//! start-up. Tests and the local stack point the functions at it through the same settings that
//! point them at Google in AWS.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::error::StackError;

pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// The claims of a Google ID token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    /// Signs `email_verified` as the string `"true"`/`"false"`, the way Google's documented
    /// ID-token example writes it, instead of a JSON boolean.
    #[serde(skip)]
    pub email_verified_as_string: bool,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    pub iat: u64,
    pub exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

struct PendingCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    claims: IdClaims,
}

struct Inner {
    client_id: String,
    client_secret: String,
    kid: String,
    key: EncodingKey,
    jwk: serde_json::Value,
    codes: Mutex<HashMap<String, PendingCode>>,
    /// Keys of a published JWKS document, served before the stand-in's own.
    published_keys: Mutex<Vec<serde_json::Value>>,
}

/// The running stand-in; stops when dropped.
pub struct GoogleStandIn {
    pub base: String,
    pub client_id: String,
    pub client_secret: String,
    inner: Arc<Inner>,
    server: JoinHandle<()>,
}

impl Drop for GoogleStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Reads one DER TLV; returns (tag, content, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// `n` and `e` of a PKCS#1 `RSAPublicKey`, base64url, as a JWK wants them.
fn rsa_components(pkcs1: &[u8]) -> Option<(String, String)> {
    let (0x30, seq, _) = der(pkcs1)? else { return None };
    let (0x02, n, rest) = der(seq)? else { return None };
    let (0x02, e, _) = der(rest)? else { return None };
    let strip = |v: &[u8]| v.iter().position(|b| *b != 0).map(|i| v[i..].to_vec()).unwrap_or_default();
    Some((URL_SAFE_NO_PAD.encode(strip(n)), URL_SAFE_NO_PAD.encode(strip(e))))
}

fn now() -> u64 {
    vivid_domain::types::unix_now()
}

/// A stable subject per e-mail, like Google's (opaque, never the address itself).
pub fn subject_for(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    digest.iter().take(10).map(|b| format!("{:02}", b % 100)).collect()
}

impl GoogleStandIn {
    pub async fn start(bind: SocketAddr) -> Result<Self, StackError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|e| StackError::Config(format!("RSA key: {e}")))?;
        let key = EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes())
            .map_err(|e| StackError::Config(format!("RSA key: {e}")))?;
        let (n, e) = rsa_components(pair.public_key_raw())
            .ok_or_else(|| StackError::Config("cannot read the RSA public key".into()))?;
        let kid = ulid::Ulid::new().to_string().to_lowercase();
        let jwk = json!({ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": n, "e": e });
        let client_id = "vivid-local.apps.googleusercontent.com".to_owned();
        let client_secret = format!("local-secret-{}", ulid::Ulid::new());
        let inner = Arc::new(Inner {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            kid,
            key,
            jwk,
            codes: Mutex::new(HashMap::new()),
            published_keys: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/o/oauth2/v2/auth", get(authorize_page))
            .route("/o/oauth2/v2/auth/approve", post(approve))
            .route("/token", post(token))
            .route("/oauth2/v3/certs", get(jwks))
            .with_state(Arc::clone(&inner));
        let listener = TcpListener::bind(bind).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { base, client_id, client_secret, inner, server })
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/o/oauth2/v2/auth", self.base)
    }
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base)
    }
    pub fn jwks_url(&self) -> String {
        format!("{}/oauth2/v3/certs", self.base)
    }

    /// Valid claims for an e-mail address, for our client, for the next hour.
    pub fn claims_for(&self, email: &str, name: &str) -> IdClaims {
        let iat = now();
        IdClaims {
            iss: GOOGLE_ISSUER.to_owned(),
            aud: self.client_id.clone(),
            sub: subject_for(email),
            email: email.to_owned(),
            email_verified: true,
            email_verified_as_string: false,
            name: name.to_owned(),
            picture: Some(format!("https://example.com/avatars/{}.png", subject_for(email))),
            iat,
            exp: iat + 3600,
            nonce: None,
        }
    }

    /// Any claims (a published sample's), signed with the stand-in's key; `kid` names another key
    /// in the header when given.
    pub fn sign_claims(&self, claims: &serde_json::Value, kid: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.unwrap_or(&self.inner.kid).to_owned());
        jsonwebtoken::encode(&header, claims, &self.inner.key).unwrap_or_default()
    }

    /// From now on the JWKS holds a published document's keys (as published), then the
    /// stand-in's own: a verifier must pick the key by `kid` among Google's several.
    pub fn publish_jwks(&self, document: &serde_json::Value) {
        if let Ok(mut keys) = self.inner.published_keys.lock() {
            *keys = document["keys"].as_array().cloned().unwrap_or_default();
        }
    }

    /// An ID token signed with the stand-in's key (tests alter the claims for bad tokens).
    pub fn id_token(&self, claims: &IdClaims) -> String {
        sign(&self.inner, claims)
    }
}

fn sign(inner: &Inner, claims: &IdClaims) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(inner.kid.clone());
    let mut payload = serde_json::to_value(claims).unwrap_or_default();
    if claims.email_verified_as_string {
        payload["email_verified"] = json!(claims.email_verified.to_string());
    }
    jsonwebtoken::encode(&header, &payload, &inner.key).unwrap_or_default()
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    login_hint: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

async fn authorize_page(State(inner): State<Arc<Inner>>, Query(q): Query<AuthorizeQuery>) -> Response {
    if q.client_id != inner.client_id || q.response_type != "code" || q.code_challenge_method != "S256" {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "unknown client, or not code flow with S256");
    }
    let hidden = |name: &str, value: &str| format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(value));
    let email = q.login_hint.clone().unwrap_or_else(|| "ana@example.com".to_owned());
    Html(format!(
        r#"<!doctype html><html><head><title>Sign in - Google stand-in</title></head><body>
<h1>Sign in (local Google stand-in)</h1>
<form method="post" action="/o/oauth2/v2/auth/approve">
<label>E-mail <input name="email" value="{}"></label>
<label>Name <input name="name" value="Ana Example"></label>
{}{}{}{}{}{}
<button type="submit">Continue</button>
</form></body></html>"#,
        escape(&email),
        hidden("client_id", &q.client_id),
        hidden("redirect_uri", &q.redirect_uri),
        hidden("state", &q.state),
        hidden("code_challenge", &q.code_challenge),
        hidden("nonce", q.nonce.as_deref().unwrap_or("")),
        hidden("email_verified", "true"),
    ))
    .into_response()
}

#[derive(Deserialize)]
struct Approval {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    nonce: String,
    email: String,
    name: String,
    #[serde(default)]
    email_verified: Option<String>,
}

async fn approve(State(inner): State<Arc<Inner>>, Form(a): Form<Approval>) -> Response {
    let iat = now();
    let claims = IdClaims {
        iss: GOOGLE_ISSUER.to_owned(),
        aud: inner.client_id.clone(),
        sub: subject_for(&a.email),
        email: a.email.trim().to_owned(),
        email_verified: a.email_verified.as_deref() != Some("false"),
        email_verified_as_string: false,
        name: a.name,
        picture: None,
        iat,
        exp: iat + 3600,
        nonce: Some(a.nonce).filter(|n| !n.is_empty()),
    };
    let code = format!("code-{}", ulid::Ulid::new());
    let pending = PendingCode {
        client_id: a.client_id,
        redirect_uri: a.redirect_uri.clone(),
        challenge: a.code_challenge,
        claims,
    };
    if let Ok(mut codes) = inner.codes.lock() {
        codes.insert(code.clone(), pending);
    }
    let sep = if a.redirect_uri.contains('?') { '&' } else { '?' };
    let state = percent_encoding::utf8_percent_encode(&a.state, percent_encoding::NON_ALPHANUMERIC);
    Redirect::to(&format!("{}{sep}code={code}&state={state}", a.redirect_uri)).into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    code: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    code_verifier: String,
}

async fn token(State(inner): State<Arc<Inner>>, Form(t): Form<TokenRequest>) -> Response {
    if t.grant_type != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "authorization_code only");
    }
    if t.client_id != inner.client_id || t.client_secret != inner.client_secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client or wrong secret");
    }
    // A code is good once.
    let pending = inner.codes.lock().ok().and_then(|mut codes| codes.remove(&t.code));
    let Some(pending) = pending else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown or used code");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(t.code_verifier.as_bytes()));
    if pending.client_id != t.client_id || pending.redirect_uri != t.redirect_uri || pending.challenge != challenge {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "redirect_uri or PKCE verifier mismatch");
    }
    let id_token = sign(&inner, &pending.claims);
    Json(json!({
        "access_token": format!("ya29.local-{}", ulid::Ulid::new()),
        "expires_in": 3599,
        "id_token": id_token,
        "scope": "openid email profile",
        "token_type": "Bearer",
    }))
    .into_response()
}

async fn jwks(State(inner): State<Arc<Inner>>) -> Response {
    let mut keys = inner.published_keys.lock().map(|k| k.clone()).unwrap_or_default();
    keys.push(inner.jwk.clone());
    ([("cache-control", "public, max-age=3600")], Json(json!({ "keys": keys }))).into_response()
}
