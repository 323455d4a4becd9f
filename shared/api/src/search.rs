//! `GET /spaces/{spaceId}/search?q=` (member): the space's lectures that hold every word of the
//! query — in their titles, descriptions, chapters or transcripts, or in the caller's own notes —
//! best first, with the moments to jump to. Two index reads per word (at most five), all at once,
//! then the videos found.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use futures_util::future::try_join_all;
use lambda_http::{Body, Response};
use serde::Serialize;

use vivid_domain::{
    access::require_member,
    search::{self, SearchIndex, fields},
    spaces::SpaceStore,
    types::{SpaceId, VideoId},
    video::{Title, VideoCatalog},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

/// The most videos an answer lists.
const MAX_HITS: usize = 20;
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HitView {
    video_id: VideoId,
    title: Title,
    score: f64,
    /// Where every word was found: `title`, `description`, `chapter`, `transcript`, `notes` (the
    /// caller's own).
    matched_in: Vec<&'static str>,
    /// Seconds to jump to: where the rarest word is spoken, or its chapter starts.
    moments: Vec<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchView {
    query: String,
    terms: Vec<String>,
    items: Vec<HitView>,
}

/// `GET /spaces/{spaceId}/search?q=` (member).
pub struct SearchSpace {
    pub auth: Arc<TokenVerifier>,
    /// The caller's membership of the space (and its count of videos, for the ranking).
    pub spaces: Arc<dyn SpaceStore>,
    /// The videos found.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The space's postings, and the caller's own notes'.
    pub index: Arc<dyn SearchIndex>,
}

fn matched(mask: u8) -> Vec<&'static str> {
    [
        (fields::TITLE, "title"),
        (fields::DESCRIPTION, "description"),
        (fields::CHAPTER, "chapter"),
        (fields::TRANSCRIPT, "transcript"),
        (fields::NOTES, "notes"),
    ]
    .into_iter()
    .filter(|(f, _)| mask & f != 0)
    .map(|(_, name)| name)
    .collect()
}

#[async_trait]
impl Handler for SearchSpace {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let raw = req.query("q").unwrap_or_default();
        let query = raw.trim().to_owned();
        if raw.is_empty() || raw.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("q must have 1 to {MAX_QUERY_CHARS} characters"),
            ));
        }
        let member = require_member(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let mut seen = std::collections::HashSet::new();
        let mut terms: Vec<String> = search::terms(&query).into_iter().filter(|t| seen.insert(t.clone())).collect();
        terms.truncate(search::MAX_QUERY_TERMS);
        if terms.is_empty() {
            return http::json(StatusCode::OK, &SearchView { query, terms, items: Vec::new() });
        }
        // Each term's postings in the space, and in the caller's own notes (nobody else's).
        let user = &caller.user_id;
        let (mut per_term, notes) = futures_util::try_join!(
            try_join_all(terms.iter().map(|t| self.index.postings(&space_id, t))),
            try_join_all(terms.iter().map(|t| self.index.note_postings(&space_id, user, t))),
        )?;
        for (postings, own) in per_term.iter_mut().zip(notes) {
            postings.extend(own);
        }
        let hits = search::rank(&per_term, member.space.video_count as usize);
        // Twice the answer's length is read: a posting whose video is gone (its deletion under
        // way) is dropped, not counted.
        let top: Vec<_> = hits.into_iter().take(2 * MAX_HITS).collect();
        let ids: Vec<VideoId> = top.iter().map(|h| h.video_id.clone()).collect();
        let mut videos = self.catalog.videos(&ids).await?;
        // A posting whose video is gone (a deletion under way) is not shown, nor, to a student,
        // one of a video they do not see yet (a draft, hidden, or scheduled later).
        let manages = member.manages();
        let items = top
            .into_iter()
            .filter_map(|h| {
                let i = videos.iter().position(|v| {
                    v.video_id == h.video_id
                        && v.space_id == space_id
                        && !v.deleting
                        && (manages || v.shown_to_students())
                })?;
                let v = videos.swap_remove(i);
                Some(HitView {
                    video_id: h.video_id,
                    title: v.title,
                    score: h.score,
                    matched_in: matched(h.fields),
                    moments: h.moments,
                })
            })
            .take(MAX_HITS)
            .collect();
        http::json(StatusCode::OK, &SearchView { query, terms, items })
    }
}
