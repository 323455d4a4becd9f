//! Study notes, private to their author: the text memo (latest state, optimistic versions, a
//! checkpoint history) and drawings (canvas pages, and overlays between two video times).

use std::{fmt, str::FromStr};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    error::StoreError,
    page::{Page, PageKey},
    types::{Invalid, Limit, Seconds, SpaceId, UserId, VideoId},
};

/// The largest editor state a memo keeps (an item holds at most 400 KB).
pub const MAX_MEMO_STATE_BYTES: usize = 256 * 1024;
/// Drawings up to this size live in the table; larger ones in the user-content bucket.
pub const INLINE_DRAWING_BYTES: usize = 64 * 1024;
/// The largest drawing document (Lambda's request payload is 6 MB).
pub const MAX_DRAWING_BYTES: usize = 5 * 1024 * 1024;

/// A memo's latest state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memo {
    pub video_id: VideoId,
    pub user_id: UserId,
    pub space_id: SpaceId,
    pub state_json: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_time: Option<Seconds>,
    pub version: u64,
    pub updated_at: String,
    /// The version last copied into the history (an unchanged state is not checkpointed twice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpointed_version: Option<u64>,
    /// The terms the author's index holds for this memo (absent on memos saved before it was
    /// recorded: their state's terms). Each save moves the index a bounded step towards the
    /// state's terms (`search::note_index_step`; `search::indexed_terms` reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed_terms: Option<std::collections::BTreeSet<String>>,
}

/// An immutable checkpoint of a memo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub checkpoint_id: String,
    pub video_id: VideoId,
    pub user_id: UserId,
    pub space_id: SpaceId,
    pub state_json: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_time: Option<Seconds>,
    pub version: u64,
    pub created_at: String,
}

/// A client-chosen drawing id: 1 to 64 of `A-Z a-z 0-9 _ -` (ULIDs and UUIDs both fit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DrawingId(String);

impl DrawingId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DrawingId {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let ok = !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok { Ok(Self(s.to_owned())) } else { Err(Invalid("malformed drawing id".to_owned())) }
    }
}

impl TryFrom<String> for DrawingId {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        s.parse()
    }
}

impl From<DrawingId> for String {
    fn from(v: DrawingId) -> String {
        v.0
    }
}

impl fmt::Display for DrawingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrawingKind {
    Page,
    Overlay,
}

/// Where a drawing lies: a page, or an overlay shown between two video times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    Page,
    Overlay { start: Seconds, end: Seconds },
}

impl Placement {
    /// Checks `0 <= start < end` for overlays (and `end <= duration` once the duration is known);
    /// pages carry no times.
    pub fn new(
        kind: DrawingKind,
        start: Option<Seconds>,
        end: Option<Seconds>,
        duration: Option<f64>,
    ) -> Result<Self, Invalid> {
        match (kind, start, end) {
            (DrawingKind::Page, None, None) => Ok(Self::Page),
            (DrawingKind::Page, _, _) => Err(Invalid("a page has no startSeconds or endSeconds".into())),
            (DrawingKind::Overlay, Some(s), Some(e)) => {
                if s >= e {
                    return Err(Invalid("an overlay needs startSeconds < endSeconds".into()));
                }
                if let Some(d) = duration
                    && e.get() > d + 0.001
                {
                    return Err(Invalid(format!("endSeconds must not pass the video's end ({d} s)")));
                }
                Ok(Self::Overlay { start: s, end: e })
            }
            (DrawingKind::Overlay, _, _) => Err(Invalid("an overlay needs startSeconds and endSeconds".into())),
        }
    }
}

/// What a conditional save of the memo requires (RFC 9110 §13.1.1, §13.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match` or `If-None-Match`: the save always applies.
    None,
    /// `If-Match: "n"`: the memo is at version n (`"0"`, the empty memo's ETag: there is none yet).
    Version(u64),
    /// `If-Match: *`: a memo exists, at any version.
    Exists,
    /// `If-None-Match: *`: no memo exists yet.
    Absent,
    /// A tag that can never match (a weak tag: `If-Match` compares strongly).
    Never,
}

impl Precondition {
    /// From the `If-Match` and `If-None-Match` header values. With both, RFC 9110 §13.2.2
    /// evaluates `If-Match` first, then `If-None-Match: *` ("no memo"): only `"0"` (the empty
    /// memo's tag) and `*`-none agree; any other pair can never hold (412).
    pub fn parse(if_match: Option<&str>, if_none_match: Option<&str>) -> Result<Self, Invalid> {
        let absent = if_none_match.map(Self::parse_none_match).transpose()?;
        let matched = if_match.map(Self::parse_match).transpose()?;
        Ok(match (matched, absent) {
            (None, None) => Self::None,
            (None, Some(absent)) => absent,
            (Some(m), None) => m,
            (Some(Self::Version(0)), Some(_)) => Self::Absent,
            (Some(_), Some(_)) => Self::Never,
        })
    }

