//! Search inside a space's lectures: an inverted index of terms kept in the table (one posting
//! per term and video and source: the video's words — title, description, chapters — and its
//! transcript), read with one query per search term. Postings are written when a video becomes
//! `READY` or is edited (its words) and when its transcript completes (the transcript), and go
//! with the video. Each member's memos have an index of their own, read only by their searches.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    error::StoreError,
    transcripts::Word,
    types::{SpaceId, UserId, VideoId},
    video::Chapter,
};

/// A search names at most this many terms (the others are ignored).
pub const MAX_QUERY_TERMS: usize = 5;
/// A transcript posting keeps the times of this many occurrences.
pub const MAX_TIMES: usize = 10;
/// Terms shorter than this are not indexed.
const MIN_TERM: usize = 2;
const MAX_TERM: usize = 40;

/// Words too common to find anything by (English; titles in other languages keep theirs).
const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "he", "her", "his", "i",
    "in", "is", "it", "its", "of", "on", "or", "our", "she", "so", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "to", "us", "was", "we", "were", "what", "when", "which", "who", "will", "with", "you",
    "your",
];

/// The terms of a text: lower-case runs of letters and digits, without the stop words.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|t| t.trim_matches('\'').to_lowercase())
        .filter(|t| t.chars().count() >= MIN_TERM && t.chars().count() <= MAX_TERM && !STOP.contains(&t.as_str()))
        .collect()
}

/// Where in a video a term was found.
pub mod fields {
    pub const TITLE: u8 = 1;
    pub const DESCRIPTION: u8 = 2;
    pub const CHAPTER: u8 = 4;
    pub const TRANSCRIPT: u8 = 8;
    /// The searching member's own notes (never anyone else's).
    pub const NOTES: u8 = 16;
}

/// Which of a video's postings: its own words, or its transcript's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Words,
    Transcript,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Words => "W",
            Source::Transcript => "T",
        }
    }
}

/// One term's posting for one video and source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Posting {
    pub video_id: VideoId,
    /// [`fields`] the term occurs in.
    pub fields: u8,
    /// How often it occurs.
    pub count: u32,
    /// When it is spoken or a chapter naming it starts (seconds), the first [`MAX_TIMES`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<f64>,
}

/// The postings of a video's own words: title, description, chapters (at their start times).
pub fn word_postings(
    video: &VideoId,
    title: &str,
    description: &str,
    chapters: &[Chapter],
) -> BTreeMap<String, Posting> {
    let mut out: BTreeMap<String, Posting> = BTreeMap::new();
    let mut add = |term: String, field: u8, at: Option<f64>| {
        let p = out.entry(term).or_insert_with(|| Posting {
            video_id: video.clone(),
            fields: 0,
            count: 0,
            times: Vec::new(),
        });
        p.fields |= field;
        p.count += 1;
        if let Some(t) = at.filter(|_| p.times.len() < MAX_TIMES) {
            p.times.push(t);
        }
    };
    for t in terms(title) {
        add(t, fields::TITLE, None);
    }
    for t in terms(description) {
        add(t, fields::DESCRIPTION, None);
    }
    for c in chapters {
        for t in terms(c.title.as_str()) {
            add(t, fields::CHAPTER, Some(c.start_seconds.get()));
        }
    }
    out
}

/// The postings of a transcript: every term with how often and (the first) when it is spoken.
pub fn transcript_postings(video: &VideoId, words: &[Word]) -> BTreeMap<String, Posting> {
    let mut out: BTreeMap<String, Posting> = BTreeMap::new();
    for w in words {
        for t in terms(&w.text) {
            let p = out.entry(t).or_insert_with(|| Posting {
                video_id: video.clone(),
                fields: fields::TRANSCRIPT,
                count: 0,
                times: Vec::new(),
            });
            p.count += 1;
            if p.times.len() < MAX_TIMES {
                p.times.push(w.start);
            }
        }
    }
    out
}

/// A memo holds at most this many terms in its author's index (a longer one is searched by its
/// first ones).
pub const MAX_NOTE_TERMS: usize = 2_000;

/// The terms of a member's memo on a video, for their own search (presence only: no counts, no
/// times).
pub fn note_terms(state_json: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for t in terms(&crate::notes::plain_text(state_json)) {
        if out.len() >= MAX_NOTE_TERMS {
            break;
        }
        out.insert(t);
    }
    out
}

