//! Automatic Zoom imports: the link under the space's partition (swept with the space), found by
//! the Zoom user through GSI1 and by the VIVID user through GSI2; a webhook delivery's claim as an
//! item of its own with a TTL.

use std::collections::HashMap;

use async_trait::async_trait;
use vivid_domain::{
    error::{Guard, StoreError},
    imports::{ImportIndex, ImportedFile},
    types::{SpaceId, UserId, VideoId},
    zoom::{AutoImport, AutoImportStore},
};

use crate::{
    attrs, keys,
    table::{
        GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, PK, SK, Table, backend, condition_held, from_item, key, n,
        primary_key, s, to_item,
    },
};

/// A delivery's claim outlives Zoom's retries (they stop within days).
const DELIVERY_TTL_SECS: u64 = 30 * 24 * 3600;

impl Table {
    async fn links(&self, index: &str, partition: String) -> Result<Vec<AutoImport>, StoreError> {
        let keys = self.index_partition(index, &partition).await?.iter().map(primary_key).collect::<Vec<_>>();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.batch_get(keys, true).await?.into_iter().map(from_item).collect()
    }
}

#[async_trait]
impl AutoImportStore for Table {
    async fn put_auto_import(&self, link: &AutoImport) -> Result<(), StoreError> {
        let item = to_item(
            link,
            &[
                (PK, keys::space(&link.space_id)),
                (SK, keys::ZOOM_AUTO.to_owned()),
                (GSI1PK, keys::zoom_user(&link.zoom_user_id)),
                (GSI1SK, keys::space(&link.space_id)),
                (GSI2PK, keys::auto_imports_by(&link.user_id)),
                (GSI2SK, keys::space(&link.space_id)),
                (attrs::TYPE, "ZoomAutoImport".into()),
            ],
        )?;
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    async fn delete_auto_import(&self, space: &SpaceId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::ZOOM_AUTO)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn remove_auto_import_of(&self, space: &SpaceId, user: &UserId) -> Result<bool, StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::ZOOM_AUTO)))
            .condition_expression("userId = :user")
            .expression_attribute_values(":user", s(user.to_string()))
            .send()
            .await;
        condition_held(deleted)
    }

    async fn auto_import(&self, space: &SpaceId) -> Result<Option<AutoImport>, StoreError> {
        self.get(keys::space(space), keys::ZOOM_AUTO).await
    }

    async fn auto_imports_of(&self, zoom_user_id: &str) -> Result<Vec<AutoImport>, StoreError> {
        self.links(GSI1, keys::zoom_user(zoom_user_id)).await
    }

    async fn auto_imports_by(&self, user: &UserId) -> Result<Vec<AutoImport>, StoreError> {
        self.links(GSI2, keys::auto_imports_by(user)).await
    }

    async fn claim_delivery(&self, space: &SpaceId, claim: &str, now: u64) -> Result<bool, StoreError> {
        let item = HashMap::from([
            (PK.to_owned(), s(keys::zoom_delivery(space, claim))),
            (SK.to_owned(), s(keys::ZOOM_DELIVERY)),
            (attrs::TYPE.to_owned(), s("ZoomDelivery")),
            (attrs::EXPIRES_AT.to_owned(), n(now + DELIVERY_TTL_SECS)),
        ]);
        match self.put_new(item, Guard::Item).await {
            Ok(()) => Ok(true),
            Err(StoreError::Condition(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn release_delivery(&self, space: &SpaceId, claim: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::zoom_delivery(space, claim), keys::ZOOM_DELIVERY)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// A recording's import lock, as GSI1 holds it (projection ALL).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportLock {
    video_id: VideoId,
    space_id: SpaceId,
    user_id: UserId,
    recording: String,
}

#[async_trait]
impl ImportIndex for Table {
    /// `Query` GSI1 `ZOOMIMPORTS#{meeting}`: the lock items of its imports (one request a page of
    /// 1 MB; a meeting is imported into a handful of spaces).
    async fn zoom_imports(&self, meeting: &str) -> Result<Vec<ImportedFile>, StoreError> {
        let items = self.index_partition(GSI1, &keys::zoom_imports(meeting)).await?;
        // An item of another shape (none is written) is skipped, not an error.
        Ok(items
            .into_iter()
            .filter_map(|item| from_item::<ImportLock>(item).ok())
            .map(|lock| ImportedFile {
                video_id: lock.video_id,
                space_id: lock.space_id,
                user_id: lock.user_id,
                reference: lock.recording,
            })
            .collect())
    }
}
