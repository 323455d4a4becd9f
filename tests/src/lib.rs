//! The test harness: `TestApp::spawn()` starts the local stack (gateway + real handlers) on a
//! free loopback port against the AWS emulator with a fresh table, seeds users, mints tokens,
//! and speaks HTTP to it like a client.
//!
//! Each app starts its own moto server from the repository's `.venv` (moto's transactions are not
//! isolated across tests sharing a server); `VIVID_AWS_ENDPOINT` points the apps at one you run
//! yourself, for quick runs of a single test.

mod app;
mod background;
mod browser;
mod idp;
mod lti_platform;
mod media;
mod platforms;
mod samples;
mod tokens;
mod watching;
mod world;

use std::path::PathBuf;

pub use app::TestApp;
pub use background::pk;
pub use browser::{BrowserSignIn, PendingLogin, cookie_value, set_cookies};
pub use idp::{IDP_CLIENT_ID, Idp, fragment_param};
pub use lti_platform::{LTI_ADMIN, LTI_DEPLOYMENT, Launched, LtiPlatform, LtiSamples};
pub use media::{generated_clip, generated_clip_as};
use reqwest::{StatusCode, header::HeaderMap};
pub use samples::{job_event, s3_event, sample_event, vendor_sample};
use serde_json::Value;
use vivid_domain::users::User;
pub use vivid_testkit::{form_decode, form_encode, query_param};
pub use world::World;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A seeded user and a valid access token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub user: User,
    pub token: String,
}

impl TestUser {
    pub fn id(&self) -> String {
        self.user.user_id.to_string()
    }
    pub fn email(&self) -> String {
        self.user.email.to_string()
    }
}

/// A response: status, headers and the body as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}
