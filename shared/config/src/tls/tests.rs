//! The trust store's contents, and real TLS handshakes on loopback: a CA of the test's own
//! (rcgen), a server (tokio-rustls) with a leaf it signed, and the SDK's HTTP client as
//! [`super::aws_https_client_with`] builds it making the request. No internet.

use super::*;
use aws_smithy_async::{rt::sleep::TokioSleep, time::SystemTimeSource};
use aws_smithy_runtime_api::client::{http::HttpConnector, result::ConnectorError};
use base64::{Engine, engine::general_purpose::STANDARD};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use sha2::{Digest, Sha256};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::{
    self, CertificateError,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};

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
fn vivid_tls_trust_is_aws_unless_it_says_system_and_nothing_else_is_accepted() {
    assert_eq!(Trust::from_var(None).expect("unset"), Trust::Aws);
    assert_eq!(Trust::from_var(Some("")).expect("empty (a CloudFormation condition)"), Trust::Aws);
    assert_eq!(Trust::from_var(Some("aws")).expect("aws"), Trust::Aws);
    assert_eq!(Trust::from_var(Some(" system ")).expect("system"), Trust::System);
    for wrong in ["AWS", "native", "none", "aws,system", "/etc/ssl/certs/ca-bundle.crt"] {
        let err = Trust::from_var(Some(wrong)).expect_err(wrong);
        assert!(matches!(err, ConfigError::Malformed(TRUST_VAR, _)), "{wrong}: {err}");
        let message = err.to_string();
        assert!(message.contains(TRUST_VAR) && message.contains("`aws`") && message.contains("`system`"), "{message}");
    }
}

/// A certificate authority of the test's own.
struct Ca(CertifiedIssuer<'static, KeyPair>);

/// A server's certificate and key.
struct Leaf {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Self(CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key")).expect("CA certificate"))
    }

    fn pem(&self) -> String {
        self.0.pem()
    }

    /// A trust store holding this CA alone.
    fn store(&self) -> TrustStore {
        TrustStore::empty().with_native_roots(false).with_pem_certificate(self.pem().into_bytes())
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA.
    fn leaf(&self, names: &[&str]) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).expect("leaf parameters");
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &*self.0).expect("leaf certificate");
        Leaf { cert: cert.der().clone(), key: PrivatePkcs8KeyDer::from(key.serialize_der()).into() }
    }
}

/// What the server saw on one connection.
#[derive(Debug, PartialEq)]
enum Seen {
    /// The handshake completed and a request came: its request line.
    Request(String),
    /// The handshake failed: the server's error (the client's alert).
    Refused(String),
}

/// An HTTPS server on 127.0.0.1 presenting `leaf`, for `connections` connections one after the
/// other, each answered `200 ok` once its request has come; it returns what it saw.
async fn serve(leaf: Leaf, connections: usize) -> (SocketAddr, tokio::task::JoinHandle<Vec<Seen>>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.cert], leaf.key)
        .expect("server certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        for _ in 0..connections {
            let (socket, _) = listener.accept().await.expect("accept");
            let mut tls = match acceptor.accept(socket).await {
                Ok(tls) => tls,
                Err(e) => {
                    seen.push(Seen::Refused(e.to_string()));
                    continue;
                }
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf).await.expect("read the request") {
                    0 => break,
                    n => head.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
            tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await
                .expect("answer");
            tls.shutdown().await.expect("close");
            seen.push(Seen::Request(line));
        }
        seen
    });
    (addr, server)
}

/// A GET through `client`'s connector, as an SDK client's request goes: the status, or the
/// connector's error.
async fn get(client: &SharedHttpClient, url: &str) -> Result<u16, ConnectorError> {
    let components = RuntimeComponentsBuilder::for_tests()
        .with_time_source(Some(SystemTimeSource::new()))
        .with_sleep_impl(Some(TokioSleep::new()))
        .build()
        .expect("components");
    // Generous bounds, there only so that a broken server cannot hang the test.
    let settings = HttpConnectorSettings::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(30))
        .build();
    let connector = client.http_connector(&settings, &components);
    let request = aws_smithy_runtime_api::http::Request::get(url).expect("request");
    connector.call(request).await.map(|r| r.status().as_u16())
}

/// The certificate error rustls gave the client, found in the connector error's chain.
fn certificate_error(err: &ConnectorError) -> CertificateError {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(cert)) = e.downcast_ref::<rustls::Error>() {
            return cert.clone();
        }
        // An I/O error's `source` skips the error it wraps: step into it.
        next = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner),
            None => e.source(),
        };
    }
    panic!("not a certificate error: {err:?}")
}

fn assert_refused(seen: &[Seen]) {
    assert!(matches!(seen, [Seen::Refused(_)]), "the server saw no request: {seen:?}");
}

