//! The search index: one item per term, video and source under `SEARCH#{spaceId}#{term}` (sort
//! key `{videoId}#{W|T}`), each also on GSI2 under `INDEXED#{videoId}` (sort key `{W|T}#{term}`)
//! so that a video's postings are found to be replaced or removed. A search reads one partition
//! per term.

use std::collections::BTreeMap;

use async_trait::async_trait;
use vivid_domain::{
    error::StoreError,
    search::{Posting, SearchIndex, Source},
    types::{SpaceId, VideoId},
};

use crate::table::{GSI2, GSI2PK, GSI2SK, Item, PK, SK, Table, from_item, primary_key, s, to_item};

fn term_partition(space: &SpaceId, term: &str) -> String {
    format!("SEARCH#{space}#{term}")
}

fn indexed(video: &VideoId) -> String {
    format!("INDEXED#{video}")
}

impl Table {
    /// The keys of a video's postings (of one source, or all).
    async fn posting_keys(&self, video: &VideoId, source: Option<Source>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (condition, mut values) = match source {
                Some(src) => {
                    ("GSI2PK = :pk AND begins_with(GSI2SK, :src)", vec![(":src", s(format!("{}#", src.as_str())))])
                }
                None => ("GSI2PK = :pk", Vec::new()),
            };
            values.push((":pk", s(indexed(video))));
            let (items, last) = self.query_items(Some(GSI2), condition, values, None, start, true).await?;
            out.extend(items.iter().map(primary_key));
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
                        (PK, term_partition(space, term)),
                        (SK, format!("{video}#{}", source.as_str())),
                        (GSI2PK, indexed(video)),
                        (GSI2SK, format!("{}#{term}", source.as_str())),
                        ("type", "Posting".into()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Postings of terms the video no longer has go; the others are overwritten.
        let kept: std::collections::HashSet<String> = postings.keys().map(|t| term_partition(space, t)).collect();
        let gone: Vec<Item> = old
            .into_iter()
            .filter(|k| k.get(PK).and_then(|v| v.as_s().ok()).is_none_or(|pk| !kept.contains(pk)))
            .collect();
        self.batch_delete(gone).await?;
        self.batch_put(items).await
    }

    async fn postings(&self, space: &SpaceId, term: &str) -> Result<Vec<Posting>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, last) = self
                .query_items(None, "PK = :pk", vec![(":pk", s(term_partition(space, term)))], None, start, true)
                .await?;
            for item in items {
                out.push(from_item(item)?);
            }
            match last {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
    }
}
