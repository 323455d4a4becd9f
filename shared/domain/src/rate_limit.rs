//! Per-caller rate limits: every HTTP request is counted against its caller — the user a
//! verified access token names, else the address it came from — in fixed one-minute windows, and
//! a caller past their limit is refused until their window ends, while everyone else is served.
//!
//! The count is kept by a [`RateCounter`] (the table: one conditional write per request, see
//! `docs/data-model.md`); the rule here decides who is counted, against which limit, in which
//! window, and how long a refused caller waits. A counter that cannot count (throttled,
//! unreachable) never refuses anybody: the caller of [`RateLimiter::check`] lets the request
//! through and logs it (`docs/quotas.md`, "Per-caller rate limits").

use std::{
    collections::HashMap,
    fmt,
    net::{IpAddr, Ipv6Addr},
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;

use crate::{error::StoreError, quota::Quotas, types::UserId};

/// The length of a counting window, in seconds.
pub const WINDOW_SECS: u64 = 60;

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// A caller whose access token verified: their user id (its `sub`).
    User(UserId),
    /// Any other caller: the address the connection came from. An IPv6 address counts as its
    /// /64 network (one subscriber's allocation: anyone holding one has 2^64 addresses to rotate
    /// through), an IPv4-mapped IPv6 address as the IPv4 address.
    Address(IpAddr),
}

impl RateKey {
    /// The key of an address, with IPv6 folded to its /64.
    pub fn address(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        };
        Self::Address(ip)
    }

    pub fn user(id: &UserId) -> Self {
        Self::User(id.clone())
    }
}

impl fmt::Display for RateKey {
    /// `USER#{userId}` or `IP#{address}` (`IP#2001:db8:1:2::/64` for an IPv6 network).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateKey::User(id) => write!(f, "USER#{id}"),
            RateKey::Address(IpAddr::V4(v4)) => write!(f, "IP#{v4}"),
            RateKey::Address(IpAddr::V6(v6)) => write!(f, "IP#{v6}/64"),
        }
    }
}

/// The limits, in requests per [`WINDOW_SECS`] (the template's `RateLimitPerUser` and
/// `RateLimitPerIp`, through `VIVID_QUOTAS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_user: u64,
    pub per_address: u64,
}

impl RateLimits {
    pub fn from_quotas(q: &Quotas) -> Self {
        Self { per_user: q.rate_per_user, per_address: q.rate_per_ip }
    }

    /// The limit `key` is counted against.
    pub fn limit(&self, key: &RateKey) -> u64 {
        match key {
            RateKey::User(_) => self.per_user,
            RateKey::Address(_) => self.per_address,
        }
    }
}

/// One fixed counting window: `[start, start + WINDOW_SECS)`, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
}

impl Window {
    /// The window `unix_secs` falls in.
    pub fn at(unix_secs: u64) -> Self {
        Self { start: unix_secs - unix_secs % WINDOW_SECS }
    }

    /// The first second of the next window.
    pub fn end(self) -> u64 {
        self.start + WINDOW_SECS
    }

    /// Seconds from `unix_secs` until the window ends: at least 1, at most [`WINDOW_SECS`].
    pub fn seconds_left(self, unix_secs: u64) -> u64 {
        self.end().saturating_sub(unix_secs).clamp(1, WINDOW_SECS)
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted, within the limit: serve it.
    Allowed,
    /// The caller's window already holds their limit: refuse it, and say when to come back.
    Limited { retry_after_secs: u64 },
}

/// The port the limiter counts through.
#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Counts one request of `key` in `window` unless the window already holds `limit` requests,
    /// in one atomic step: `true` when it was counted (the request may go on), `false` when the
    /// window is full. Concurrent calls never count more than `limit` in a window.
    async fn take(&self, key: &RateKey, window: Window, limit: u64) -> Result<bool, StoreError>;
}

/// Callers refused in this process, kept at most this many (a flood of distinct callers only
/// costs the store's writes, never this process's memory).
const REMEMBERED: usize = 4096;

/// The rule: one count per request, the caller's limit, and a memory of the callers already
/// refused in their current window, so a caller who keeps sending after a 429 costs no further
/// write until the window ends (and the hot counter of a flooding caller is not written at all).
pub struct RateLimiter {
    counter: Arc<dyn RateCounter>,
    limits: RateLimits,
    refused: Mutex<HashMap<RateKey, Window>>,
}

