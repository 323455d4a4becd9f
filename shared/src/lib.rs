//! VIVID's domain crate: validated types, the rules, the ports and their AWS adapters, and the
//! HTTP plumbing every function shares. `functions/*/src/main.rs` only wire these together.

pub mod access;
pub mod adapters;
pub mod auth;
pub mod cascade;
pub mod cursor;
pub mod error;
pub mod events;
pub mod google;
pub mod http;
pub mod import;
pub mod media;
pub mod model;
pub mod notes;
pub mod playback;
pub mod routes;
pub mod runtime;
pub mod session;
pub mod telemetry;
pub mod transcode;
pub mod types;
pub mod video;
pub mod webex;

pub use lambda_http;
pub use lambda_runtime;
