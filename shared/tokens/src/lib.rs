//! Access tokens: ES256 JWTs. Every protected function verifies them with the published
//! verification keys (`VIVID_JWT_VERIFY_KEYS`, by `kid`); only the functions that issue tokens
//! read the signing key, from the secret store. During a key rotation the old and the new public
//! key are both published, so tokens signed with either verify and nobody is signed out.
//!
//! An access token issued by a sign-in or a refresh names its session (the refresh-token family)
//! in `sid`, the OpenID Connect session-id claim: a route can tell the caller's own session from
//! their others (`GET /users/me/sessions`, `keepCurrent`) without the refresh cookie, which is
//! not sent with API calls. The claim is signed like the rest, so it cannot name another session.
//!
//! `auth_time` (OpenID Connect's claim) is the epoch second of the interactive sign-in that started
//! the session: a refresh carries it unchanged, so a refresh token (or its cookie) in other hands
//! yields tokens of the old sign-in. Destructive deletions ask for a recent one
//! (`vivid_domain::step_up`). Tokens from before the claim have none and count as not recent.

mod der;

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use vivid_config::{Config, ConfigError, pem};
use vivid_domain::{
    sessions::{AccessTokenIssuer, IssueError, IssuedToken},
    types::{Email, UserId, unix_now},
};

/// Lifetime of an access token.
pub const ACCESS_TOKEN_TTL_SECS: u64 = 15 * 60;
const ACCESS_TYP: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub email: String,
    pub typ: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    /// The session (refresh-token family) the token was issued for; absent on tokens that belong
    /// to none (development tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The interactive sign-in behind the token (epoch seconds); absent on tokens from before
    /// it was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub email: Email,
    /// The session the access token was issued for (its `sid`), when it names one.
    pub session: Option<String>,
    /// When the sign-in behind the token happened (its `auth_time`), when it says.
    pub auth_time: Option<u64>,
}

/// A token that does not verify; the reason is for the client (no detail of which check failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unverified(pub &'static str);

#[derive(Debug, thiserror::Error)]
#[error("invalid token key: {0}")]
pub struct KeyError(pub String);

impl From<KeyError> for ConfigError {
    fn from(e: KeyError) -> Self {
        ConfigError::Malformed("token keys", e.0)
    }
}

/// Who issues and who accepts our tokens.
#[derive(Debug, Clone)]
pub struct TokenAudience {
    pub issuer: String,
    pub audience: String,
}

impl TokenAudience {
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self { issuer: cfg.var("VIVID_JWT_ISSUER")?, audience: cfg.var("VIVID_JWT_AUDIENCE")? })
    }
}

/// Verifies access tokens with the published ES256 public keys, chosen by the token's `kid`.
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl TokenVerifier {
    /// From `{kid: public PEM}` pairs.
    pub fn new<'a>(keys: impl IntoIterator<Item = (&'a str, &'a str)>, who: &TokenAudience) -> Result<Self, KeyError> {
        let keys = keys
            .into_iter()
            .map(|(kid, pem)| {
                der::pem_body(pem, "PUBLIC KEY")
                    .and_then(|spki| der::p256_point(&spki).map(DecodingKey::from_ec_der))
                    .map(|k| (kid.to_owned(), k))
                    .map_err(|e| KeyError(format!("key {kid}: {e}")))
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        if keys.is_empty() {
            return Err(KeyError("no verification key".into()));
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.algorithms = vec![Algorithm::ES256];
        validation.set_issuer(&[&who.issuer]);
        validation.set_audience(&[&who.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
        validation.leeway = 5;
        Ok(Self { keys, validation })
    }

    /// The keys of `VIVID_JWT_VERIFY_KEYS`: a JSON object mapping each key id to its public PEM.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        const VAR: &str = "VIVID_JWT_VERIFY_KEYS";
        let raw = cfg.var(VAR)?;
        let set: HashMap<String, String> =
            serde_json::from_str(&raw).map_err(|e| ConfigError::Malformed(VAR, e.to_string()))?;
        let pems: Vec<(String, String)> = set.into_iter().map(|(kid, p)| (kid, pem(&p))).collect();
        Ok(Self::new(pems.iter().map(|(k, p)| (k.as_str(), p.as_str())), &TokenAudience::from_config(cfg)?)?)
    }

    /// Verifies `kid`, signature, algorithm, `iss`, `aud`, `exp` and `typ`; the reason for a
    /// refusal is logged at debug level, the client only learns that the token is not valid.
    pub fn verify(&self, token: &str) -> Result<Caller, Unverified> {
        let invalid = Unverified("the access token is missing, invalid or expired");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid)?;
        let key = header.kid.as_deref().and_then(|kid| self.keys.get(kid)).ok_or_else(|| {
            tracing::debug!(kid = ?header.kid, "access token with an unknown key id");
            invalid
        })?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation).map_err(|e| {
            tracing::debug!(reason = %e, "access token refused");
            invalid
        })?;
        let claims = data.claims;
        if claims.typ != ACCESS_TYP {
            tracing::debug!(typ = %claims.typ, "token of the wrong type presented as access token");
            return Err(invalid);
        }
        let user_id = claims.sub.parse::<UserId>().map_err(|_| Unverified("malformed subject"))?;
        let email = claims.email.parse::<Email>().map_err(|_| Unverified("malformed email claim"))?;
        // Our own signed claim; anything but a ULID is ignored rather than trusted.
        let session = claims.sid.filter(|sid| sid.len() == 26 && ulid::Ulid::from_string(sid).is_ok());
        Ok(Caller { user_id, email, session, auth_time: claims.auth_time })
    }
}

/// The signing secret's shape in the secret store.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningSecret {
    kid: String,
    private_key_pem: String,
}

