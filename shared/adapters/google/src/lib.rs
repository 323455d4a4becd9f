//! Google sign-in as one OpenID Connect provider: the generic relying party (`vivid_oidc`, the
//! institutional providers' code) with Google's issuer configured and its endpoints given rather
//! than discovered. Every URL is configuration, so tests and the local stack use a stand-in
//! through this very code.

use async_trait::async_trait;

use vivid_config::{Config, ConfigError};
use vivid_domain::{
    identity::{Identity, IdentityError, IdentityProvider},
    oidc::{ANY_DOMAIN, OidcProvider},
    types::Email,
};
use vivid_oidc::{ClientSecrets, Discovery, GOOGLE_ISSUER, Oidc, authorization_url};

/// Where Google is and who we are to it. The redirect URI is not here: it is the callback on the
/// domain each request reached.
#[derive(Debug, Clone)]
pub struct GoogleSettings {
    pub client_id: String,
    /// Only the code exchange (`google-callback`) needs it.
    pub client_secret: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub jwks_url: String,
}

impl GoogleSettings {
    /// `VIVID_GOOGLE_CLIENT_ID` and Google's endpoints (overridable for stand-ins:
    /// `VIVID_GOOGLE_AUTHORIZE_URL`, `VIVID_GOOGLE_TOKEN_URL`, `VIVID_GOOGLE_JWKS_URL`); the
    /// client secret comes from the secret store, read by the caller when it exchanges codes.
    pub fn from_config(cfg: &Config, client_secret: Option<String>) -> Result<Self, ConfigError> {
        let url = |var: &str, default: &str| cfg.optional(var).unwrap_or_else(|| default.to_owned());
        Ok(Self {
            client_id: cfg.var("VIVID_GOOGLE_CLIENT_ID")?,
            client_secret,
            authorize_url: url("VIVID_GOOGLE_AUTHORIZE_URL", "https://accounts.google.com/o/oauth2/v2/auth"),
            token_url: url("VIVID_GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
            jwks_url: url("VIVID_GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs"),
        })
    }
}

/// Google as an OpenID Connect provider of the generic relying party (`vivid_oidc`): its issuer,
/// our client, any verified address (Google's public accounts), `openid email profile`.
fn google_provider(client_id: &str) -> Result<OidcProvider, ConfigError> {
    let spec = serde_json::json!([{
        "id": "google",
        "issuer": GOOGLE_ISSUER,
        "clientId": client_id,
        "allowedEmailDomains": [ANY_DOMAIN],
    }]);
    OidcProvider::parse_all(&spec.to_string())
        .map_err(|e| ConfigError::Malformed("VIVID_GOOGLE_CLIENT_ID", e.0))?
        .pop()
        .ok_or(ConfigError::Missing("VIVID_GOOGLE_CLIENT_ID"))
}

/// Google's endpoints as configured (no discovery read): RS256 keys, the secret in the form.
fn google_endpoints(settings: &GoogleSettings) -> Discovery {
    Discovery {
        issuer: GOOGLE_ISSUER.to_owned(),
        authorization_endpoint: settings.authorize_url.clone(),
        token_endpoint: settings.token_url.clone(),
        jwks_uri: settings.jwks_url.clone(),
        // Google's ID tokens carry the address: no UserInfo call.
        userinfo_endpoint: None,
        token_endpoint_auth_methods_supported: Some(vec!["client_secret_post".to_owned()]),
        id_token_signing_alg_values_supported: Some(vec!["RS256".to_owned()]),
    }
}

/// Google sign-in through the generic OpenID Connect relying party, Google's issuer configured:
/// the same code exchange and ID-token verification (JWKS cached across invocations, an unknown
/// `kid` refetched at most once a minute) as every institutional provider's.
pub struct GoogleOidc {
    oidc: Oidc,
    provider: OidcProvider,
    authorize_url: String,
}

fn invalid(reason: &'static str) -> IdentityError {
    IdentityError::InvalidToken(reason)
}

impl GoogleOidc {
    pub fn new(http: reqwest::Client, settings: GoogleSettings) -> Self {
        Self::build(settings, Some(http)).unwrap_or_else(|_| Self::unconfigured())
    }

    /// With an HTTP client of its own (rustls, 5-second timeout), built on the first call to
    /// Google (reading the TLS roots costs about 2 ms: not at every cold start of the login).
    pub fn with_settings(settings: GoogleSettings) -> Result<Self, ConfigError> {
        Self::build(settings, None)
    }

    fn build(settings: GoogleSettings, http: Option<reqwest::Client>) -> Result<Self, ConfigError> {
        let provider = google_provider(&settings.client_id)?;
        let secrets = settings.client_secret.clone().map_or(ClientSecrets::None, ClientSecrets::One);
        let mut oidc = Oidc::with_secrets(secrets).with_endpoints("google", google_endpoints(&settings));
        if let Some(http) = http {
            oidc = oidc.with_http(http);
        }
        Ok(Self { oidc, provider, authorize_url: settings.authorize_url })
    }

    /// A client id no provider can be made of (empty): every call answers "unavailable".
    fn unconfigured() -> Self {
        let provider = OidcProvider {
            id: "google".into(),
            issuer: GOOGLE_ISSUER.into(),
            client_id: String::new(),
            allowed_email_domains: vec![ANY_DOMAIN.into()],
            scopes: vec!["openid".into()],
        };
        Self { oidc: Oidc::new(None), provider, authorize_url: String::new() }
    }
}

#[async_trait]
impl IdentityProvider for GoogleOidc {
    fn authorize_url(&self, state: &str, code_challenge: &str, nonce: &str, redirect_uri: &str) -> String {
        let request = [state, code_challenge, nonce, redirect_uri];
        // The authorize URL is configuration; a malformed one is reported by the IdP page.
        authorization_url(&self.authorize_url, &self.provider, request, &[("prompt", "select_account")])
            .unwrap_or_else(|_| self.authorize_url.clone())
    }

    async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, IdentityError> {
        self.oidc.exchange_code(&self.provider, code, code_verifier, redirect_uri).await
    }

    async fn verify_id_token(&self, id_token: &str, nonce: Option<&str>) -> Result<Identity, IdentityError> {
        let claims = self.oidc.verify_id_token(&self.provider, id_token, nonce).await?;
        if !claims.email_verified {
            return Err(IdentityError::Unverified);
        }
        let email: Email = claims
            .email
            .as_deref()
            .ok_or(invalid("the ID token has no e-mail"))?
            .parse()
            .map_err(|_| invalid("the ID token's e-mail is malformed"))?;
        // The profile name as Google gives it: the sign-up cleans it (`PersonName::from_provider`),
        // falling back to the address's local part when nothing usable is left.
        Ok(Identity { sub: claims.sub, email, name: claims.name, picture: claims.picture })
    }
}
