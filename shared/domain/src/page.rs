//! Pages of a list. The position is the store's opaque key; the HTTP edge wraps it in a signed
//! cursor bound to the query.

use std::collections::BTreeMap;

/// A store position: the string attributes of the last key read.
pub type PageKey = BTreeMap<String, String>;

/// A page of items and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageKey>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}
