//! Properties of the signed pagination cursors (`?cursor=`): whatever a client sends decodes to
//! the key the server signed for that very query, or is a 400 `invalid_cursor`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use proptest::prelude::*;
use serde_json::Value;
use vivid_domain::page::PageKey;
use vivid_edge::{ApiError, cursor::CursorKey as Cursors};

const KEY: &str = "0123456789abcdef0123456789abcdef-cursor-key";

fn cursors() -> Cursors {
    Cursors::new(KEY).expect("a 32-byte key")
}

/// The refusal every bad cursor gets.
fn is_invalid_cursor(r: &Result<PageKey, ApiError>) -> bool {
    matches!(r, Err(e) if e.status().as_u16() == 400 && e.code() == "invalid_cursor")
}

/// Store keys: a few attributes with any text (controls, quotes, non-ASCII), of the size the
/// table's keys have.
fn page_key() -> impl Strategy<Value = PageKey> {
    prop::collection::btree_map(
        prop_oneof!["(PK|SK|GSI1PK|GSI1SK)", "\\PC{0,10}", any::<String>().prop_map(|s| s.chars().take(10).collect())],
        prop_oneof![
            "(SPACE|USER|VIDEO|MEMBER)#[0-9A-Z]{26}",
            "\\PC{0,40}",
            prop::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect()),
        ],
        0..4,
    )
}

/// Query bindings: route, caller, parent.
fn binding() -> impl Strategy<Value = String> {
    prop_oneof!["(members|videos|spaces|drawings)\\|(space|user)=[0-9A-Z]{26}", "\\PC{0,30}", any::<String>()]
}

