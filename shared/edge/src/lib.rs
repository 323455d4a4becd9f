//! The HTTP edge every route function shares: request accessors that validate at the edge
//! (ids, pages, JSON bodies, the caller's token), responses, cookies, signed cursors, and the
//! one place where an error becomes an `application/problem+json` response.

mod answer;
pub mod cursor;
pub mod http;
pub mod problem;
pub mod rate;

pub use http::{ApiRequest, Handler, serve, serve_without_aws};
pub use lambda_http;
pub use problem::ApiError;
