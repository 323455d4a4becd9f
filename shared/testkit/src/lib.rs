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
//! - [`lti`]: [`lti::RsaToolSigner`], an LTI tool key (RS256, its JWKS) made for the run.
//! - [`memory`]: [`memory::Memory`], an in-memory world implementing the domain's ports (users,
//!   spaces, videos and their pipeline, members' notes, objects, jobs, grants), with the
//!   DynamoDB adapter's observable semantics, for the fast tier of domain, handler and event tests
//!   without the local stack (its module documentation says what it does not model).
//! - [`requests`]: [`requests::Req`] (a `lambda_http` request to a route, with its path and query
//!   parameters, bearer token and body) and [`requests::es256_pair`] (a fresh key pair for test
//!   access tokens).
//!
//! It is a dev-dependency only, and stays free of AWS SDK types (`cargo tree -p vivid-testkit |
//! grep aws-sdk` finds nothing); the black-box tier (`tests/`) keeps its own harness.

pub mod json;
pub mod lti;
pub mod memory;
pub mod requests;
pub mod stand_in;
pub mod url;

pub use json::{AnyJson, any_json};
pub use stand_in::StandIn;
pub use url::{form_decode, form_encode, percent_decode, query_param};
