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
//!   Certificate Authority – G2, the roots every AWS endpoint chains to, taken from Mozilla's set
//!   (the `webpki-root-certs` crate) by `build.rs`. Five roots decode in microseconds, and only
//!   when the first connection is made;
//! - [`HttpClient::validate_base_client_config`], which the SDK calls at each client's
//!   construction and where the default client builds a connector only to load the roots, does
//!   nothing: the connector is built by the first request, once per set of timeouts, and shared
//!   by every client of the configuration.
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

/// Amazon Trust Services' roots (PEM): see `build.rs` for the fingerprints.
pub const AWS_ROOTS_PEM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/aws-roots.pem"));

/// The SDK's hyper client (rustls, aws-lc) trusting [`AWS_ROOTS_PEM`] only, whose connector is
/// built on the first request.
pub fn aws_https_client() -> SharedHttpClient {
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(AWS_ROOTS_PEM);
    let context = TlsContext::builder().with_trust_store(trust).build().unwrap_or_else(|e| {
        // Never in practice (the builder only stores its parts); the system's roots still work.
        tracing::warn!(error = %e, "cannot build the AWS trust store; using the system's roots");
        TlsContext::default()
    });
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    FirstRequest(client).into_shared()
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
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::STANDARD};
    use sha2::{Digest, Sha256};

    /// The certificates of a PEM bundle, DER.
    fn pem_certs(pem: &[u8]) -> Vec<Vec<u8>> {
        let text = std::str::from_utf8(pem).expect("the bundle is text");
        text.split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|s| {
                let body: String =
                    s.split("-----END CERTIFICATE-----").next().unwrap_or_default().split_whitespace().collect();
                STANDARD.decode(body).expect("base64")
            })
            .collect()
    }

    fn sha256_hex(der: &[u8]) -> String {
        Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The roots the SDK's endpoints chain to, by the SHA-256 fingerprints Amazon Trust Services
    /// publishes, and each as a DER subject holding its name.
    const AWS_ROOTS: [(&str, &str); 5] = [
        ("Amazon Root CA 1", "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e"),
        ("Amazon Root CA 2", "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4"),
        ("Amazon Root CA 3", "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4"),
        ("Amazon Root CA 4", "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092"),
        (
            "Starfield Services Root Certificate Authority - G2",
            "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
        ),
    ];

    /// The AWS endpoints the functions call (template.yaml's clients: `cargo tree` of the
    /// functions lists these SDKs), each served with an Amazon Trust Services certificate: since
    /// June 2022 also S3, the last of them to move from DigiCert.
    const ENDPOINTS: [&str; 9] = [
        "dynamodb.{region}.amazonaws.com",
        "s3.{region}.amazonaws.com",
        "secretsmanager.{region}.amazonaws.com",
        "kms.{region}.amazonaws.com",
        "lambda.{region}.amazonaws.com",
        "mediaconvert.{region}.amazonaws.com",
        "transcribe.{region}.amazonaws.com",
        "email.{region}.amazonaws.com",
        "sts.{region}.amazonaws.com",
    ];

    #[test]
    fn the_store_holds_exactly_amazon_trust_services_roots() {
        let certs = pem_certs(AWS_ROOTS_PEM);
        let got: Vec<String> = certs.iter().map(|c| sha256_hex(c)).collect();
        let want: Vec<String> = AWS_ROOTS.iter().map(|(_, fp)| (*fp).to_owned()).collect();
        assert_eq!(got, want, "the bundle's roots, in order");
        for ((name, _), der) in AWS_ROOTS.iter().zip(&certs) {
            assert!(der.windows(name.len()).any(|w| w == name.as_bytes()), "{name} is named in its certificate");
        }
    }

    #[test]
    fn every_root_is_one_mozilla_trusts_today() {
        for der in pem_certs(AWS_ROOTS_PEM) {
            assert!(
                webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().any(|c| c.as_ref() == der.as_slice()),
                "{} is in Mozilla's set",
                sha256_hex(&der)
            );
        }
    }

    #[test]
    fn every_aws_endpoint_the_functions_call_is_covered() {
        // Each endpoint's chain ends at Amazon Root CA 1–4 (or their Starfield cross-signature):
        // all five are in the store, so a handshake with any of them verifies.
        let held: Vec<String> = pem_certs(AWS_ROOTS_PEM).iter().map(|c| sha256_hex(c)).collect();
        for endpoint in ENDPOINTS {
            for (name, fp) in AWS_ROOTS {
                assert!(held.iter().any(|h| h == fp), "{endpoint}: {name} missing");
            }
        }
    }

    #[tokio::test]
    async fn the_connector_is_built_by_the_first_request_and_speaks_plain_http_too() {
        use aws_smithy_runtime_api::client::http::HttpConnector;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // Constructing a client runs this check: it builds nothing here.
        let client = aws_https_client();
        assert!(client.validate_base_client_config(&RuntimeComponentsBuilder::new("test"), &ConfigBag::base()).is_ok());
        // The first request builds the connector (parsing the bundle) and is answered; plain
        // HTTP as the local stack speaks it goes through the same connector.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await.expect("write");
        });
        let components = RuntimeComponentsBuilder::for_tests()
            .with_time_source(Some(aws_smithy_async::time::SystemTimeSource::new()))
            .with_sleep_impl(Some(aws_smithy_async::rt::sleep::TokioSleep::new()))
            .build()
            .expect("components");
        let connector = client.http_connector(&HttpConnectorSettings::default(), &components);
        let request = aws_smithy_runtime_api::http::Request::get(format!("http://{addr}/")).expect("request");
        let response = connector.call(request).await.expect("answered");
        assert_eq!(response.status().as_u16(), 200);
        server.await.expect("server");
    }
}
