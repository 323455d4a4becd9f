//! Access tokens: ES256 JWTs. Every protected function verifies with the public key; only the
//! functions that issue tokens hold the private key.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    types::{Email, UserId},
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
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub email: Email,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid token key: {0}")]
pub struct KeyError(String);

/// Who issues and who accepts our tokens.
#[derive(Debug, Clone)]
pub struct TokenAudience {
    pub issuer: String,
    pub audience: String,
}

/// Verifies access tokens with the ES256 public key.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl TokenVerifier {
    pub fn from_public_pem(pem: &[u8], who: &TokenAudience) -> Result<Self, KeyError> {
        let key = DecodingKey::from_ec_pem(pem).map_err(|e| KeyError(e.to_string()))?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.algorithms = vec![Algorithm::ES256];
        validation.set_issuer(&[&who.issuer]);
        validation.set_audience(&[&who.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
        validation.leeway = 5;
        Ok(Self { key, validation })
    }

    /// Verifies signature, algorithm, `iss`, `aud`, `exp` and `typ`; the reason for a refusal is
    /// logged at debug level, the client only learns that the token is not valid.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let invalid = ApiError::Unauthenticated("the access token is missing, invalid or expired");
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.key, &self.validation).map_err(|e| {
            tracing::debug!(reason = %e, "access token refused");
            ApiError::Unauthenticated("the access token is missing, invalid or expired")
        })?;
        let claims = data.claims;
        if claims.typ != ACCESS_TYP {
            tracing::debug!(typ = %claims.typ, "token of the wrong type presented as access token");
            return Err(invalid);
        }
        let user_id = claims.sub.parse::<UserId>().map_err(|_| ApiError::Unauthenticated("malformed subject"))?;
        let email = claims.email.parse::<Email>().map_err(|_| ApiError::Unauthenticated("malformed email claim"))?;
        Ok(Caller { user_id, email })
    }
}

/// Issues access tokens with the ES256 private key.
pub struct TokenIssuer {
    key: EncodingKey,
    who: TokenAudience,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

impl TokenIssuer {
    pub fn from_private_pem(pem: &[u8], who: TokenAudience) -> Result<Self, KeyError> {
        let key = EncodingKey::from_ec_pem(pem).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self { key, who })
    }

    pub fn issue_access(&self, user: &UserId, email: &Email) -> Result<IssuedToken, ApiError> {
        self.issue_with(user, email, ACCESS_TYP, unix_now(), ACCESS_TOKEN_TTL_SECS)
    }

    /// Issues a token with explicit type, issue time and lifetime (tests use it for expired or
    /// mistyped tokens; the routes only issue access tokens).
    pub fn issue_with(
        &self,
        user: &UserId,
        email: &Email,
        typ: &str,
        iat: u64,
        ttl: u64,
    ) -> Result<IssuedToken, ApiError> {
        let claims = AccessClaims {
            sub: user.to_string(),
            email: email.to_string(),
            typ: typ.to_owned(),
            iss: self.who.issuer.clone(),
            aud: self.who.audience.clone(),
            iat,
            exp: iat + ttl,
            jti: ulid::Ulid::new().to_string(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.key).map_err(ApiError::internal)?;
        Ok(IssuedToken { token, expires_in: ttl })
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}