    fn parse_none_match(v: &str) -> Result<Self, Invalid> {
        if v.trim() == "*" { Ok(Self::Absent) } else { Err(Invalid("If-None-Match on a save takes only *".to_owned())) }
    }

    fn parse_match(v: &str) -> Result<Self, Invalid> {
        let bad = |detail: &str| Invalid(detail.to_owned());
        let v = v.trim();
        if v == "*" {
            return Ok(Self::Exists);
        }
        if v.contains(',') {
            return Err(bad("If-Match takes one ETag (the memo's version) or *"));
        }
        if v.starts_with("W/") {
            return Ok(Self::Never);
        }
        // An entity tag is quoted (RFC 9110 §8.8.3): `"7"`, as GET gave it.
        let tag = v.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
        match tag {
            Some(tag) if !tag.is_empty() && tag.len() <= 20 && tag.bytes().all(|b| b.is_ascii_digit()) => {
                // A well-formed tag past any version a memo can reach matches none (412), as a
                // weak one does: it is not malformed (400).
                Ok(tag.parse().map_or(Self::Never, Self::Version))
            }
            _ => Err(bad("If-Match must be the memo's ETag, as GET gave it (a quoted number), or *")),
        }
    }
}

/// A drawing's record; its document is inline or behind `object_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drawing {
    pub drawing_id: DrawingId,
    pub video_id: VideoId,
    pub user_id: UserId,
    pub space_id: SpaceId,
    pub kind: DrawingKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_seconds: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_seconds: Option<Seconds>,
    pub size_bytes: u64,
    pub updated_at: String,
    /// The document, when small enough for the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The document's key in the user-content bucket, when large.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
}

/// The outcome of a conditional memo save.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveOutcome {
    /// The memo as saved (its `indexed_terms` what the index is to hold now), and what the
    /// author's index held before.
    Saved(Box<Memo>, std::collections::BTreeSet<String>),
    /// The caller has no memo item (no grant yet): check membership and create it.
    NoMemo,
    /// `If-Match` named another version.
    Stale,
}