impl RateLimiter {
    pub fn new(counter: Arc<dyn RateCounter>, limits: RateLimits) -> Self {
        Self { counter, limits, refused: Mutex::new(HashMap::new()) }
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Counts a request of `key` at `now` (Unix seconds). An error is the counter's: the caller
    /// lets the request through (the limiter fails open).
    pub async fn check(&self, key: &RateKey, now: u64) -> Result<Verdict, StoreError> {
        let window = Window::at(now);
        let limited = Verdict::Limited { retry_after_secs: window.seconds_left(now) };
        if self.refused.lock().unwrap_or_else(PoisonError::into_inner).get(key) == Some(&window) {
            return Ok(limited);
        }
        if self.counter.take(key, window, self.limits.limit(key)).await? {
            return Ok(Verdict::Allowed);
        }
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        if refused.len() >= REMEMBERED {
            refused.retain(|_, w| *w == window);
            if refused.len() >= REMEMBERED {
                refused.clear();
            }
        }
        refused.insert(key.clone(), window);
        Ok(limited)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// Counts in memory, as the table does; `fail` makes every call an outage.
    #[derive(Default)]
    struct Memory {
        counts: Mutex<HashMap<(String, u64), u64>>,
        calls: AtomicU64,
        fail: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl RateCounter for Memory {
        async fn take(&self, key: &RateKey, window: Window, limit: u64) -> Result<bool, StoreError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                return Err(StoreError::unavailable("throttled"));
            }
            let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
            let n = counts.entry((key.to_string(), window.start)).or_default();
            if *n >= limit {
                return Ok(false);
            }
            *n += 1;
            Ok(true)
        }
    }

    fn user(n: u8) -> RateKey {
        let id: UserId = format!("01JD6Q5C7B8D9E0F1G2H3J4K{n:02}").parse().unwrap_or_else(|_| UserId::generate());
        RateKey::user(&id)
    }

    fn limiter(per_user: u64, per_address: u64) -> (Arc<Memory>, RateLimiter) {
        let memory = Arc::new(Memory::default());
        let limiter = RateLimiter::new(memory.clone(), RateLimits { per_user, per_address });
        (memory, limiter)
    }

    #[test]
    fn windows_are_whole_minutes_and_the_wait_is_what_is_left_of_one() {
        let w = Window::at(1_700_000_017);
        assert_eq!((w.start, w.end()), (1_699_999_980, 1_700_000_040));
        assert_eq!(w.seconds_left(1_700_000_017), 23);
        assert_eq!(Window::at(1_700_000_040).seconds_left(1_700_000_040), 60);
        assert_eq!(w.seconds_left(1_700_000_039), 1);
        assert_eq!(w.seconds_left(1_700_000_090), 1, "never 0, even for a late caller");
        assert_eq!(Window::at(1_700_000_039), w);
        assert_ne!(Window::at(1_700_000_040), w);
    }

    #[test]
    fn an_address_is_counted_whole_for_ipv4_and_by_its_64_for_ipv6() {
        let key = |s: &str| RateKey::address(s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))).to_string();
        assert_eq!(key("203.0.113.7"), "IP#203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "IP#203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "IP#2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"), "one /64, one caller");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(user(1).to_string(), "USER#01JD6Q5C7B8D9E0F1G2H3J4K01");
    }

    #[tokio::test]
    async fn a_caller_past_the_limit_waits_for_the_window_while_others_are_served() {
        let (_, limiter) = limiter(3, 2);
        let now = 1_700_000_017;
        for _ in 0..3 {
            assert_eq!(limiter.check(&user(1), now).await.ok(), Some(Verdict::Allowed));
        }
        let refused = limiter.check(&user(1), now).await.ok();
        assert_eq!(refused, Some(Verdict::Limited { retry_after_secs: 23 }));
        assert_eq!(limiter.check(&user(2), now).await.ok(), Some(Verdict::Allowed), "another user");
        let ip = RateKey::address(IpAddr::from([198, 51, 100, 1]));
        assert_eq!(limiter.check(&ip, now).await.ok(), Some(Verdict::Allowed), "an address");
        assert_eq!(limiter.check(&ip, now).await.ok(), Some(Verdict::Allowed));
        assert!(matches!(limiter.check(&ip, now).await, Ok(Verdict::Limited { .. })), "addresses have their own limit");
        // The next window serves the caller again.
        assert_eq!(limiter.check(&user(1), now + 23).await.ok(), Some(Verdict::Allowed));
    }

    #[tokio::test]
    async fn a_refused_caller_costs_no_further_write_in_that_window() {
        let (memory, limiter) = limiter(1, 1);
        let now = 1_700_000_000;
        assert_eq!(limiter.check(&user(1), now).await.ok(), Some(Verdict::Allowed));
        for _ in 0..100 {
            assert!(matches!(limiter.check(&user(1), now + 5).await, Ok(Verdict::Limited { .. })));
        }
        assert_eq!(memory.calls.load(Ordering::SeqCst), 2, "one count, one refusal, then the memory");
        assert_eq!(limiter.check(&user(1), now + 60).await.ok(), Some(Verdict::Allowed));
    }

    #[tokio::test]
    async fn concurrent_requests_never_pass_the_limit() {
        let (_, limiter) = limiter(10, 10);
        let limiter = Arc::new(limiter);
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let l = Arc::clone(&limiter);
            tasks.push(tokio::spawn(async move { l.check(&user(7), 1_700_000_000).await }));
        }
        let mut allowed = 0;
        for t in tasks {
            if matches!(t.await, Ok(Ok(Verdict::Allowed))) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 10);
    }

    #[tokio::test]
    async fn a_counter_that_cannot_count_is_an_error_never_a_refusal() {
        let (memory, limiter) = limiter(1, 1);
        memory.fail.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            assert!(matches!(limiter.check(&user(1), 1_700_000_000).await, Err(StoreError::Unavailable(_))));
        }
    }

    #[tokio::test]
    async fn the_memory_of_refused_callers_stays_bounded() {
        let (_, limiter) = limiter(0, 0);
        for i in 0..(REMEMBERED as u32 + 10) {
            let ip = RateKey::address(IpAddr::from(i.to_be_bytes()));
            assert!(matches!(limiter.check(&ip, 1_700_000_000).await, Ok(Verdict::Limited { .. })));
        }
        assert!(limiter.refused.lock().map(|r| r.len()).unwrap_or(usize::MAX) <= REMEMBERED);
    }
}