/// At most this many postings move in the author's index per memo save (puts and deletes
/// together): a save that changes more words moves the first ones and the next saves carry on,
/// so a memo rewritten in full costs its author at most this many index writes a save.
pub const MAX_NOTE_INDEX_WRITES: usize = 100;

/// What the author's index holds for a memo after a save: from `indexed` (what it holds now)
/// towards `wanted` (the new state's terms), with at most `max_writes` postings moved — the ones
/// that went first (a term found that is no longer there misleads more than one not found yet),
/// then the new ones, in term order.
pub fn note_index_step(
    indexed: &std::collections::BTreeSet<String>,
    wanted: &std::collections::BTreeSet<String>,
    max_writes: usize,
) -> std::collections::BTreeSet<String> {
    let mut out = indexed.clone();
    let mut budget = max_writes;
    for gone in indexed.difference(wanted).take(budget) {
        out.remove(gone);
        budget -= 1;
    }
    for new in wanted.difference(indexed).take(budget) {
        out.insert(new.clone());
    }
    out
}

/// What the author's index holds for a memo: its recorded `indexed_terms`, or for a memo saved
/// before they were recorded, its state's terms.
pub fn indexed_terms(memo: &crate::notes::Memo) -> std::collections::BTreeSet<String> {
    memo.indexed_terms.clone().unwrap_or_else(|| note_terms(&memo.state_json))
}

/// A term found in a member's memo on a video.
pub fn note_posting(video: &VideoId) -> Posting {
    Posting { video_id: video.clone(), fields: fields::NOTES, count: 0, times: Vec::new() }
}

/// A video found, with its score and the moments to jump to.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub video_id: VideoId,
    pub score: f64,
    /// [`fields`] every query term was found in, together.
    pub fields: u8,
    /// Where the rarest term is spoken or its chapter starts, in time order.
    pub moments: Vec<f64>,
}

/// Ranks videos by the postings of each query term: a video must hold every term; a term scores
/// 8 in the title, 4 in a chapter, 3 in the searching member's notes, 2 in the description and
/// `1 + ln(count)` in the transcript,
/// weighted by its rarity across the space's videos (`ln(1 + videos / videos with it)`).
pub fn rank(per_term: &[Vec<Posting>], videos_in_space: usize) -> Vec<Hit> {
    if per_term.is_empty() || per_term.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    // One video's postings of one term (its words' and its transcript's) merged.
    let merged: Vec<HashMap<VideoId, Posting>> = per_term
        .iter()
        .map(|postings| {
            let mut m: HashMap<VideoId, Posting> = HashMap::new();
            for p in postings {
                m.entry(p.video_id.clone())
                    .and_modify(|q| {
                        q.fields |= p.fields;
                        q.count += p.count;
                        q.times.extend(p.times.iter().copied());
                    })
                    .or_insert_with(|| p.clone());
            }
            m
        })
        .collect();
    let rarest = merged.iter().enumerate().min_by_key(|(_, m)| m.len()).map_or(0, |(i, _)| i);
    let mut hits: Vec<Hit> = merged[rarest]
        .keys()
        .filter(|v| merged.iter().all(|m| m.contains_key(*v)))
        .map(|v| {
            let mut score = 0.0;
            let mut fields = u8::MAX;
            for m in &merged {
                let p = &m[v];
                let idf = (1.0 + videos_in_space.max(m.len()) as f64 / m.len() as f64).ln();
                let mut s = 0.0;
                if p.fields & fields::TITLE != 0 {
                    s += 8.0;
                }
                if p.fields & fields::CHAPTER != 0 {
                    s += 4.0;
                }
                if p.fields & fields::NOTES != 0 {
                    s += 3.0;
                }
                if p.fields & fields::DESCRIPTION != 0 {
                    s += 2.0;
                }
                if p.fields & fields::TRANSCRIPT != 0 {
                    s += 1.0 + f64::from(p.count.max(1)).ln();
                }
                score += s * idf;
                fields &= p.fields;
            }
            let mut moments = merged[rarest][v].times.clone();
            moments.sort_by(f64::total_cmp);
            moments.dedup();
            moments.truncate(MAX_TIMES);
            Hit { video_id: v.clone(), score: (score * 1000.0).round() / 1000.0, fields, moments }
        })
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.video_id.cmp(&b.video_id)));
    hits
}

