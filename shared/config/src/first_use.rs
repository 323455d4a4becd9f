//! Values made on their first use rather than at init: a secret that only some requests need
//! (the cursor key of a list route, the CloudFront key of a playback grant) is read by the first
//! request that needs it, so a cold start waits for no Secrets Manager round trip (nor, in AWS,
//! the TLS handshake to it) that its request may not need.
//!
//! Concurrent first uses wait for one read. A failed read is not kept: the next use tries again
//! (a throttled or unreachable secret store). A value the read returned but [`FirstUse::map`]
//! refused (a malformed key) is kept refused: every later use answers the same error without
//! reading the secret again or logging it again.

use std::{future::Future, pin::Pin, sync::Arc};

use tokio::sync::OnceCell;

use crate::ConfigError;

/// What a maker gives: `Err` a read that failed (tried again), `Ok(Err)` a refusal (kept).
type Made<T> = Result<Result<T, String>, ConfigError>;
type Make<T> = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Made<T>> + Send>> + Send + Sync>;

/// A value made by its first [`get`](FirstUse::get), then kept for the life of the process.
pub struct FirstUse<T> {
    cell: OnceCell<Result<T, String>>,
    make: Option<Make<T>>,
}

impl<T> std::fmt::Debug for FirstUse<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.cell.get() {
            None => "FirstUse(not yet)",
            Some(Ok(_)) => "FirstUse(made)",
            Some(Err(_)) => "FirstUse(refused)",
        })
    }
}

fn refused(detail: &str) -> ConfigError {
    ConfigError::Client { what: "a value made on first use", detail: detail.to_owned() }
}

impl<T: Send + Sync + 'static> FirstUse<T> {
    /// Made by `make` on the first use.
    pub fn new<F, Fut>(make: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ConfigError>> + Send + 'static,
    {
        let make = Arc::new(make);
        Self::with_maker(Arc::new(move || {
            let fut = make();
            Box::pin(async move { fut.await.map(Ok) })
        }))
    }

    fn with_maker(make: Make<T>) -> Self {
        Self { cell: OnceCell::new(), make: Some(make) }
    }

    /// A value already at hand.
    pub fn ready(value: T) -> Self {
        Self { cell: OnceCell::new_with(Some(Ok(value))), make: None }
    }

    /// The value, made now if this is the first use (or every read before failed).
    pub async fn get(&self) -> Result<&T, ConfigError> {
        let made = self
            .cell
            .get_or_try_init(|| async {
                match &self.make {
                    Some(make) => make().await,
                    None => Ok(Err("no maker".to_owned())),
                }
            })
            .await?;
        made.as_ref().map_err(|detail| refused(detail))
    }

    /// The value if it was made already.
    pub fn now(&self) -> Option<&T> {
        self.cell.get().and_then(|made| made.as_ref().ok())
    }

    /// A value made from this one's on first use, by `f` (e.g. a key parsed from a secret). A
    /// refusal of `f` is kept: the value is not read again.
    pub fn map<U, F>(self, f: F) -> FirstUse<U>
    where
        U: Send + Sync + 'static,
        F: Fn(T) -> Result<U, ConfigError> + Send + Sync + 'static,
    {
        match (self.cell.into_inner(), self.make) {
            (Some(made), _) => FirstUse {
                cell: OnceCell::new_with(Some(made.and_then(|value| f(value).map_err(|e| e.to_string())))),
                make: None,
            },
            (None, None) => FirstUse { cell: OnceCell::new_with(Some(Err("no maker".to_owned()))), make: None },
            (None, Some(make)) => {
                let f = Arc::new(f);
                FirstUse::with_maker(Arc::new(move || {
                    let (make, f) = (make.clone(), f.clone());
                    Box::pin(async move {
                        let made = make().await?;
                        Ok(made.and_then(|value| f(value).map_err(|e| e.to_string())))
                    })
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn made_once_on_first_use_and_kept() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let value = FirstUse::new(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ConfigError>("secret".to_owned())
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing read before the first use");
        assert!(value.now().is_none());
        let (a, b) = tokio::join!(value.get(), value.get());
        assert_eq!((a.ok().map(String::as_str), b.ok().map(String::as_str)), (Some("secret"), Some("secret")));
        assert_eq!(value.get().await.ok().map(String::as_str), Some("secret"));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one read for concurrent and later uses");
    }

    #[tokio::test]
    async fn a_failed_read_is_tried_again_on_the_next_use() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let value = FirstUse::new(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move { if n == 0 { Err(ConfigError::Secret { name: "X", detail: "throttled".into() }) } else { Ok(n) } }
        });
        assert!(matches!(value.get().await, Err(ConfigError::Secret { .. })));
        assert_eq!(value.get().await.ok(), Some(&1));
    }

    #[tokio::test]
    async fn map_makes_from_the_value_on_first_use() {
        let key = FirstUse::new(|| async { Ok::<_, ConfigError>("0123".to_owned()) }).map(|s| Ok(s.len()));
        assert!(key.now().is_none());
        assert_eq!(key.get().await.ok(), Some(&4));
        let short = FirstUse::ready("ab".to_owned())
            .map(|s| if s.len() < 4 { Err(ConfigError::Malformed("KEY", "short".into())) } else { Ok(s) });
        assert!(short.get().await.is_err(), "the mapping's refusal comes at the first use");
        assert_eq!(FirstUse::ready(2).map(|n| Ok(n * 2)).now(), Some(&4));
    }

    #[tokio::test]
    async fn a_refused_value_is_not_read_again() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let key = FirstUse::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, ConfigError>("ab".to_owned()) }
        })
        .map(|s| if s.len() < 4 { Err(ConfigError::Malformed("KEY", "short".into())) } else { Ok(s) });
        for _ in 0..3 {
            let refused = key.get().await.expect_err("a short key is refused");
            assert!(refused.to_string().contains("short"), "{refused}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one read, however often the refused key is asked for");
        assert!(key.now().is_none());
    }
}
