//! The two key shapes the tokens use, read without a PEM or ASN.1 library: jsonwebtoken's
//! `use_pem` brings `pem`, `simple_asn1` and `num-bigint` into every function that verifies a
//! token, only to find 65 bytes at a fixed place.
//!
//! - A verification key is a P-256 public key in SubjectPublicKeyInfo (`-----BEGIN PUBLIC
//!   KEY-----`, what `openssl pkey -pubout` writes): 91 bytes of DER, a fixed 26-byte prefix (the
//!   algorithm `id-ecPublicKey` with the curve `prime256v1`, the bit string's header) and the
//!   uncompressed point `04 ‖ X ‖ Y`, which is what the ECDSA verifier takes.
//! - A signing key is a PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`), handed to the signer
//!   whole (it parses PKCS#8 itself).

use base64::{Engine, engine::general_purpose::STANDARD};

/// SubjectPublicKeyInfo of a P-256 key, up to its point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, // SEQUENCE, 89 bytes
    0x30, 0x13, // SEQUENCE (AlgorithmIdentifier), 19 bytes
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // OID 1.2.840.10045.2.1 id-ecPublicKey
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, // OID 1.2.840.10045.3.1.7 prime256v1
    0x03, 0x42, 0x00, // BIT STRING, 66 bytes, no unused bits
];

/// The DER between `-----BEGIN {label}-----` and `-----END {label}-----`.
pub fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let (begin, end) = (format!("-----BEGIN {label}-----"), format!("-----END {label}-----"));
    let start = pem.find(&begin).ok_or_else(|| format!("not a PEM {label}"))? + begin.len();
    let stop = pem[start..].find(&end).ok_or_else(|| format!("a PEM {label} without its end line"))? + start;
    let body: String = pem[start..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(body).map_err(|_| format!("a PEM {label} whose body is not base64"))
}

/// The uncompressed point of a P-256 public key in SubjectPublicKeyInfo DER.
pub fn p256_point(spki: &[u8]) -> Result<&[u8], String> {
    match spki.strip_prefix(&P256_SPKI_PREFIX[..]) {
        Some(point) if point.len() == 65 && point[0] == 0x04 => Ok(point),
        _ => Err("not a P-256 public key (an ES256 key is one)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_p256_public_key_gives_its_point_and_nothing_else_does() {
        let (_, public_pem) = vivid_testkit::requests::es256_pair();
        let spki = pem_body(&public_pem, "PUBLIC KEY").expect("a PEM public key");
        let point = p256_point(&spki).expect("a P-256 key");
        assert_eq!((point.len(), point[0]), (65, 0x04));
        assert_eq!(&spki[26..], point);
        let mut other_curve = spki.clone();
        other_curve[22] ^= 1; // prime256v1 -> another OID
        assert!(p256_point(&other_curve).is_err());
        assert!(p256_point(&spki[..90]).is_err(), "a point cut short");
        assert!(pem_body(&public_pem, "PRIVATE KEY").is_err(), "another label");
        assert!(pem_body("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n", "PUBLIC KEY").is_err());
        assert!(pem_body("-----BEGIN PUBLIC KEY-----\nAAAA\n", "PUBLIC KEY").is_err(), "no end line");
    }
}
