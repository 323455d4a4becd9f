//! The AWS SDK's HTTPS client: AWS's own root certificates compiled in, and its connector built
//! on the first request rather than when a client is constructed.
//!
//! The SDK's default client (`default-https-client`) loads the system's trust store when each
//! client is constructed: it reads and decodes the whole PEM bundle (about 144 roots) before a
//! function's first request — 89 % of what `aws-config` and one client cost at init, counted
//! with callgrind (docs/benchmarks.md). This client is the same one (the SDK's hyper client,
//! rustls with aws-lc, its timeouts, pool and retry classification) with two changes:
//!
//! - its trust store is [`AWS_ROOTS_PEM`]: Amazon Root CA 1–4 and Starfield Services Root
//!   Certificate Authority – G2, Amazon Trust Services' roots, to which the endpoints the
//!   functions call chain (`make check-tls` handshakes with them, region by region), taken from
//!   Mozilla's set (the `webpki-root-certs` crate) by `build.rs`. Five roots decode in
//!   microseconds, and only when the first connection is made;
//! - [`HttpClient::validate_base_client_config`], which the SDK calls at each client's
//!   construction and where the default client builds a connector only to load the roots, does
//!   nothing: the connector is built by the first request, once per set of timeouts, and shared
//!   by every client of the configuration.
//!
//! Which roots it trusts is the deployment's choice, [`TRUST_VAR`] (`VIVID_TLS_TRUST`), read by
//! [`crate::Config::from_process`] at init: unset or `aws`, the five compiled-in roots; `system`,
//! the system's roots (what the SDK's default client trusts: the escape hatch for a partition
//! whose endpoints chain to a root outside the five, at the cost of decoding the system's bundle
//! on the first request); anything else stops the function at init. Nothing falls back to another
//! trust store silently. `make check-tls` handshakes with the real endpoints (docs/deploying.md).
//!
//! Only [`crate::Config::from_process`] (Lambda) uses it. The local stack builds its own SDK
//! configuration (plain HTTP to its emulator) and is not affected. Calls to the video platforms
//! (Google, Zoom, Webex) go through their own HTTP clients, not this one.

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::{
    http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector},
    runtime_components::{RuntimeComponents, RuntimeComponentsBuilder},
};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::config_bag::ConfigBag;

use crate::ConfigError;

/// Amazon Trust Services' roots (PEM): see `build.rs` for the fingerprints.
pub const AWS_ROOTS_PEM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/aws-roots.pem"));

/// The variable that chooses the trust store: `aws` (the default) or `system`.
pub const TRUST_VAR: &str = "VIVID_TLS_TRUST";

/// The roots the SDK's HTTPS client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// [`AWS_ROOTS_PEM`] and nothing else: the default.
    Aws,
    /// The system's roots (the SDK's default), decoded by the first request.
    System,
}

impl Trust {
    /// [`TRUST_VAR`]'s value: absent or empty is [`Trust::Aws`]; a value other than `aws` or
    /// `system` is an error, never a guess.
    pub fn from_var(value: Option<&str>) -> Result<Self, ConfigError> {
        match value.map(str::trim).unwrap_or_default() {
            "" | "aws" => Ok(Self::Aws),
            "system" => Ok(Self::System),
            other => Err(ConfigError::Malformed(
                TRUST_VAR,
                format!(
                    "{other:?} is neither `aws` (AWS's five roots, compiled in; the default) nor `system` (the \
                     system's roots): see docs/deploying.md, \"The trust store\""
                ),
            )),
        }
    }
}

/// The SDK's hyper client (rustls, aws-lc) trusting [`AWS_ROOTS_PEM`] only, whose connector is
/// built on the first request.
pub fn aws_https_client() -> Result<SharedHttpClient, ConfigError> {
    aws_https_client_with(Trust::Aws)
}

/// The SDK's hyper client (rustls, aws-lc) trusting the roots `trust` names, whose connector is
/// built on the first request.
pub fn aws_https_client_with(trust: Trust) -> Result<SharedHttpClient, ConfigError> {
    https_client(match trust {
        Trust::Aws => TrustStore::empty().with_native_roots(false).with_pem_certificate(AWS_ROOTS_PEM),
        Trust::System => TrustStore::default(),
    })
}

/// The client over any trust store (the tests bring a CA of their own).
fn https_client(trust: TrustStore) -> Result<SharedHttpClient, ConfigError> {
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| ConfigError::Client { what: "the AWS SDK's TLS context", detail: e.to_string() })?;
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    Ok(FirstRequest(client).into_shared())
}

/// An HTTP client whose connector (TLS configuration, trust store) is made by the first request
/// that needs it, not at client construction.
#[derive(Debug)]
struct FirstRequest(SharedHttpClient);

impl HttpClient for FirstRequest {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        // The inner client caches one connector per set of timeouts.
        self.0.http_connector(settings, components)
    }

    /// Nothing to check at construction: the inner client's check only builds a connector (and
    /// throws it away) to load the trust store early, which is what this client avoids.
    fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
        Ok(())
    }

    fn validate_final_config(&self, components: &RuntimeComponents, cfg: &ConfigBag) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
mod tests;
