//! The session's secrets: random tokens, their stored hashes, and a rotated token's successor
//! sealed for the holder of the rotated token (see the grace window in [`super`]).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The system's random source failed (it does not, in practice; the error keeps panics out).
#[derive(Debug, thiserror::Error)]
#[error("no randomness: {0}")]
pub struct RandomError(pub String);

/// 256 random bits, base64url.
pub fn random_token() -> Result<String, RandomError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: SHA-256, base64url.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// The key stream that seals a rotated token's successor: HMAC-SHA256 keyed with the rotated
/// token (a 256-bit secret only its holder has) over a fixed label. Each token is rotated once,
/// so each stream seals one value.
fn successor_pad(rotated: &str) -> Option<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(rotated.as_bytes()).ok()?;
    mac.update(b"vivid/refresh-successor/v1");
    mac.finalize().into_bytes().as_slice().try_into().ok()
}

fn xor_with_pad(rotated: &str, value: &str) -> Option<String> {
    let pad = successor_pad(rotated)?;
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    if bytes.len() != pad.len() {
        return None;
    }
    Some(URL_SAFE_NO_PAD.encode(bytes.iter().zip(pad).map(|(b, p)| b ^ p).collect::<Vec<u8>>()))
}

/// The successor token sealed for the holder of `rotated` (`None` for a token of another shape).
pub fn seal_successor(rotated: &str, successor: &str) -> Option<String> {
    xor_with_pad(rotated, successor)
}

/// The successor a holder of `rotated` recovers from `sealed`; the caller checks it against the
/// stored successor hash (a wrong token or an edited value gives a string of another hash).
pub fn unseal_successor(rotated: &str, sealed: &str) -> Option<String> {
    xor_with_pad(rotated, sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successor_is_unsealed_only_with_the_token_it_was_sealed_for() {
        let (old, next) = (random_token().expect("random"), random_token().expect("random"));
        let sealed = seal_successor(&old, &next).expect("sealed");
        assert_ne!(sealed, next, "the sealed value is not the token");
        assert_eq!(unseal_successor(&old, &sealed).as_deref(), Some(next.as_str()));
        let other = random_token().expect("random");
        assert_ne!(unseal_successor(&other, &sealed).as_deref(), Some(next.as_str()));
        assert_eq!(seal_successor(&old, "not base64!"), None);
        assert_eq!(unseal_successor(&old, "c2hvcnQ"), None, "a value of another length");
    }
}
