//! Which of a host's Zoom cloud recordings a linked space imports (issue 30): without a filter,
//! every one (office hours and private meetings included); with one, only the recordings that
//! pass every rule it sets — one of its meeting ids, a topic matching its pattern, at least its
//! recorded minutes. The rules are the host's, checked at each webhook delivery.

use serde::{Deserialize, Serialize};

/// The most meeting ids one filter lists.
pub const MAX_MEETING_IDS: usize = 50;
/// The longest topic pattern, in characters (Zoom's topics are at most 200).
pub const MAX_PATTERN_CHARS: usize = 200;
/// The longest minimum duration a filter may ask for: a day.
pub const MAX_MIN_DURATION_MINUTES: u32 = 24 * 60;

/// Why a filter is refused (422 `invalid_body`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error(
        "meetingIds holds at most {MAX_MEETING_IDS} Zoom meeting ids, each of 9 to 12 digits (spaces and dashes allowed)"
    )]
    MeetingIds,
    #[error(
        "topicPattern is 1 to {MAX_PATTERN_CHARS} characters, none a control character or a bidirectional override; * matches any run of characters and ? any one"
    )]
    Pattern,
    #[error("minDurationMinutes is a whole number of minutes from 0 to {MAX_MIN_DURATION_MINUTES}")]
    Duration,
}

/// A filter as a client sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterRequest {
    #[serde(default)]
    pub meeting_ids: Vec<String>,
    #[serde(default, deserialize_with = "crate::types::body::present")]
    pub topic_pattern: Option<String>,
    #[serde(default, deserialize_with = "crate::types::body::some_whole")]
    pub min_duration_minutes: Option<u32>,
}

/// A link's filter, validated; empty (the default) imports every recording.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportFilter {
    /// Zoom meeting numbers (the digits people dial, `85746352910`), none meaning any meeting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meeting_ids: Vec<String>,
    /// A pattern the topic matches, ignoring case: `*` any run of characters, `?` any one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_pattern: Option<String>,
    /// The fewest minutes a recording must hold: its video segments' recorded time together (a
    /// meeting recorded in parts passes or fails as one, each part then a video of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_minutes: Option<u32>,
}

/// What a delivery says of a recording, as the filter reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording<'a> {
    /// The meeting's number (`object.id`), when Zoom gave one.
    pub meeting_id: Option<&'a str>,
    pub topic: &'a str,
    /// The recorded seconds of the files to import.
    pub recorded_secs: u64,
}

/// Why a recording is not imported, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    Meeting,
    Topic,
    TooShort,
}

impl Skipped {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Meeting => "meeting_not_in_filter",
            Self::Topic => "topic_not_matched",
            Self::TooShort => "shorter_than_filter",
        }
    }
}

/// A meeting number as people write it (`857 4635 2910`, `857-4635-2910`: 9 to 12 digits, a
/// single space or dash allowed between two), in digits. The API document's pattern says the
/// same: `^(?:[0-9][ -]?){8,11}[0-9]$`.
pub fn meeting_number(raw: &str) -> Option<String> {
    let mut digits = String::new();
    let mut after_digit = false;
    for c in raw.chars() {
        match c {
            '0'..='9' => {
                digits.push(c);
                after_digit = true;
            }
            ' ' | '-' if after_digit => after_digit = false,
            _ => return None,
        }
    }
    (after_digit && (9..=12).contains(&digits.len())).then_some(digits)
}