#[tokio::test]
async fn a_server_with_a_certificate_from_the_trusted_ca_for_its_address_is_reached() {
    let ca = Ca::new("VIVID test CA");
    let (addr, server) = serve(ca.leaf(&["localhost", "127.0.0.1"]), 1).await;
    let client = https_client(ca.store()).expect("client");
    let status = get(&client, &format!("https://127.0.0.1:{}/", addr.port())).await.expect("the handshake verifies");
    assert_eq!(status, 200);
    assert_eq!(server.await.expect("server"), [Seen::Request("GET / HTTP/1.1".to_owned())]);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let ca = Ca::new("VIVID test CA");
    let (addr, server) = serve(ca.leaf(&["dynamodb.us-east-1.amazonaws.com"]), 1).await;
    let client = https_client(ca.store()).expect("client");
    let err = get(&client, &format!("https://127.0.0.1:{}/", addr.port())).await.expect_err("refused");
    let cert = certificate_error(&err);
    assert!(
        matches!(cert, CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }),
        "{cert:?}"
    );
    assert_refused(&server.await.expect("server"));
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let trusted = Ca::new("VIVID test CA");
    let other = Ca::new("Another CA");
    let (addr, server) = serve(other.leaf(&["localhost", "127.0.0.1"]), 1).await;
    let client = https_client(trusted.store()).expect("client");
    let err = get(&client, &format!("https://127.0.0.1:{}/", addr.port())).await.expect_err("refused");
    assert_eq!(certificate_error(&err), CertificateError::UnknownIssuer);
    assert_refused(&server.await.expect("server"));
}

#[tokio::test]
async fn the_compiled_in_roots_refuse_a_ca_that_is_not_amazons() {
    let ca = Ca::new("VIVID test CA");
    let (addr, server) = serve(ca.leaf(&["localhost", "127.0.0.1"]), 1).await;
    let client = aws_https_client().expect("client");
    let err = get(&client, &format!("https://127.0.0.1:{}/", addr.port())).await.expect_err("refused");
    assert_eq!(certificate_error(&err), CertificateError::UnknownIssuer);
    assert_refused(&server.await.expect("server"));
}

/// Set in the child process of the test below: the URL of the parent's server.
const CHILD_URL: &str = "VIVID_TLS_TEST_CHILD_URL";

/// `system` reads the system's store and `aws` never does. The system's store is made to hold
/// the test's CA (rustls-native-certs reads `SSL_CERT_FILE` instead of the platform's bundle),
/// which must be set before the process first loads it: so the test runs its own binary again,
/// this test alone, with that variable, and the child makes both requests to the parent's server.
#[tokio::test]
async fn the_system_roots_are_trusted_with_system_and_never_leak_into_aws() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        let system = aws_https_client_with(Trust::System).expect("client");
        assert_eq!(get(&system, &url).await.expect("`system` trusts the system's store"), 200);
        let aws = aws_https_client_with(Trust::Aws).expect("client");
        let err = get(&aws, &url).await.expect_err("`aws` does not trust the system's store");
        assert_eq!(certificate_error(&err), CertificateError::UnknownIssuer);
        return;
    }
    let ca = Ca::new("VIVID test CA, installed as the system's");
    let (addr, server) = serve(ca.leaf(&["localhost", "127.0.0.1"]), 2).await;
    let ca_file = std::env::temp_dir().join(format!("vivid-tls-system-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).expect("write the CA");
    let name = format!(
        "{}::the_system_roots_are_trusted_with_system_and_never_leak_into_aws",
        module_path!().split_once("::").map_or("", |(_, path)| path)
    );
    let exe = std::env::current_exe().expect("the test binary");
    let child = {
        let ca_file = ca_file.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(exe)
                .args(["--exact", &name, "--nocapture", "--test-threads", "1"])
                .env("SSL_CERT_FILE", &ca_file)
                .env_remove("SSL_CERT_DIR")
                .env(CHILD_URL, format!("https://127.0.0.1:{}/", addr.port()))
                .output()
        })
    };
    let output = child.await.expect("join").expect("run the child");
    let _ = std::fs::remove_file(&ca_file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && stdout.contains("1 passed"), "the child ran and passed:\n{report}");
    let seen = server.await.expect("server");
    assert!(
        matches!(&seen[..], [Seen::Request(line), Seen::Refused(_)] if line == "GET / HTTP/1.1"),
        "`system` reached the server, `aws` was refused: {seen:?}"
    );
}

#[tokio::test]
async fn the_connector_is_built_by_the_first_request_and_speaks_plain_http_too() {
    // Constructing a client runs this check: it builds nothing here.
    let client = aws_https_client().expect("client");
    assert!(client.validate_base_client_config(&RuntimeComponentsBuilder::new("test"), &ConfigBag::base()).is_ok());
    // The first request builds the connector (parsing the bundle) and is answered; plain HTTP as
    // the local stack speaks it goes through the same connector.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 1024];
        let _ = socket.read(&mut buf).await;
        socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await.expect("write");
    });
    assert_eq!(get(&client, &format!("http://{addr}/")).await.expect("answered"), 200);
    server.await.expect("server");
}