#[async_trait]
pub trait NoteStore: Send + Sync {
    async fn memo(&self, video: &VideoId, user: &UserId) -> Result<Option<Memo>, StoreError>;
    /// One conditional write on the existing memo: the new state, version + 1; with `expected`,
    /// only when the stored version is that one.
    async fn save_memo(
        &self,
        video: &VideoId,
        user: &UserId,
        state: &str,
        video_time: Option<Seconds>,
        expected: Option<u64>,
        now: &str,
    ) -> Result<SaveOutcome, StoreError>;
    /// Creates the first memo (version 1); `Condition(Memo)` when one appeared meanwhile.
    async fn create_memo(&self, memo: &Memo) -> Result<(), StoreError>;
    /// Stores a checkpoint, counts it, charges its state's bytes to the author's storage and
    /// marks the memo's version as checkpointed, atomically: `Condition(Quota)` past
    /// `limits.per_video` checkpoints of the memo or past the author's `limits.storage_bytes`.
    async fn checkpoint(&self, checkpoint: &Checkpoint, limits: crate::quota::Limits) -> Result<(), StoreError>;
    /// Checkpoints, newest first.
    async fn history(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Checkpoint>, StoreError>;
    /// Creates (counted: `Condition(Quota)` past `limits.per_video` of the author's on the
    /// video) or replaces a drawing; returns the one it replaced. Its size is charged to the
    /// author's storage (a replacement charges the difference): `Condition(Quota)` past
    /// `limits.storage_bytes`.
    async fn put_drawing(&self, drawing: &Drawing, limits: crate::quota::Limits)
    -> Result<Option<Drawing>, StoreError>;
    async fn drawing(&self, video: &VideoId, user: &UserId, id: &DrawingId) -> Result<Option<Drawing>, StoreError>;
    async fn drawings(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Drawing>, StoreError>;
    /// Deletes a drawing item with its count and the bytes charged for it; returns it (`None`
    /// when there was none).
    async fn delete_drawing(
        &self,
        video: &VideoId,
        user: &UserId,
        id: &DrawingId,
    ) -> Result<Option<Drawing>, StoreError>;
}

/// The object key of one version of a large drawing in the user-content bucket. Each save writes
/// a new key (the drawing's item then points at it, and the replaced one is removed), so a save
/// that fails half-way never changes the document an existing item points at.
pub fn drawing_object(video: &VideoId, user: &UserId, id: &DrawingId) -> String {
    format!("{}{user}/{id}.{}.json", drawings_prefix(video), ulid::Ulid::new())
}

/// Every large drawing of a video lies under this prefix of the user-content bucket.
pub fn drawings_prefix(video: &VideoId) -> String {
    format!("drawings/{video}/")
}

/// The words of a memo's editor state, for its author's search. Editors save JSON (ProseMirror
/// and Tiptap, Lexical, Slate, Draft.js keep text under `text`, Quill's delta under `insert`) or
/// HTML; both are read, anything else as plain text.
pub fn plain_text(state_json: &str) -> String {
    fn walk(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    match v {
                        serde_json::Value::String(text) if key == "text" || key == "insert" => {
                            out.push_str(text);
                            out.push(' ');
                        }
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(state_json) {
        Ok(serde_json::Value::String(text)) => strip_tags(&text),
        Ok(value @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            let mut out = String::new();
            walk(&value, &mut out);
            out
        }
        _ => strip_tags(state_json),
    }
}

/// HTML's text: tags dropped (a space where each was), the common entities decoded.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")]
        .iter()
        .fold(out, |text, (entity, c)| text.replace(entity, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_if_match_past_any_version_matches_none_and_a_malformed_one_is_refused() {
        let p = |v: &str| Precondition::parse(Some(v), None);
        assert_eq!(p("\"7\""), Ok(Precondition::Version(7)));
        assert_eq!(p("\"18446744073709551615\""), Ok(Precondition::Version(u64::MAX)));
        // 20 digits, as the documented pattern allows, but past u64: no memo has it (412, not 400).
        assert_eq!(p("\"99999999999999999999\""), Ok(Precondition::Never));
        assert_eq!(p("W/\"7\""), Ok(Precondition::Never));
        assert!(p("\"123456789012345678901\"").is_err(), "21 digits: outside the pattern");
        assert!(p("7").is_err(), "unquoted");
    }

    #[test]
    fn overlays_need_an_ordered_window_inside_the_video() {
        let t = |v: f64| Seconds::new(v).ok();
        let o = |s: f64, e: Option<f64>, d| Placement::new(DrawingKind::Overlay, t(s), e.and_then(t), d);
        assert!(o(0.0, Some(1.0), None).is_ok());
        assert!(o(1.0, Some(1.0), None).is_err());
        assert!(o(2.0, Some(1.0), None).is_err());
        assert!(o(1.0, None, None).is_err());
        assert!(o(1.0, Some(20.0), Some(10.0)).is_err());
        assert!(o(1.0, Some(10.0), Some(10.0)).is_ok());
        assert!(Placement::new(DrawingKind::Page, None, None, None).is_ok());
        assert!(Placement::new(DrawingKind::Page, t(1.0), None, None).is_err());
    }

    #[test]
    fn drawing_ids_are_short_and_plain() {
        assert!("01JD6Q5C7B8D9E0F1G2H3J4K5M".parse::<DrawingId>().is_ok());
        assert!("3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f".parse::<DrawingId>().is_ok());
        assert!("a/b".parse::<DrawingId>().is_err());
        assert!("".parse::<DrawingId>().is_err());
        assert!("x".repeat(65).parse::<DrawingId>().is_err());
    }

    #[test]
    fn the_text_of_editor_states_and_html() {
        let prosemirror =
            r#"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Eigen values"}]}]}"#;
        assert_eq!(plain_text(prosemirror).trim(), "Eigen values");
        let quill = r#"{"ops":[{"insert":"Matrix "},{"insert":{"image":"x.png"}},{"insert":"rank\n"}]}"#;
        assert_eq!(plain_text(quill).split_whitespace().collect::<Vec<_>>(), ["Matrix", "rank"]);
        let lexical = r#"{"root":{"type":"root","children":[{"type":"paragraph","format":"","children":[{"text":"Basis","type":"text"}]}]}}"#;
        assert_eq!(plain_text(lexical).trim(), "Basis");
        assert_eq!(
            plain_text("<p>Gauss&amp;Jordan<br>elimination</p>").split_whitespace().collect::<Vec<_>>(),
            ["Gauss&Jordan", "elimination"]
        );
        assert_eq!(plain_text(r#""<b>kernel</b>""#).trim(), "kernel");
        assert_eq!(plain_text("just words").trim(), "just words");
    }
}
