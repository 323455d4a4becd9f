//! AWS's root certificates, picked out of Mozilla's set (the `webpki-root-certs` crate) by their
//! SHA-256 fingerprints and written as one PEM bundle for `tls::AWS_ROOTS_PEM`: the SDK's HTTPS
//! client trusts exactly these unless `VIVID_TLS_TRUST=system` (docs/benchmarks.md and
//! docs/deploying.md, "The trust store").
//!
//! A root that Mozilla removes from its set fails the build here, so that a bump of
//! `webpki-root-certs` that drops one is a decision, not a surprise at the first request.

use std::{fmt::Write as _, path::PathBuf};

use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};

/// Amazon Trust Services' roots, as <https://www.amazontrust.com/repository/> lists them: every
/// AWS endpoint's certificate chains to one of Amazon Root CA 1–4, each also cross-signed by
/// Starfield Services Root Certificate Authority – G2.
const ROOTS: [(&str, &str); 5] = [
    ("Amazon Root CA 1", "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e"),
    ("Amazon Root CA 2", "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4"),
    ("Amazon Root CA 3", "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4"),
    ("Amazon Root CA 4", "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092"),
    (
        "Starfield Services Root Certificate Authority - G2",
        "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
    ),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let mut pem = String::new();
    for (name, fingerprint) in ROOTS {
        let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .find(|c| hex(&Sha256::digest(c.as_ref())) == fingerprint)
            .unwrap_or_else(|| {
                panic!(
                    "{name} (SHA-256 {fingerprint}) is not in this version of webpki-root-certs: Mozilla removed \
                     or replaced it. See docs/benchmarks.md, \"The trust store\", before changing shared/config/build.rs"
                )
            });
        let b64 = STANDARD.encode(der.as_ref());
        let _ = writeln!(pem, "# {name}\n# SHA-256 {fingerprint}\n-----BEGIN CERTIFICATE-----");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("aws-roots.pem");
    std::fs::write(&out, pem).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
