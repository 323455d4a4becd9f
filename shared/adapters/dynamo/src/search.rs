//! The search index: one item per term, video and source under `SEARCH#{spaceId}#{term}` (sort
//! key `{videoId}#{W|T}`), each also on GSI2 under `INDEXED#{videoId}` (sort key `{W|T}#{term}`)
//! so that a video's postings are found to be replaced or removed. A search reads one partition
//! per term.
//!
//! A member's memos have their own index: `NOTES#{spaceId}#{userId}#{term}` (sort key `{videoId}`),
//! on GSI2 under the same `INDEXED#{videoId}` (sort key `N#{userId}#{term}`): a search reads the
//! searching member's partition of each term, never another's; a save writes the difference
//! between the replaced state's terms and the new ones; the video's deletion removes them with its
//! other postings, the member's departure with their memos.

use std::collections::BTreeMap;

use async_trait::async_trait;
use std::collections::BTreeSet;

use vivid_domain::{
    error::StoreError,
    search::{Posting, SearchIndex, Source, note_posting},
    types::{SpaceId, UserId, VideoId},
};

use crate::table::{GSI2, GSI2PK, GSI2SK, Item, PK, SK, Table, from_item, primary_key, s, to_item};
use crate::{attrs, keys};

impl Table {
    /// The keys of a video's postings (of one source, or all).
    async fn posting_keys(&self, video: &VideoId, source: Option<Source>) -> Result<Vec<Item>, StoreError> {
        self.indexed_keys(video, source.map(|src| keys::posting_source(src.as_str()))).await
    }

    /// The keys of a video's postings whose GSI2 sort key begins with `prefix` (all without).
    async fn indexed_keys(&self, video: &VideoId, prefix: Option<String>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (condition, mut values) = match &prefix {
                Some(p) => ("GSI2PK = :pk AND begins_with(GSI2SK, :src)", vec![(":src", s(p.clone()))]),
                None => ("GSI2PK = :pk", Vec::new()),
            };
            values.push((":pk", s(keys::indexed(video))));
            let (items, last) = self.query_items(Some(GSI2), condition, values, None, start, true).await?;
            out.extend(items.iter().map(primary_key));
            match last {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
    }

    /// Removes a member's note postings on a video (their departure from the space).
    pub(crate) async fn unindex_notes(&self, video: &VideoId, user: &UserId) -> Result<(), StoreError> {
        let keys = self.indexed_keys(video, Some(keys::note_postings(user))).await?;
        self.batch_delete(keys).await
    }

    /// Every item of a partition.
    async fn partition(&self, pk: String) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, last) =
                self.query_items(None, "PK = :pk", vec![(":pk", s(pk.clone()))], None, start, true).await?;
            out.extend(items);
            match last {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
    }

    /// Removes every posting of a video (its deletion).
    pub(crate) async fn unindex_video(&self, video: &VideoId) -> Result<(), StoreError> {
        let keys = self.posting_keys(video, None).await?;
        self.batch_delete(keys).await
    }
}

#[async_trait]
impl SearchIndex for Table {
    async fn index_video(
        &self,
        space: &SpaceId,
        video: &VideoId,
        source: Source,
        postings: &BTreeMap<String, Posting>,
    ) -> Result<(), StoreError> {
        let old = self.posting_keys(video, Some(source)).await?;
        let items = postings
            .iter()
            .map(|(term, p)| {
                to_item(
                    p,
                    &[
                        (PK, keys::search_term(space, term)),
                        (SK, keys::posting(video, source.as_str())),
                        (GSI2PK, keys::indexed(video)),
                        (GSI2SK, keys::posting_term(source.as_str(), term)),
                        (attrs::TYPE, "Posting".into()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Postings of terms the video no longer has go; the others are overwritten.
        let kept: std::collections::HashSet<String> = postings.keys().map(|t| keys::search_term(space, t)).collect();
        let gone: Vec<Item> = old
            .into_iter()
            .filter(|k| k.get(PK).and_then(|v| v.as_s().ok()).is_none_or(|pk| !kept.contains(pk)))
            .collect();
        self.batch_delete(gone).await?;
        self.batch_put(items).await
    }

    async fn postings(&self, space: &SpaceId, term: &str) -> Result<Vec<Posting>, StoreError> {
        self.partition(keys::search_term(space, term)).await?.into_iter().map(from_item).collect()
    }

    async fn index_notes(
        &self,
        space: &SpaceId,
        video: &VideoId,
        user: &UserId,
        before: &BTreeSet<String>,
        after: &BTreeSet<String>,
    ) -> Result<(), StoreError> {
        let prefix = keys::note_postings(user);
        let posting = note_posting(video);
        let items = after
            .difference(before)
            .map(|term| {
                to_item(
                    &posting,
                    &[
                        (PK, keys::note_term(space, user, term)),
                        (SK, video.to_string()),
                        (GSI2PK, keys::indexed(video)),
                        (GSI2SK, format!("{prefix}{term}")),
                        (attrs::TYPE, "NotePosting".into()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let gone: Vec<Item> = before
            .difference(after)
            .map(|term| {
                [(PK.to_owned(), s(keys::note_term(space, user, term))), (SK.to_owned(), s(video.to_string()))].into()
            })
            .collect();
        self.batch_put_delete(items, gone).await
    }

    async fn note_postings(&self, space: &SpaceId, user: &UserId, term: &str) -> Result<Vec<Posting>, StoreError> {
        self.partition(keys::note_term(space, user, term)).await?.into_iter().map(from_item).collect()
    }
}