#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Replaces a video's postings of one source by these.
    async fn index_video(
        &self,
        space: &SpaceId,
        video: &VideoId,
        source: Source,
        postings: &BTreeMap<String, Posting>,
    ) -> Result<(), StoreError>;
    /// Every posting of a term in a space.
    async fn postings(&self, space: &SpaceId, term: &str) -> Result<Vec<Posting>, StoreError>;
    /// Moves `user`'s memo on a video in their own index from the terms `before` to `after`: the
    /// new ones added, the ones it no longer has removed, the others left alone.
    async fn index_notes(
        &self,
        space: &SpaceId,
        video: &VideoId,
        user: &UserId,
        before: &std::collections::BTreeSet<String>,
        after: &std::collections::BTreeSet<String>,
    ) -> Result<(), StoreError>;
    /// The videos whose memo by `user` holds a term (as [`note_posting`]s).
    async fn note_postings(&self, space: &SpaceId, user: &UserId, term: &str) -> Result<Vec<Posting>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_save_moves_at_most_its_budget_of_postings_and_the_next_saves_carry_on() {
        let set = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<std::collections::BTreeSet<_>>();
        let indexed = set(&["alpha", "beta", "gamma"]);
        let wanted = set(&["beta", "delta", "epsilon", "zeta"]);
        // Two removals first, then one of the three new terms.
        let first = note_index_step(&indexed, &wanted, 3);
        assert_eq!(first, set(&["beta", "delta"]));
        let second = note_index_step(&first, &wanted, 3);
        assert_eq!(second, wanted);
        assert_eq!(note_index_step(&wanted, &wanted, 3), wanted, "nothing to move: nothing moves");
        // The worst case of a save: a memo rewritten in full moves exactly the budget.
        let before: std::collections::BTreeSet<String> = (0..2_000).map(|i| format!("a{i}")).collect();
        let after: std::collections::BTreeSet<String> = (0..2_000).map(|i| format!("b{i}")).collect();
        let step = note_index_step(&before, &after, MAX_NOTE_INDEX_WRITES);
        assert_eq!(before.symmetric_difference(&step).count(), MAX_NOTE_INDEX_WRITES);
    }

    #[test]
    fn terms_are_words_without_the_common_ones() {
        assert_eq!(terms("The Eigenvalue of a MATRIX, stretched!"), ["eigenvalue", "matrix", "stretched"]);
        assert_eq!(terms("Schrödinger's cat: 2 states"), ["schrödinger's", "cat", "states"]);
        assert!(terms("a I").is_empty());
    }

    #[test]
    fn a_title_outranks_a_passing_mention_and_every_term_must_be_there() {
        let (a, b, c) = (VideoId::generate(), VideoId::generate(), VideoId::generate());
        let words = |v: &VideoId, text: &str| word_postings(v, text, "", &[]);
        let spoken = |v: &VideoId, text: &str| {
            let w: Vec<Word> = text
                .split(' ')
                .enumerate()
                .map(|(i, t)| Word { text: t.into(), start: i as f64, end: i as f64 + 0.5 })
                .collect();
            transcript_postings(v, &w)
        };
        let mut index: HashMap<String, Vec<Posting>> = HashMap::new();
        for map in [
            words(&a, "Eigenvalues and matrices"),
            spoken(&b, "today one matrix then eigenvalues"),
            spoken(&c, "matrix only"),
        ] {
            for (t, p) in map {
                index.entry(t).or_default().push(p);
            }
        }
        let q = |text: &str| -> Vec<Vec<Posting>> {
            terms(text).iter().map(|t| index.get(t).cloned().unwrap_or_default()).collect()
        };
        let hits = rank(&q("eigenvalues"), 3);
        assert_eq!(hits.iter().map(|h| h.video_id.clone()).collect::<Vec<_>>(), [a.clone(), b.clone()]);
        assert_eq!(hits[1].moments, [4.0], "where it is spoken");
        let both = rank(&q("matrix eigenvalues"), 3);
        assert_eq!(both.len(), 1, "c lacks eigenvalues, a lacks matrix");
        assert_eq!(both[0].video_id, b);
        assert!(rank(&q("photosynthesis"), 3).is_empty());
    }
}
