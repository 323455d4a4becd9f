//! The test kit: what the tests of more than one crate need, written once.
//!
//! - [`url`]: percent- and form-decoding, form-encoding, a URL's query parameter (what a test
//!   reads back from a redirect or a request target).
//! - [`json`]: [`json::AnyJson`], a proptest strategy for JSON of any shape with a vendor's or an
//!   event's field names often enough to reach its parser's branches.
//! - [`stand_in`]: [`stand_in::StandIn`], an HTTP/1.1 server on loopback that answers every request
//!   with the reply a test set last and keeps the targets it was asked for (the platform
//!   adapters' parsers are only reachable through HTTP).
//!
//! It is a dev-dependency only, and stays free of AWS SDK types: the in-memory adapters of the
//! domain's ports (a fast tier of domain and handler tests without the local stack) belong here
//! too, beside these helpers; the black-box tier (`tests/`) keeps its own harness.

pub mod json;
pub mod stand_in;
pub mod url;

pub use json::{AnyJson, any_json};
pub use stand_in::StandIn;
pub use url::{form_decode, form_encode, percent_decode, query_param};