/// Issues access tokens with the ES256 private key, naming its `kid`.
pub struct TokenIssuer {
    key: EncodingKey,
    kid: String,
    who: TokenAudience,
    ttl: u64,
}

impl TokenIssuer {
    pub fn new(kid: &str, private_pem: &str, who: TokenAudience) -> Result<Self, KeyError> {
        let pkcs8 = der::pem_body(private_pem, "PRIVATE KEY").map_err(KeyError)?;
        let key = EncodingKey::from_ec_der(&pkcs8);
        // The signer parses the key when it signs: one signature now refuses a key that is not
        // a P-256 PKCS#8 key at init rather than at the first sign-in.
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &serde_json::json!({}), &key)
            .map_err(|e| KeyError(format!("not an ES256 signing key (PKCS#8, P-256): {e}")))?;
        Ok(Self { key, kid: kid.to_owned(), who, ttl: ACCESS_TOKEN_TTL_SECS })
    }

    /// Access tokens of another lifetime (`VIVID_ACCESS_TOKEN_TTL_SECS`; 15 minutes by default).
    pub fn with_lifetime(mut self, secs: u64) -> Self {
        self.ttl = secs.clamp(30, 24 * 3600);
        self
    }

    /// The signing secret's key, for the issuers the template names (`VIVID_JWT_ISSUER`,
    /// `VIVID_JWT_AUDIENCE`, `VIVID_ACCESS_TOKEN_TTL_SECS`).
    pub fn from_config(cfg: &Config, secret: &str) -> Result<Self, ConfigError> {
        let ttl = cfg.number("VIVID_ACCESS_TOKEN_TTL_SECS", ACCESS_TOKEN_TTL_SECS)?;
        Ok(Self::from_secret(secret, TokenAudience::from_config(cfg)?)?.with_lifetime(ttl))
    }

    /// From the signing secret's value: `{"kid": "...", "privateKeyPem": "..."}`.
    pub fn from_secret(secret: &str, who: TokenAudience) -> Result<Self, KeyError> {
        let s: SigningSecret = serde_json::from_str(secret)
            .map_err(|_| KeyError("the signing secret is not {kid, privateKeyPem}".into()))?;
        Self::new(&s.kid, &pem(&s.private_key_pem), who)
    }

    /// Issues a token with explicit type, issue time and lifetime, and no `auth_time` (tests use
    /// it for expired, mistyped or pre-`auth_time` tokens; the routes only issue access tokens).
    pub fn issue_with(
        &self,
        user: &UserId,
        email: &Email,
        typ: &str,
        iat: u64,
        ttl: u64,
    ) -> Result<IssuedToken, IssueError> {
        self.sign(user, email, typ, iat, ttl, Session::default())
    }

    /// A session-less access token, issued now, of a sign-in at `auth_time` (tests use it for a
    /// session signed in long ago).
    pub fn issue_signed_in_at(&self, user: &UserId, email: &Email, auth_time: u64) -> Result<IssuedToken, IssueError> {
        self.sign(user, email, ACCESS_TYP, unix_now(), self.ttl, Session { sid: None, auth_time: Some(auth_time) })
    }

    fn sign(
        &self,
        user: &UserId,
        email: &Email,
        typ: &str,
        iat: u64,
        ttl: u64,
        session: Session<'_>,
    ) -> Result<IssuedToken, IssueError> {
        let claims = AccessClaims {
            sub: user.to_string(),
            email: email.to_string(),
            typ: typ.to_owned(),
            iss: self.who.issuer.clone(),
            aud: self.who.audience.clone(),
            iat,
            exp: iat + ttl,
            jti: ulid::Ulid::new().to_string(),
            sid: session.sid.map(str::to_owned),
            auth_time: session.auth_time,
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| IssueError(e.to_string()))?;
        Ok(IssuedToken { token, expires_in: ttl })
    }
}

/// The session claims of a token: its `sid` and `auth_time`.
#[derive(Default, Clone, Copy)]
struct Session<'a> {
    sid: Option<&'a str>,
    auth_time: Option<u64>,
}

impl AccessTokenIssuer for TokenIssuer {
    /// A development token: its issue is the sign-in (`auth_time` = now).
    fn issue_access(&self, user: &UserId, email: &Email) -> Result<IssuedToken, IssueError> {
        let now = unix_now();
        self.sign(user, email, ACCESS_TYP, now, self.ttl, Session { sid: None, auth_time: Some(now) })
    }

