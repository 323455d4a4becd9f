//! Validated newtypes: parse at the edge, trust past it.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Why a value was refused; becomes a 400 (path, query) or 422 (body) at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(ulid::Ulid::new().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                // Canonical form only: 26 Crockford base-32 characters, upper case.
                match ulid::Ulid::from_string(s) {
                    Ok(u) if u.to_string() == s => Ok(Self(s.to_owned())),
                    _ => Err(Invalid(format!(concat!("malformed ", $what, " id"))))
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

ulid_id!(
    /// A user's id (also the access token's `sub`).
    UserId,
    "user"
);
ulid_id!(
    /// A space's id.
    SpaceId,
    "space"
);
ulid_id!(
    /// A video's id.
    VideoId,
    "video"
);
ulid_id!(
    /// A snapshot's id.
    SnapshotId,
    "snapshot"
);
ulid_id!(
    /// A bookmark's id.
    BookmarkId,
    "bookmark"
);
ulid_id!(
    /// An invitation's id (not its secret code).
    InvitationId,
    "invitation"
);

/// Whether a character may not appear in stored text: control characters (but line breaks and
/// tabs where `multiline`) and the bidirectional embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069) that make text display as something other than it is.
pub fn forbidden_char(c: char, multiline: bool) -> bool {
    (c.is_control() && !(multiline && (c == '\n' || c == '\t')))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text free of [`forbidden_char`]s.
pub fn clean_text(s: &str, multiline: bool) -> bool {
    !s.chars().any(|c| forbidden_char(c, multiline))
}

/// A time on a video's timeline, in seconds: from 0 to a day as sent, kept to the millisecond.
/// What DynamoDB cannot store (more than 38 digits, magnitudes below 1e-130) never reaches it:
/// a value is rounded to the millisecond (so `1e-200` is 0); a value outside 0..=86400, a
/// subnormal one (below 2.2e-308: no client means it) or a non-finite one is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Seconds(f64);

impl Seconds {
    /// The longest timeline: 24 hours.
    pub const MAX: f64 = 86_400.0;
    pub const ZERO: Self = Self(0.0);

    /// The nearest millisecond.
    pub fn new(v: f64) -> Result<Self, Invalid> {
        Self::kept(v, f64::round)
    }

    /// The millisecond at or before `v` (an overlay's start: never later than asked).
    pub fn floor(v: f64) -> Result<Self, Invalid> {
        Self::kept(v, f64::floor)
    }

    /// The millisecond at or after `v` (an overlay's end: never earlier than asked).
    pub fn ceil(v: f64) -> Result<Self, Invalid> {
        Self::kept(v, f64::ceil)
    }

    fn kept(v: f64, to_ms: fn(f64) -> f64) -> Result<Self, Invalid> {
        if !(0.0..=Self::MAX).contains(&v) || v.is_subnormal() {
            return Err(Invalid(format!("seconds must be a number from 0 to {} (and not subnormal)", Self::MAX)));
        }
        // In range, so the product is at most 8.64e7: exact enough, and the result stays in range.
        // `+ 0.0` turns -0 into 0.
        Ok(Self(to_ms(v * 1000.0) / 1000.0 + 0.0))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Seconds {
    type Error = Invalid;
    fn try_from(v: f64) -> Result<Self, Invalid> {
        Self::new(v)
    }
}

impl From<Seconds> for f64 {
    fn from(s: Seconds) -> f64 {
        s.0
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Serde helpers for request bodies: numbers as JSON Schema reads them, `null` never meaning
/// "absent".
pub mod body {
    use serde::{Deserialize, Deserializer, de::Error};

    /// A whole number: a JSON integer, or a number without a fraction (`1.0` is an `integer` to
    /// JSON Schema), in `T`'s range.
    pub fn whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        let u = match n.as_u64() {
            Some(u) => Some(u),
            None => n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 18_446_744_073_709_551_616.0)
                .map(|f| f as u64),
        };
        let u = u.ok_or_else(|| D::Error::custom(format!("{n} is not a whole number")))?;
        T::try_from(u).map_err(|_| D::Error::custom(format!("{u} is out of range")))
    }

    /// An optional whole number ([`whole`]): absent is `None`, `null` is refused.
    pub fn some_whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
        whole(d).map(Some)
    }

    /// A list of whole numbers ([`whole`]).
    pub fn whole_list<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Vec<T>, D::Error> {
        #[derive(Deserialize)]
        struct W<T: TryFrom<u64>>(#[serde(deserialize_with = "whole")] T);
        Ok(Vec::<W<T>>::deserialize(d)?.into_iter().map(|W(v)| v).collect())
    }

    /// An optional list of whole numbers: absent is `None`, `null` is refused.
    pub fn some_whole_list<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<Vec<T>>, D::Error> {
        whole_list(d).map(Some)
    }

    /// An optional field that, when present, must be a value: with `#[serde(default)]`, absent is
    /// `None` and `null` is refused like any other wrong type.
    pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
        T::deserialize(d).map(Some)
    }
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $what:literal, $min:expr, $max:expr, multiline = $multiline:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MIN_CHARS: usize = $min;
            pub const MAX_CHARS: usize = $max;
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                // The length as sent (what a client's `maxLength` counts), the content trimmed.
                if s.chars().count() > Self::MAX_CHARS {
                    return Err(Invalid(format!(concat!($what, " must have at most {} characters"), $max)));
                }
                let trimmed = s.trim();
                if trimmed.chars().count() < Self::MIN_CHARS {
                    return Err(Invalid(format!(concat!($what, " must have at least {} non-blank character(s)"), $min)));
                }
                if !clean_text(trimmed, $multiline) {
                    return Err(Invalid(concat!($what, " must not contain control or bidirectional-override characters").to_owned()));
                }
                Ok(Self(trimmed.to_owned()))
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_text!(
    /// A space's name: 1 to 100 characters, trimmed, one line.
    SpaceName,
    "name",
    1,
    100,
    multiline = false
);
bounded_text!(
    /// A free description: up to 2000 characters, line breaks allowed; empty by default.
    #[derive(Default)]
    Description,
    "description",
    0,
    2000,
    multiline = true
);
bounded_text!(
    /// A person's display name.
    PersonName,
    "name",
    1,
    200,
    multiline = false
);

/// One line of display text made safe to show from text someone else chose (an identity
/// provider's profile name, a space's name in a mail): control characters, bidirectional
/// embeddings, overrides, isolates and marks and zero-width spaces are removed, every run of
/// white space (line breaks included) becomes one space, and the result is trimmed and cut to
/// `max_chars` characters.
pub fn scrub_line(s: &str, max_chars: usize) -> String {
    let invisible = |c: char| {
        forbidden_char(c, false) || matches!(c, '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{FEFF}')
    };
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut kept = 0;
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if invisible(c) {
            continue;
        }
        let needed = if space { 2 } else { 1 };
        if kept + needed > max_chars {
            break;
        }
        if space {
            out.push(' ');
            kept += 1;
            space = false;
        }
        out.push(c);
        kept += 1;
    }
    out
}

impl PersonName {
    /// The name an identity provider gives for the account with `email`, cleaned
    /// ([`scrub_line`], at most [`PersonName::MAX_CHARS`]); a name with nothing left (absent,
    /// blank, nothing but control or bidirectional characters) is the address's local part.
    pub fn from_provider(raw: &str, email: &Email) -> Self {
        let name = scrub_line(raw, Self::MAX_CHARS);
        if !name.is_empty() {
            return Self(name);
        }
        let local = email.as_str().split('@').next().unwrap_or_default();
        match scrub_line(local, Self::MAX_CHARS) {
            l if l.is_empty() => Self("user".to_owned()),
            l => Self(l),
        }
    }
}

impl SpaceName {
    /// The name of every user's personal space.
    pub fn personal() -> Self {
        Self("Personal".to_owned())
    }
}

/// An e-mail address, normalised to lower case. Deliberately simple: one `@`, a dotted domain,
/// no spaces, at most 254 characters. Identity providers verify the real thing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        let s = s.trim().to_lowercase();
        let bad = || Invalid("email must be a valid e-mail address".to_owned());
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || forbidden_char(c, false)) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| !label.is_empty() && label.len() <= 63);
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(bad());
        }
        Ok(Self(s))
    }
}

