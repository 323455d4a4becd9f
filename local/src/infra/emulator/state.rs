//! What every request through the emulator's proxy reads: the proxy's state, apart from the proxy
//! itself so that the IAM check and the proxy both take it without importing each other.

use std::collections::HashMap;

use vivid_events::EventHandler;

use super::{async_invoke, index_lag};
use crate::infra::faults::Faults;

/// The local event handlers by function name, set once the stack has wired them.
pub(super) type Functions =
    std::sync::Arc<std::sync::OnceLock<std::sync::Arc<HashMap<String, std::sync::Arc<dyn EventHandler>>>>>;

#[derive(Clone)]
pub(super) struct ProxyState {
    pub(super) upstream: String,
    pub(super) http: reqwest::Client,
    pub(super) dynamodb: std::sync::Arc<tokio::sync::Mutex<()>>,
    pub(super) calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub(super) functions: Functions,
    /// Lambda `Event` invocations: retries and the on-failure destination (see [`async_invoke`]).
    pub(super) invocations: async_invoke::AsyncInvocations,
    pub(super) faults: Faults,
    pub(super) grants: crate::infra::grants::Grants,
    /// Index reads that lag the writes, as DynamoDB's global secondary indexes do (`None`: off).
    pub(super) index_lag: Option<index_lag::IndexLag>,
    /// Straight to the emulator: reads a bucket's CORS configuration for a browser's request.
    pub(super) s3: aws_sdk_s3::Client,
}
