//! Decoding and encoding what travels in URLs and forms.

use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// `%XX` decoded to its byte, everything else kept as it is (`+` too): the bytes a request
/// target's path or query stands for. A `%` without two hex digits after it stays a `%`.
pub fn percent_decode(s: &str) -> Vec<u8> {
    percent_decode_str(s).collect()
}

/// A form value (`application/x-www-form-urlencoded`) decoded: `+` is a space, then `%XX`; bytes
/// that are no UTF-8 become U+FFFD.
pub fn form_decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// A value encoded for a form or a query: every byte but ASCII letters and digits as `%XX`.
pub fn form_encode(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// One query parameter of a URL, form-decoded (the first of that name; a fragment is no query).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| form_decode(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_what_is_no_escape() {
        assert_eq!(percent_decode("a%2Fb%zz+%4"), b"a/b%zz+%4".to_vec());
        assert_eq!(percent_decode("%e2%82%ac"), "€".as_bytes().to_vec());
        assert_eq!(percent_decode("%FF"), vec![0xFF]);
    }

    #[test]
    fn form_decoding_reads_plus_as_space() {
        assert_eq!(form_decode("a+b%2Bc"), "a b+c");
        assert_eq!(form_decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn a_query_parameter_is_found_and_decoded() {
        let url = "https://x.example/cb?code=a%2Fb&state=s+t#code=no";
        assert_eq!(query_param(url, "code").as_deref(), Some("a/b"));
        assert_eq!(query_param(url, "state").as_deref(), Some("s t"));
        assert_eq!(query_param(url, "none"), None);
        assert_eq!(query_param("https://x.example/cb", "code"), None);
    }

    #[test]
    fn form_encoding_round_trips() {
        let s = "a b/c?d=é&";
        assert_eq!(form_encode("a b"), "a%20b");
        assert_eq!(form_decode(&form_encode(s)), s);
    }
}