impl FromStr for Email {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::try_from(s.to_owned())
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A page size: 1..=100, 25 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u16);

impl Limit {
    pub const DEFAULT: Limit = Limit(25);
    pub const MAX: u16 = 100;
    pub fn get(self) -> u16 {
        self.0
    }
    /// A limit from a trusted number, brought into 1..=100.
    pub fn clamped(n: u16) -> Self {
        Self(n.clamp(1, Self::MAX))
    }
}

impl FromStr for Limit {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.parse::<u16>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(Invalid(format!("limit must be an integer from 1 to {}", Self::MAX))),
        }
    }
}

/// Now in seconds since the epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Now as RFC 3339 UTC with millisecond precision (sortable as text).
pub fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// A moment given in seconds since the epoch, as RFC 3339 UTC.
pub fn rfc3339_at(unix_secs: u64) -> String {
    let t = i64::try_from(unix_secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    rfc3339(t)
}

pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.to_offset(time::UtcOffset::UTC).format(f).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_only_canonical_ulids() {
        let id = SpaceId::generate();
        assert_eq!(id.as_str().parse::<SpaceId>().ok(), Some(id.clone()));
        assert!(id.as_str().to_lowercase().parse::<SpaceId>().is_err());
        assert!("not-an-id".parse::<SpaceId>().is_err());
        assert!("".parse::<UserId>().is_err());
        assert!("01ARZ3NDEKTSV4RRFFQ69G5FAV1".parse::<UserId>().is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(SpaceName::try_from("  Physics ".to_owned()).map(String::from), Ok("Physics".to_owned()));
        assert!(SpaceName::try_from("   ".to_owned()).is_err());
        assert!(SpaceName::try_from("x".repeat(101)).is_err());
        assert!(SpaceName::try_from("ü".repeat(100)).is_ok());
        assert!(SpaceName::try_from("a\nb".to_owned()).is_err());
        assert!(Description::try_from("a\nb".to_owned()).is_ok());
        assert!(Description::try_from(String::new()).is_ok());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::from_str(" Ana@Example.COM ").map(String::from), Ok("ana@example.com".to_owned()));
        for bad in ["", "ana", "ana@", "@example.com", "ana@example", "a na@example.com", "a@b@c.com", "ana@.com"] {
            assert!(Email::from_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert!("0".parse::<Limit>().is_err());
        assert!("101".parse::<Limit>().is_err());
        assert!("-1".parse::<Limit>().is_err());
        assert_eq!("100".parse::<Limit>().map(Limit::get), Ok(100));
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = time::macros::datetime!(2026-11-25 13:34:22.5 UTC);
        assert_eq!(rfc3339(t), "2026-11-25T13:34:22.500Z");
    }

    #[test]
    fn seconds_keep_what_the_store_can_hold() {
        assert_eq!(Seconds::new(1e-200).map(Seconds::get), Ok(0.0));
        assert_eq!(Seconds::new(-0.0).map(|s| s.get().is_sign_negative()), Ok(false));
        assert_eq!(Seconds::new(12.3456).map(Seconds::get), Ok(12.346));
        assert_eq!(
            (Seconds::floor(0.0001).map(Seconds::get), Seconds::ceil(0.0002).map(Seconds::get)),
            (Ok(0.0), Ok(0.001))
        );
        for bad in [f64::NAN, f64::INFINITY, -1.0, -0.0001, 86_400.000_4, 86_400.001, 5e-324, f64::MIN_POSITIVE / 2.0] {
            assert!(Seconds::new(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Seconds>("1e-200").is_ok());
    }

    #[test]
    fn bidirectional_overrides_are_refused() {
        assert!(SpaceName::try_from("evil\u{202E}gnp.exe".to_owned()).is_err());
        assert!(Description::try_from("a\u{2066}b".to_owned()).is_err());
        assert!(SpaceName::try_from("שלום עולם".to_owned()).is_ok());
    }

    proptest::proptest! {
        /// Whatever number reaches it, `Seconds` either refuses it or holds a value DynamoDB
        /// stores exactly: within range and with at most 3 decimals when printed.
        #[test]
        fn any_number_becomes_storable_seconds_or_is_refused(
            v in proptest::prop_oneof![proptest::num::f64::ANY, -1.0f64..90_000.0, -1e-100f64..1e-100]
        ) {
            if let Ok(s) = Seconds::new(v) {
                let x = s.get();
                proptest::prop_assert!((0.0..=Seconds::MAX).contains(&x));
                let printed = x.to_string();
                let decimals = printed.split_once('.').map_or(0, |(_, d)| d.len());
                proptest::prop_assert!(decimals <= 3 && !printed.contains('e'), "{printed}");
                proptest::prop_assert_eq!(Seconds::new(x), Ok(s));
            }
        }

        #[test]
        fn text_is_bounded_trimmed_and_clean(s in "\\PC{0,120}|[\\x00-\\x1f\\u{202A}-\\u{202E}\\u{2066}-\\u{2069}a ]{0,20}") {
            match SpaceName::try_from(s.clone()) {
                Ok(name) => {
                    let n = name.as_str();
                    proptest::prop_assert!(clean_text(n, false));
                    proptest::prop_assert!((1..=SpaceName::MAX_CHARS).contains(&n.chars().count()));
                    proptest::prop_assert_eq!(n, n.trim());
                }
                Err(_) => {
                    let t = s.trim();
                    let n = t.chars().count();
                    proptest::prop_assert!(n == 0 || n > SpaceName::MAX_CHARS || !clean_text(t, false));
                }
            }
        }
    }

    #[test]
    fn provider_names_are_cleaned_to_a_person_name_or_fall_back_to_the_address() {
        let email: Email = "ana.lima@example.org".parse().expect("email");
        let name = |raw: &str| PersonName::from_provider(raw, &email).as_str().to_owned();
        assert_eq!(name("  Ana \u{202E}Lima\u{0000}\u{200F} "), "Ana Lima");
        assert_eq!(name("Ana\n\r\tLima\u{2028}Jr"), "Ana Lima Jr");
        assert_eq!(name("\u{202E}\u{2066}\u{0007}\u{200B}"), "ana.lima", "nothing usable left");
        assert_eq!(name(""), "ana.lima");
        assert_eq!(name("Zoë \u{0645}\u{200C}\u{0646}"), "Zoë \u{0645}\u{200C}\u{0646}", "joiners stay");
        let long = name(&"é".repeat(500));
        assert_eq!(long.chars().count(), PersonName::MAX_CHARS);
        for raw in ["a\u{202E}b", &"x ".repeat(300), "\u{0000}", " \u{2067}Bo\u{2069} "] {
            let cleaned = name(raw);
            assert_eq!(PersonName::try_from(cleaned.clone()).ok().map(String::from), Some(cleaned), "{raw:?}");
        }
        assert_eq!(scrub_line("a    b", 2), "a", "a space is never left at the end");
    }

    #[test]
    fn bodies_read_numbers_as_json_schema_does_and_refuse_null() {
        #[derive(Debug, serde::Deserialize)]
        struct B {
            #[serde(deserialize_with = "body::whole")]
            rate: u8,
            #[serde(default, deserialize_with = "body::some_whole_list")]
            parts: Option<Vec<u32>>,
            #[serde(default, deserialize_with = "body::present")]
            note: Option<String>,
        }
        let b: B = serde_json::from_str(r#"{"rate": 1.0, "parts": [2, 3.0]}"#).expect("whole floats");
        assert_eq!((b.rate, b.parts, b.note), (1, Some(vec![2, 3]), None));
        for bad in [
            r#"{"rate": 1.5}"#,
            r#"{"rate": 256}"#,
            r#"{"rate": -1}"#,
            r#"{"rate": 1, "parts": null}"#,
            r#"{"rate": 1, "note": null}"#,
            r#"{"rate": 1e300}"#,
        ] {
            assert!(serde_json::from_str::<B>(bad).is_err(), "{bad}");
        }
    }
}
