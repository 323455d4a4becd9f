//! An AWS SDK client built by the first request that calls it, not at init.
//!
//! Building a client resolves its configuration, endpoint rules and runtime plugins: a few
//! hundred microseconds each, which a function with four clients paid on every cold start even
//! when its first request was refused before any of them was called (a 401, a 404, an event
//! with nothing to do). A function builds at init only what nearly every request calls (the
//! table); the rest waits here. The SDK configuration it is built from is the one loaded at
//! init, so a client built later is the same client.

use std::{fmt, sync::OnceLock};

use aws_types::SdkConfig;

use crate::{Config, ConfigError};

/// A client of type `C`, built on its first [`get`](Self::get).
pub struct OnDemand<C> {
    build: Box<dyn Fn() -> C + Send + Sync>,
    client: OnceLock<C>,
}

impl<C: 'static> OnDemand<C> {
    /// `build` makes the client from the function's SDK configuration (e.g.
    /// `aws_sdk_kms::Client::new`). The configuration is checked now: a function started without
    /// one still fails at init.
    pub fn new(cfg: &Config, build: fn(&SdkConfig) -> C) -> Result<Self, ConfigError> {
        let sdk = cfg.sdk()?.clone();
        Ok(Self::with(move || build(&sdk)))
    }

    /// A client made by `build` (a service configuration of its own, already checked).
    pub fn with(build: impl Fn() -> C + Send + Sync + 'static) -> Self {
        Self { build: Box::new(build), client: OnceLock::new() }
    }

    /// A client already built (tests, or a client configured by hand).
    pub fn ready(client: C) -> Self
    where
        C: Clone + Send + Sync + 'static,
    {
        let built = OnceLock::from(client.clone());
        Self { build: Box::new(move || client.clone()), client: built }
    }

    /// The client, built now if this is its first use. Two requests racing here build it once.
    pub fn get(&self) -> &C {
        self.client.get_or_init(&self.build)
    }

    /// Whether the client has been built yet.
    pub fn is_built(&self) -> bool {
        self.client.get().is_some()
    }
}

/// A client already built.
impl<C: Clone + Send + Sync + 'static> From<C> for OnDemand<C> {
    fn from(client: C) -> Self {
        Self::ready(client)
    }
}

impl<C: 'static> fmt::Debug for OnDemand<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnDemand").field("built", &self.is_built()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    #[test]
    fn builds_on_first_use_only_and_once() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counter = builds.clone();
        let client = OnDemand::with(move || counter.fetch_add(1, Ordering::SeqCst) + 100);
        assert!(!client.is_built());
        assert_eq!(builds.load(Ordering::SeqCst), 0, "nothing is built before the first use");
        assert_eq!(*client.get(), 100);
        assert_eq!(*client.get(), 100);
        assert_eq!(builds.load(Ordering::SeqCst), 1, "built once, then reused");
    }

    #[test]
    fn a_ready_client_is_used_as_given() {
        let client = OnDemand::ready(7_u8);
        assert!(client.is_built());
        assert_eq!(*client.get(), 7);
    }
}