/// A character no pattern holds: a control character or a bidirectional override (as in titles).
fn forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The most characters of a topic a pattern is matched against (Zoom's topics are at most 200).
const MAX_TOPIC_CHARS: usize = 300;

impl ImportFilter {
    pub fn parse(request: FilterRequest) -> Result<Self, FilterError> {
        if request.meeting_ids.len() > MAX_MEETING_IDS {
            return Err(FilterError::MeetingIds);
        }
        let mut meeting_ids = request
            .meeting_ids
            .iter()
            .map(|m| meeting_number(m))
            .collect::<Option<Vec<_>>>()
            .ok_or(FilterError::MeetingIds)?;
        meeting_ids.sort_unstable();
        meeting_ids.dedup();
        let topic_pattern = match request.topic_pattern {
            None => None,
            Some(p) if p.is_empty() || p.chars().count() > MAX_PATTERN_CHARS || p.chars().any(forbidden) => {
                return Err(FilterError::Pattern);
            }
            Some(p) => Some(p),
        };
        if request.min_duration_minutes.is_some_and(|m| m > MAX_MIN_DURATION_MINUTES) {
            return Err(FilterError::Duration);
        }
        let min_duration_minutes = request.min_duration_minutes.filter(|m| *m > 0);
        Ok(Self { meeting_ids, topic_pattern, min_duration_minutes })
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `Ok` when the recording passes every rule the filter sets, else the first it fails.
    pub fn admits(&self, recording: &Recording<'_>) -> Result<(), Skipped> {
        if !self.meeting_ids.is_empty()
            && !recording.meeting_id.is_some_and(|m| self.meeting_ids.iter().any(|id| id == m))
        {
            return Err(Skipped::Meeting);
        }
        if self.topic_pattern.as_deref().is_some_and(|p| !glob_matches(p, recording.topic)) {
            return Err(Skipped::Topic);
        }
        if self.min_duration_minutes.is_some_and(|m| recording.recorded_secs < u64::from(m) * 60) {
            return Err(Skipped::TooShort);
        }
        Ok(())
    }
}

/// A character compared ignoring case: its lower case when that is one character (`İ`, whose
/// lower case is two, stays itself, so `?` still stands for it).
fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Whether `text` (its first 300 characters) matches `pattern` ignoring case, `*` any run of
/// characters (none included), `?` any one; neither can be matched literally. The classic
/// two-cursor walk: at most |pattern| × |text| steps, whatever the input (no backtracking
/// blow-up on `*a*a*a*b`).
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(fold).collect();
    let t: Vec<char> = text.chars().take(MAX_TOPIC_CHARS).map(fold).collect();
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it currently stands for the run up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // Let the last `*` take one more character, and try again after it.
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(meeting_ids: &[&str], pattern: Option<&str>, min: Option<u32>) -> Result<ImportFilter, FilterError> {
        ImportFilter::parse(FilterRequest {
            meeting_ids: meeting_ids.iter().map(|s| (*s).to_owned()).collect(),
            topic_pattern: pattern.map(str::to_owned),
            min_duration_minutes: min,
        })
    }

    #[test]
    fn patterns_match_as_globs_ignoring_case() {
        for (p, t, yes) in [
            ("CS101*", "cs101 Lecture 4", true),
            ("CS101*", "Office hours CS101", false),
            ("*lecture*", "Week 3 LECTURE: graphs", true),
            ("Lecture ?", "Lecture 9", true),
            ("Lecture ?", "Lecture 10", false),
            ("*", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("Übung*", "übung 1", true),
            ("?stanbul", "İstanbul", true),
        ] {
            assert_eq!(glob_matches(p, t), yes, "{p:?} on {t:?}");
        }
    }

    #[test]
    fn a_filter_admits_only_what_passes_every_rule_it_sets() {
        let f = filter(&["857 4635 2910"], Some("CS101*"), Some(20)).expect("valid");
        let lecture = Recording { meeting_id: Some("85746352910"), topic: "CS101 Lecture 4", recorded_secs: 50 * 60 };
        assert_eq!(f.admits(&lecture), Ok(()));
        assert_eq!(f.admits(&Recording { meeting_id: Some("99999999999"), ..lecture.clone() }), Err(Skipped::Meeting));
        assert_eq!(f.admits(&Recording { meeting_id: None, ..lecture.clone() }), Err(Skipped::Meeting));
        assert_eq!(f.admits(&Recording { topic: "Office hours", ..lecture.clone() }), Err(Skipped::Topic));
        assert_eq!(f.admits(&Recording { recorded_secs: 20 * 60 - 1, ..lecture.clone() }), Err(Skipped::TooShort));
        assert_eq!(f.admits(&Recording { recorded_secs: 20 * 60, ..lecture }), Ok(()));
        let any = ImportFilter::default();
        assert!(any.is_empty());
        assert_eq!(any.admits(&Recording { meeting_id: None, topic: "", recorded_secs: 0 }), Ok(()));
    }

    #[test]
    fn bad_rules_are_refused_and_a_zero_minimum_is_none() {
        assert_eq!(filter(&["12345678"], None, None), Err(FilterError::MeetingIds));
        assert_eq!(filter(&["1234567890123"], None, None), Err(FilterError::MeetingIds));
        assert_eq!(filter(&["12345678a0"], None, None), Err(FilterError::MeetingIds));
        let many: Vec<String> = (0..51).map(|i| format!("1234567{i:03}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(filter(&many, None, None), Err(FilterError::MeetingIds));
        assert_eq!(filter(&[], Some(""), None), Err(FilterError::Pattern));
        for bad in ["-123456789", "1234567890-", "1234--567890", "12345 6789a", "1234567890\n"] {
            assert_eq!(filter(&[bad], None, None), Err(FilterError::MeetingIds), "{bad:?}");
        }
        assert_eq!(filter(&[], Some(&"x".repeat(201)), None), Err(FilterError::Pattern));
        assert_eq!(filter(&[], Some("a\u{7}"), None), Err(FilterError::Pattern));
        assert_eq!(filter(&[], Some("CS\u{202e}101"), None), Err(FilterError::Pattern));
        assert_eq!(filter(&[], None, Some(1441)), Err(FilterError::Duration));
        assert_eq!(filter(&[], None, Some(0)), Ok(ImportFilter::default()));
        let twice = filter(&["1234567890", "123-456-7890"], None, None).expect("valid");
        assert_eq!(twice.meeting_ids, vec!["1234567890".to_owned()]);
    }
}
