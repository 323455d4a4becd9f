//! JSON of any shape, for properties of the form "any input gives `Ok` or the one refusal".

use proptest::{prelude::*, strategy::Union};
use serde_json::Value;

/// A strategy for JSON values of any shape: null, booleans, numbers (`i64`, `u64`, `f64`),
/// strings, and arrays and objects of them nested up to `depth` levels. Object keys are one of
/// `names` half of the time, so that random documents reach the fields a parser looks into;
/// string leaves are one of `words` as often as any other kind of leaf.
#[derive(Debug, Clone)]
pub struct AnyJson {
    names: Vec<&'static str>,
    words: Vec<&'static str>,
    texts: Vec<&'static str>,
    depth: u32,
    size: u32,
}

impl AnyJson {
    /// Objects keyed by `names` (or any short text), 4 levels and about 48 nodes at the most.
    pub fn named(names: &[&'static str]) -> Self {
        Self { names: names.to_vec(), words: Vec::new(), texts: Vec::new(), depth: 4, size: 48 }
    }

    /// String leaves that are one of `words` as often as each other kind of leaf.
    pub fn words(mut self, words: &[&'static str]) -> Self {
        self.words.extend_from_slice(words);
        self
    }

    /// Another kind of string leaf: strings matching the regular expression `regex`.
    pub fn texts(mut self, regex: &'static str) -> Self {
        self.texts.push(regex);
        self
    }

    /// How deep (levels) and how large (nodes, as proptest's `desired_size`) a value grows.
    pub fn depth(mut self, depth: u32, size: u32) -> Self {
        self.depth = depth;
        self.size = size;
        self
    }

    /// The strategy.
    pub fn strategy(self) -> BoxedStrategy<Value> {
        let mut leaves: Vec<BoxedStrategy<Value>> = vec![
            Just(Value::Null).boxed(),
            any::<bool>().prop_map(Value::from).boxed(),
            any::<i64>().prop_map(Value::from).boxed(),
            any::<u64>().prop_map(Value::from).boxed(),
            any::<f64>().prop_map(Value::from).boxed(),
        ];
        if !self.words.is_empty() {
            leaves.push(prop::sample::select(self.words).prop_map(Value::from).boxed());
        }
        for regex in self.texts {
            leaves.push(regex.prop_map(Value::from).boxed());
        }
        leaves.push("\\PC{0,20}".prop_map(Value::from).boxed());
        let name: BoxedStrategy<String> = if self.names.is_empty() {
            "\\PC{0,8}".boxed()
        } else {
            prop_oneof![prop::sample::select(self.names).prop_map(str::to_owned), "\\PC{0,8}"].boxed()
        };
        Union::new(leaves)
            .prop_recursive(self.depth, self.size, 6, move |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::vec((name.clone(), inner), 0..6)
                        .prop_map(|kv| Value::Object(kv.into_iter().collect())),
                ]
            })
            .boxed()
    }
}

/// JSON of any shape with objects keyed by `names` often enough to matter ([`AnyJson::named`]).
pub fn any_json(names: &[&'static str]) -> BoxedStrategy<Value> {
    AnyJson::named(names).strategy()
}

#[cfg(test)]
mod tests {
    use proptest::test_runner::TestRunner;

    use super::*;

    fn depth_of(v: &Value) -> u32 {
        match v {
            Value::Array(a) => 1 + a.iter().map(depth_of).max().unwrap_or(0),
            Value::Object(o) => 1 + o.values().map(depth_of).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            Value::Object(o) => o.iter().for_each(|(k, v)| {
                out.push(k.clone());
                keys(v, out);
            }),
            _ => {}
        }
    }

    #[test]
    fn values_stay_within_their_depth_and_use_the_names_and_words() {
        let strategy = AnyJson::named(&["id", "items"]).words(&["MP4"]).depth(3, 32).strategy();
        let mut runner = TestRunner::deterministic();
        let (mut named, mut worded) = (false, false);
        for _ in 0..2000 {
            let v = strategy.new_tree(&mut runner).expect("a value").current();
            assert!(depth_of(&v) <= 3, "{v}");
            let mut ks = Vec::new();
            keys(&v, &mut ks);
            named |= ks.iter().any(|k| k == "id" || k == "items");
            worded |= v == "MP4" || v.to_string().contains("\"MP4\"");
        }
        assert!(named && worded);
    }
}
