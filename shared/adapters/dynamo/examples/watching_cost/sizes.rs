//! DynamoDB's item size and the units it costs to write and read, and the attribute builders the
//! program rebuilds items with.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;

const KB: usize = 1024;
/// A read unit: 4 KB read strongly consistent (half a unit eventually consistent).
pub(crate) const READ_UNIT: usize = 4 * KB;

/// A number's stored size: one byte per two significant digits, plus one (plus one if negative).
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1 + usize::from(n.starts_with('-'))
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Ss(ss) => ss.iter().map(String::len).sum(),
        AttributeValue::Ns(ns) => ns.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(bs) => bs.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
        // BOOL, NULL (and any type added later: counted as the smallest).
        _ => 1,
    }
}

pub(crate) fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, v)| name.len() + value_size(v)).sum()
}

/// Write units of one item in a transaction: 2 per KB, rounded up.
pub(crate) fn transact_wcu(bytes: usize) -> u64 {
    2 * bytes.max(1).div_ceil(KB) as u64
}

/// Standard write units (an index write): 1 per KB, rounded up.
pub(crate) fn wcu(bytes: usize) -> u64 {
    bytes.max(1).div_ceil(KB) as u64
}

/// Read units of a strongly consistent read of `bytes` (a `Query` sums its items first).
pub(crate) fn rcu(bytes: usize) -> u64 {
    bytes.max(1).div_ceil(READ_UNIT) as u64
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// `ADD name delta` on a number attribute (absent: 0).
pub(crate) fn add(item: &mut Item, name: &str, delta: u64) {
    let old = match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse::<u64>().unwrap_or(0),
        _ => 0,
    };
    item.insert(name.to_owned(), n(old + delta));
}
