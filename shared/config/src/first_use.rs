//! Values made on their first use rather than at init: a secret that only some requests need
//! (the cursor key of a list route, the CloudFront key of a playback grant) is read by the first
//! request that needs it, so a cold start waits for no Secrets Manager round trip (nor, in AWS,
//! the TLS handshake to it) that its request may not need.
//!
//! Concurrent first uses wait for one read. A failed read is not kept: the next use tries again.

use std::{future::Future, pin::Pin, sync::Arc};

use tokio::sync::OnceCell;

use crate::ConfigError;

type Make<T> = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, ConfigError>> + Send>> + Send + Sync>;

/// A value made by its first [`get`](FirstUse::get), then kept for the life of the process.
pub struct FirstUse<T> {
    cell: OnceCell<T>,
    make: Option<Make<T>>,
}

impl<T> std::fmt::Debug for FirstUse<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.cell.initialized() { "FirstUse(made)" } else { "FirstUse(not yet)" })
    }
}

impl<T: Send + Sync + 'static> FirstUse<T> {
    /// Made by `make` on the first use.
    pub fn new<F, Fut>(make: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ConfigError>> + Send + 'static,
    {
        Self { cell: OnceCell::new(), make: Some(Arc::new(move || Box::pin(make()))) }
    }

    /// A value already at hand.
    pub fn ready(value: T) -> Self {
        Self { cell: OnceCell::new_with(Some(value)), make: None }
    }

    /// The value, made now if this is the first use (or every use before failed).
    pub async fn get(&self) -> Result<&T, ConfigError> {
        self.cell
            .get_or_try_init(|| async {
                match &self.make {
                    Some(make) => make().await,
                    None => Err(ConfigError::Client { what: "a value made on first use", detail: "no maker".into() }),
                }
            })
            .await
    }

    /// The value if it was made already.
    pub fn now(&self) -> Option<&T> {
        self.cell.get()
    }

    /// A value made from this one's on first use, by `f` (e.g. a key parsed from a secret).
    pub fn map<U, F>(self, f: F) -> FirstUse<U>
    where
        U: Send + Sync + 'static,
        F: Fn(T) -> Result<U, ConfigError> + Send + Sync + 'static,
    {
        if let Some(value) = self.cell.into_inner() {
            return match f(value) {
                Ok(made) => FirstUse::ready(made),
                // Kept for the first use to report, as a read that failed would be.
                Err(e) => {
                    let detail = e.to_string();
                    FirstUse::new(move || {
                        let detail = detail.clone();
                        async move { Err(ConfigError::Client { what: "a value made on first use", detail }) }
                    })
                }
            };
        }
        let (make, f) = (self.make, Arc::new(f));
        FirstUse::new(move || {
            let (make, f) = (make.clone(), f.clone());
            async move {
                let value = match make {
                    Some(make) => make().await?,
                    None => {
                        return Err(ConfigError::Client {
                            what: "a value made on first use",
                            detail: "no maker".into(),
                        });
                    }
                };
                f(value)
            }
        })
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
}