    fn issue_session_access(
        &self,
        user: &UserId,
        email: &Email,
        session: &str,
        auth_time: u64,
    ) -> Result<IssuedToken, IssueError> {
        let claims = Session { sid: Some(session), auth_time: Some(auth_time) };
        self.sign(user, email, ACCESS_TYP, unix_now(), self.ttl, claims)
    }
}

#[cfg(test)]
mod tests {
    // A fresh ES256 key pair as PEM (PKCS#8 private, SPKI public), by jsonwebtoken's backend.
    use vivid_testkit::requests::es256_pair as key_pair;

    use super::*;

    fn who() -> TokenAudience {
        TokenAudience { issuer: "https://iss".into(), audience: "aud".into() }
    }

    #[test]
    fn during_a_rotation_tokens_of_the_old_and_the_new_key_verify_and_an_unknown_kid_does_not() {
        let (old_private, old_public) = key_pair();
        let (new_private, new_public) = key_pair();
        let old = TokenIssuer::new("2026-10", &old_private, who()).expect("old issuer");
        let new = TokenIssuer::new("2026-11", &new_private, who()).expect("new issuer");
        let both = TokenVerifier::new([("2026-10", old_public.as_str()), ("2026-11", new_public.as_str())], &who())
            .expect("verifier");
        let (user, email) = (UserId::generate(), "ana@example.com".parse::<Email>().expect("email"));
        for issuer in [&old, &new] {
            let token = issuer.issue_access(&user, &email).expect("token").token;
            assert_eq!(both.verify(&token).map(|c| c.user_id), Ok(user.clone()));
        }
        // After the rotation the old key is withdrawn: its tokens stop verifying.
        let only_new = TokenVerifier::new([("2026-11", new_public.as_str())], &who()).expect("verifier");
        assert!(only_new.verify(&old.issue_access(&user, &email).expect("token").token).is_err());
        // A token signed by another key under a published kid does not verify either.
        let (rogue_private, _) = key_pair();
        let rogue = TokenIssuer::new("2026-11", &rogue_private, who()).expect("rogue");
        assert!(both.verify(&rogue.issue_access(&user, &email).expect("token").token).is_err());
    }

    #[test]
    fn a_session_token_names_its_session_and_a_plain_one_none() {
        let (private, public) = key_pair();
        let issuer = TokenIssuer::new("k1", &private, who()).expect("issuer");
        let verifier = TokenVerifier::new([("k1", public.as_str())], &who()).expect("verifier");
        let (user, email) = (UserId::generate(), "ana@example.com".parse::<Email>().expect("email"));
        let sid = ulid::Ulid::new().to_string();
        let with = issuer.issue_session_access(&user, &email, &sid, 1_700_000_000).expect("token").token;
        let caller = verifier.verify(&with).expect("verifies");
        assert_eq!((caller.session, caller.auth_time), (Some(sid), Some(1_700_000_000)), "sid and auth_time");
        let without = issuer.issue_access(&user, &email).expect("token").token;
        assert_eq!(verifier.verify(&without).ok().map(|c| c.session), Some(None));
        let odd = issuer.issue_session_access(&user, &email, "not-a-ulid", 0).expect("token").token;
        assert_eq!(verifier.verify(&odd).ok().map(|c| c.session), Some(None), "only a ULID is taken as a session");
    }

    #[test]
    fn auth_time_is_the_sign_in_a_development_token_its_issue_and_an_older_token_has_none() {
        let (private, public) = key_pair();
        let issuer = TokenIssuer::new("k1", &private, who()).expect("issuer");
        let verifier = TokenVerifier::new([("k1", public.as_str())], &who()).expect("verifier");
        let (user, email) = (UserId::generate(), "ana@example.com".parse::<Email>().expect("email"));
        let dev = verifier.verify(&issuer.issue_access(&user, &email).expect("token").token).expect("verifies");
        assert!(dev.auth_time.is_some_and(|t| t.abs_diff(unix_now()) <= 2), "{:?}", dev.auth_time);
        let old = issuer.issue_signed_in_at(&user, &email, 1_000).expect("token").token;
        assert_eq!(verifier.verify(&old).map(|c| c.auth_time), Ok(Some(1_000)));
        // A token as issued before the claim existed.
        let before = issuer.issue_with(&user, &email, ACCESS_TYP, unix_now(), 900).expect("token").token;
        assert_eq!(verifier.verify(&before).map(|c| c.auth_time), Ok(None));
    }

    #[test]
    fn the_signing_secret_is_kid_and_pem() {
        let (private, _) = key_pair();
        let secret = serde_json::json!({ "kid": "k1", "privateKeyPem": private.replace('\n', "\\n") }).to_string();
        assert!(TokenIssuer::from_secret(&secret, who()).is_ok());
        assert!(TokenIssuer::from_secret("not json", who()).is_err());
    }
}