proptest! {
    /// Anything a client puts in `?cursor=` is refused as a 400 (a forged cursor would need the
    /// key's HMAC), never a panic or another error.
    #[test]
    fn an_arbitrary_cursor_is_refused(
        s in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,400}", "\\PC{0,3000}"],
        b in binding(),
    ) {
        let got = cursors().decode(&s, &b);
        prop_assert!(is_invalid_cursor(&got), "{:?} -> {:?}", s, got);
    }

    /// A well-formed cursor (base64url of `{"k": key, "m": tag}`) with a tag not made by the key
    /// is refused, whatever key and tag it carries.
    #[test]
    fn a_cursor_with_a_made_up_tag_is_refused(
        k in page_key(),
        tag in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40).prop_map(|t| URL_SAFE_NO_PAD.encode(t)),
            "\\PC{0,50}",
        ],
        b in binding(),
    ) {
        let wire = serde_json::json!({ "k": k, "m": tag });
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("json"));
        prop_assert!(is_invalid_cursor(&cursors().decode(&forged, &b)));
    }

    /// A cursor decodes, for the query it was made for, to the very key it was made of.
    #[test]
    fn a_cursor_round_trips_for_its_own_binding(k in page_key(), b in binding()) {
        let c = cursors();
        let cursor = c.encode(&k, &b);
        prop_assert!(cursor.bytes().all(|x| x.is_ascii_alphanumeric() || x == b'-' || x == b'_'), "URL-safe: {}", cursor);
        prop_assert_eq!(c.decode(&cursor, &b).ok(), Some(k.clone()));
        // The list body carries the same cursor.
        let body = c.list(Vec::<u8>::new(), Some(&k), &b);
        prop_assert_eq!(body.next_cursor.as_deref(), Some(cursor.as_str()));
    }

    /// A cursor made for one query (another route, user or space) never opens another one, and
    /// one signed with another key opens nothing.
    #[test]
    fn a_cursor_is_bound_to_its_query_and_key(k in page_key(), b in binding(), other in binding()) {
        let c = cursors();
        let cursor = c.encode(&k, &b);
        if other != b {
            prop_assert!(is_invalid_cursor(&c.decode(&cursor, &other)), "{:?} opened {:?}", b, other);
        }
        let extended = format!("{b}\n");
        prop_assert!(is_invalid_cursor(&c.decode(&cursor, &extended)));
        let foreign = Cursors::new(&format!("{KEY}!")).expect("key");
        prop_assert!(is_invalid_cursor(&foreign.decode(&cursor, &b)));
        prop_assert!(is_invalid_cursor(&c.decode(&foreign.encode(&k, &b), &b)));
    }

    /// Changing any one character of a valid cursor is refused. (A change that JSON reads as the
    /// same key, e.g. the case of a hex digit in a `\u00XX` escape, may pass: it names the same
    /// position, so it gains nothing; the assertion allows exactly that.)
    #[test]
    fn a_cursor_with_one_character_changed_is_refused(
        k in page_key(),
        b in binding(),
        at in any::<prop::sample::Index>(),
        c in prop_oneof![
            4 => prop::sample::select(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".chars().collect::<Vec<_>>()
            ),
            1 => any::<char>(),
        ],
    ) {
        let cs = cursors();
        let cursor = cs.encode(&k, &b);
        let mut chars: Vec<char> = cursor.chars().collect();
        let i = at.index(chars.len());
        prop_assume!(chars[i] != c);
        chars[i] = c;
        let edited: String = chars.into_iter().collect();
        let got = cs.decode(&edited, &b);
        prop_assert!(is_invalid_cursor(&got) || got.as_ref().ok() == Some(&k), "{} -> {:?}", edited, got);
    }

    /// Dropping characters at either end (a truncated cursor) is refused; characters added at
    /// the end are refused unless they only add white space after the JSON (base64 `Cg` is a
    /// line feed), which names the same position.
    #[test]
    fn a_truncated_or_extended_cursor_is_refused(
        k in page_key(),
        b in binding(),
        cut in 1usize..8,
        tail in "[A-Za-z0-9_=-]{1,4}",
    ) {
        let cs = cursors();
        let cursor = cs.encode(&k, &b);
        let cut = cut.min(cursor.len());
        prop_assert!(is_invalid_cursor(&cs.decode(&cursor[..cursor.len() - cut], &b)));
        prop_assert!(is_invalid_cursor(&cs.decode(&cursor[cut..], &b)));
        let longer = format!("{cursor}{tail}");
        let got = cs.decode(&longer, &b);
        prop_assert!(is_invalid_cursor(&got) || got.as_ref().ok() == Some(&k), "{} -> {:?}", longer, got);
    }

    /// A key edited inside a valid cursor, keeping its tag (an attribute removed, added, or
    /// changed: a start key outside the caller's partition), is refused.
    #[test]
    fn a_cursor_whose_key_was_edited_is_refused(
        k in page_key(),
        b in binding(),
        edit in 0u8..3,
        at in any::<prop::sample::Index>(),
        name in "\\PC{0,8}",
        value in "\\PC{0,20}",
    ) {
        let cs = cursors();
        let cursor = cs.encode(&k, &b);
        let mut wire: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&cursor).expect("base64")).expect("json");
        let map = wire.get_mut("k").and_then(Value::as_object_mut).expect("k is an object");
        let names: Vec<String> = map.keys().cloned().collect();
        match edit {
            0 if !names.is_empty() => {
                map.remove(&names[at.index(names.len())]);
            }
            1 if !names.is_empty() => {
                let n = &names[at.index(names.len())];
                prop_assume!(map.get(n) != Some(&Value::String(value.clone())));
                map.insert(n.clone(), Value::String(value));
            }
            _ => {
                prop_assume!(!map.contains_key(&name));
                map.insert(name, Value::String(value));
            }
        }
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("json"));
        prop_assert!(is_invalid_cursor(&cs.decode(&forged, &b)), "{}", forged);
        // Nor may the key be replaced by something other than a map of strings.
        for bad in [Value::Null, serde_json::json!([]), serde_json::json!({ "PK": 1 }), serde_json::json!("PK")] {
            wire["k"] = bad;
            let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("json"));
            prop_assert!(is_invalid_cursor(&cs.decode(&forged, &b)));
        }
    }
}

/// The signing key must be long enough to resist guessing.
#[test]
fn a_short_key_is_refused() {
    for n in 0..32 {
        assert!(Cursors::new(&"k".repeat(n)).is_err(), "{n}");
    }
    assert!(Cursors::new(&"k".repeat(32)).is_ok());
}
