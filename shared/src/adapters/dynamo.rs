//! The single-table DynamoDB adapter. The key design and every access pattern with its round
//! trips is documented in `docs/data-model.md`; keep the two in step.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    Client,
    error::SdkError,
    types::{
        AttributeValue, Delete, DeleteRequest, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
        WriteRequest,
    },
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    cursor::{Page, PageKey},
    error::StoreError,
    model::{
        Membership, Role, Space, SpaceAccess, SpacePatch, SpaceStore, User, UserStore, VideoAccess, VideoPatch,
        VideoStore,
    },
    notes::{Checkpoint, Drawing, DrawingId, Memo, NoteStore, SaveOutcome},
    session::{LoginState, RefreshRecord, SessionStore},
    types::{Email, Limit, SnapshotId, SpaceId, UserId, VideoId},
    video::{Progress, Snapshot, StatusChange, Video, VideoStatus, layout::MediaKind},
    webex::{WebexStore, WebexTokens},
};

type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";

/// Key builders: the only place that knows the key layout.
pub mod keys {
    use crate::types::{Email, SpaceId, UserId};

    pub fn user(id: &UserId) -> String {
        format!("USER#{id}")
    }
    pub const PROFILE: &str = "PROFILE";
    pub fn email(email: &Email) -> String {
        format!("EMAIL#{email}")
    }
    pub const EMAIL: &str = "EMAIL";
    pub fn space(id: &SpaceId) -> String {
        format!("SPACE#{id}")
    }
    pub const META: &str = "META";
    pub const MEMBER_PREFIX: &str = "MEMBER#";
    pub fn member(user: &UserId) -> String {
        format!("{MEMBER_PREFIX}{user}")
    }
    /// Orders a user's spaces: the personal space first, then by joining time.
    pub fn member_of(personal: bool, joined_at: &str, space: &SpaceId) -> String {
        format!("SPACE#{}#{joined_at}#{space}", if personal { 0 } else { 1 })
    }
    pub fn google(sub: &str) -> String {
        format!("GOOGLE#{sub}")
    }
    pub const GOOGLE: &str = "GOOGLE";
    /// The user's Webex connection (tokens), under the user's partition.
    pub const WEBEX: &str = "WEBEX";
    pub fn login(state: &str) -> String {
        format!("LOGIN#{state}")
    }
    pub const LOGIN: &str = "LOGIN";
    pub fn refresh(hash: &str) -> String {
        format!("REFRESH#{hash}")
    }
    pub const REFRESH: &str = "REFRESH";
    pub fn family(id: &str) -> String {
        format!("FAMILY#{id}")
    }
    pub const FAMILY: &str = "FAMILY";
    pub fn video(id: &crate::types::VideoId) -> String {
        format!("VIDEO#{id}")
    }
    /// GSI1 partition of a space's videos (sort key `{createdAt}#{videoId}`).
    pub fn space_videos(space: &SpaceId) -> String {
        format!("SPACE#{space}#VIDEOS")
    }
    pub fn progress(user: &UserId) -> String {
        format!("PROGRESS#{user}")
    }
    /// GSI1 sort key of a progress item under `USER#{userId}`: most recent access last.
    pub fn access(at: &str, video: &crate::types::VideoId) -> String {
        format!("ACCESS#{at}#{video}")
    }
    pub fn snapshot_prefix(user: &UserId) -> String {
        format!("SNAP#{user}#")
    }
    pub fn snapshot(user: &UserId, id: &crate::types::SnapshotId) -> String {
        format!("SNAP#{user}#{id}")
    }
    pub fn memo(user: &UserId) -> String {
        format!("MEMO#{user}")
    }
    pub fn memo_history_prefix(user: &UserId) -> String {
        format!("MEMOHIST#{user}#")
    }
    pub fn drawing_prefix(user: &UserId) -> String {
        format!("DRAW#{user}#")
    }
    /// GSI2 partition of one member's per-video data in one space.
    pub fn member_data(space: &SpaceId, user: &UserId) -> String {
        format!("MEMBER#{space}#{user}")
    }
}

pub struct DynamoStore {
    client: Client,
    table: String,
}

fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::backend(e)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn to_item<T: Serialize>(value: &T, keys: &[(&str, String)]) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(backend)?;
    for (name, v) in keys {
        item.insert((*name).to_owned(), s(v.clone()));
    }
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(backend)
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

/// A start key from a cursor, only if it lies in the partition `attr = expected`.
fn start_key(start: Option<PageKey>, attr: &str, expected: &str) -> Result<Option<Item>, StoreError> {
    let Some(start) = start else { return Ok(None) };
    if start.get(attr).map(String::as_str) != Some(expected) {
        return Err(StoreError::ForeignStart);
    }
    let allowed = [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK];
    if start.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(StoreError::ForeignStart);
    }
    Ok(Some(start.into_iter().map(|(k, v)| (k, s(v))).collect()))
}

/// The `PK`/`SK` of an item.
fn primary_key(item: &Item) -> Item {
    item.iter().filter(|(k, _)| k.as_str() == PK || k.as_str() == SK).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn page_key(last: Option<&Item>) -> Option<PageKey> {
    last.map(|item| item.iter().filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone()))).collect())
}

/// The reason code of each item of a cancelled transaction (`"None"` for items that passed).
fn cancelled_reasons<E>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, E>,
) -> Option<Vec<String>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect())
        }
        _ => None,
    }
}

/// Whether a conditional single-item write happened: `false` when its condition failed.
fn condition_held<O, E>(
    result: Result<O, SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>>,
) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) => match conditional::<E>("item")(e) {
            StoreError::Condition(_) => Ok(false),
            other => Err(other),
        },
    }
}

/// Maps a failed condition of a single-item write to `Condition(what)`, anything else to a
/// backend failure.
fn conditional<E>(
    what: &'static str,
) -> impl FnOnce(SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        if e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException") {
            StoreError::Condition(what)
        } else {
            backend(e)
        }
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// One transaction. A failed condition names the item (`conditions[i]` for item `i`); a
    /// conflict with a concurrent transaction is retried a few times with backoff.
    async fn transact(&self, items: Vec<TransactWriteItem>, conditions: &[&'static str]) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let Some(reasons) = cancelled_reasons(&err) else { return Err(backend(err)) };
            if let Some(i) = reasons.iter().position(|r| r == "ConditionalCheckFailed") {
                return Err(StoreError::Condition(conditions.get(i).copied().unwrap_or("item")));
            }
            if attempt < 4 && reasons.iter().any(|r| r == "TransactionConflict") {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                continue;
            }
            return Err(backend(err));
        }
    }

    /// BatchGetItem with retries of unprocessed keys (bounded).
    async fn batch_get(&self, keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(consistent)
                    .build()
                    .map_err(backend)?,
            );
            let mut attempts = 0;
            while let Some(request) = pending.take() {
                attempts += 1;
                let resp =
                    self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(backend)?;
                if let Some(mut responses) = resp.responses {
                    out.extend(responses.remove(&self.table).unwrap_or_default());
                }
                pending = resp.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys.is_empty());
                if pending.is_some() {
                    if attempts >= 8 {
                        return Err(StoreError::backend("batch get left keys unprocessed after 8 attempts"));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempts)).await;
                }
            }
        }
        Ok(out)
    }

    /// Puts an item that must not exist yet; `Condition(what)` when it does.
    async fn put_new(&self, item: Item, what: &'static str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(conditional(what))?;
        Ok(())
    }

    /// One item by key, read consistently.
    async fn get<T: DeserializeOwned>(&self, pk: String, sk: impl Into<String>) -> Result<Option<T>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        resp.item.map(from_item).transpose()
    }

    /// The primary keys (and object keys) of every item of a partition.
    async fn query_keys(&self, partition: &str, sk_prefix: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(partition))
                .projection_expression("PK, SK, objectKey")
                .consistent_read(true)
                .set_exclusive_start_key(start);
            req = match sk_prefix {
                Some(prefix) => req
                    .key_condition_expression("PK = :pk AND begins_with(SK, :sk)")
                    .expression_attribute_values(":sk", s(prefix)),
                None => req.key_condition_expression("PK = :pk"),
            };
            let resp = req.send().await.map_err(backend)?;
            out.extend(resp.items.unwrap_or_default());
            start = resp.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// BatchWriteItem deletes with retries of unprocessed items (bounded).
    async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        for chunk in keys.chunks(25) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|k| {
                    DeleteRequest::builder()
                        .set_key(Some(primary_key(k)))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                        .map_err(backend)
                })
                .collect::<Result<_, _>>()?;
            let mut attempts = 0;
            while !pending.is_empty() {
                attempts += 1;
                let resp =
                    self.client.batch_write_item().request_items(&self.table, pending).send().await.map_err(backend)?;
                pending = resp.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                if !pending.is_empty() {
                    if attempts >= 8 {
                        return Err(StoreError::backend("batch write left items unprocessed after 8 attempts"));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempts)).await;
                }
            }
        }
        Ok(())
    }

    /// Follows a link item (`userId`) to the user: e-mail lock, Google link.
    async fn user_by_link(&self, link: Item) -> Result<Option<User>, StoreError> {
        let resp = self.client.get_item().table_name(&self.table).set_key(Some(link)).send().await.map_err(backend)?;
        let Some(user_id) = resp.item.as_ref().and_then(|i| i.get("userId")).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        let user_id: UserId = user_id.parse().map_err(backend)?;
        self.get_user(&user_id).await
    }

    fn space_item(&self, space: &Space) -> Result<Item, StoreError> {
        to_item(space, &[(PK, keys::space(&space.space_id)), (SK, keys::META.to_owned()), ("type", "Space".into())])
    }

    fn membership_item(&self, m: &Membership) -> Result<Item, StoreError> {
        to_item(
            m,
            &[
                (PK, keys::space(&m.space_id)),
                (SK, keys::member(&m.user_id)),
                (GSI1PK, keys::user(&m.user_id)),
                (GSI1SK, keys::member_of(m.personal, &m.joined_at, &m.space_id)),
                ("type", "Membership".into()),
            ],
        )
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(&self, user: &User, personal: &Space, google_sub: Option<&str>) -> Result<(), StoreError> {
        let user_item =
            to_item(user, &[(PK, keys::user(&user.user_id)), (SK, keys::PROFILE.to_owned()), ("type", "User".into())])?;
        let email_item = HashMap::from([
            (PK.to_owned(), s(keys::email(&user.email))),
            (SK.to_owned(), s(keys::EMAIL)),
            ("type".to_owned(), s("EmailLock")),
            ("userId".to_owned(), s(user.user_id.to_string())),
        ]);
        let host = Membership {
            space_id: personal.space_id.clone(),
            user_id: user.user_id.clone(),
            role: Role::Host,
            personal: true,
            joined_at: personal.created_at.clone(),
        };
        let not_exists = Some("attribute_not_exists(PK)");
        let mut items = vec![
            self.put(user_item, not_exists)?,
            self.put(email_item, not_exists)?,
            self.put(self.space_item(personal)?, not_exists)?,
            self.put(self.membership_item(&host)?, not_exists)?,
        ];
        if let Some(sub) = google_sub {
            let link = HashMap::from([
                (PK.to_owned(), s(keys::google(sub))),
                (SK.to_owned(), s(keys::GOOGLE)),
                ("type".to_owned(), s("GoogleLink")),
                ("userId".to_owned(), s(user.user_id.to_string())),
            ]);
            items.push(self.put(link, not_exists)?);
        }
        self.transact(items, &["user", "email", "space", "membership", "google"]).await
    }

    async fn delete_user(&self, user: &User) -> Result<(), StoreError> {
        let mut keys_to_delete = vec![
            key(keys::user(&user.user_id), keys::PROFILE),
            key(keys::email(&user.email), keys::EMAIL),
            key(keys::user(&user.user_id), keys::WEBEX),
        ];
        if let Some(sub) = &user.google_sub {
            keys_to_delete.push(key(keys::google(sub), keys::GOOGLE));
        }
        let items = keys_to_delete
            .into_iter()
            .map(|k| {
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(k))
                    .build()
                    .map(|d| TransactWriteItem::builder().delete(d).build())
                    .map_err(backend)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.transact(items, &["profile", "email", "webex", "google"]).await
    }

    async fn get_profile(&self, id: &UserId) -> Result<Option<(User, bool)>, StoreError> {
        let items =
            self.batch_get(vec![key(keys::user(id), keys::PROFILE), key(keys::user(id), keys::WEBEX)], true).await?;
        let mut user = None;
        let mut webex = false;
        for item in items {
            match item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some(keys::PROFILE) => user = Some(from_item::<User>(item)?),
                Some(keys::WEBEX) => webex = true,
                _ => {}
            }
        }
        Ok(user.map(|u| (u, webex)))
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user(id), keys::PROFILE)))
            .send()
            .await
            .map_err(backend)?;
        resp.item.map(from_item).transpose()
    }

    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        let mut unique: Vec<&UserId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique.into_iter().map(|id| key(keys::user(id), keys::PROFILE)).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::email(email), keys::EMAIL)))
            .send()
            .await
            .map_err(backend)?;
        let Some(user_id) = resp.item.as_ref().and_then(|i| i.get("userId")).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        let user_id: UserId = user_id.parse().map_err(backend)?;
        self.get_user(&user_id).await
    }
}

#[async_trait]
impl SpaceStore for DynamoStore {
    async fn create_space(&self, space: &Space, host: &Membership) -> Result<(), StoreError> {
        let not_exists = Some("attribute_not_exists(PK)");
        self.transact(
            vec![self.put(self.space_item(space)?, not_exists)?, self.put(self.membership_item(host)?, not_exists)?],
            &["space", "membership"],
        )
        .await
    }

    async fn space_access(&self, space: &SpaceId, user: &UserId) -> Result<Option<SpaceAccess>, StoreError> {
        let items = self
            .batch_get(vec![key(keys::space(space), keys::META), key(keys::space(space), keys::member(user))], true)
            .await?;
        let mut found_space = None;
        let mut membership = None;
        for item in items {
            match item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some(keys::META) => found_space = Some(from_item::<Space>(item)?),
                Some(_) => membership = Some(from_item::<Membership>(item)?),
                None => {}
            }
        }
        Ok(found_space.map(|space| SpaceAccess { space, membership }))
    }

    async fn spaces_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<(Membership, Space)>, StoreError> {
        let partition = keys::user(user);
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :space)")
            .expression_attribute_values(":pk", s(partition.clone()))
            .expression_attribute_values(":space", s("SPACE#"))
            .limit(i32::from(limit.get()))
            .set_exclusive_start_key(start_key(start, GSI1PK, &partition)?)
            .send()
            .await
            .map_err(backend)?;
        let next = page_key(resp.last_evaluated_key.as_ref());
        let memberships: Vec<Membership> =
            resp.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        let space_keys = memberships.iter().map(|m| key(keys::space(&m.space_id), keys::META)).collect();
        let mut spaces: HashMap<SpaceId, Space> = self
            .batch_get(space_keys, false)
            .await?
            .into_iter()
            .map(from_item::<Space>)
            .map(|r| r.map(|sp| (sp.space_id.clone(), sp)))
            .collect::<Result<_, _>>()?;
        let items = memberships
            .into_iter()
            .filter_map(|m| spaces.remove(&m.space_id).filter(|sp| !sp.deleting).map(|sp| (m, sp)))
            .collect();
        Ok(Page { items, next })
    }

    async fn update_space(&self, id: &SpaceId, patch: &SpacePatch, now: &str) -> Result<Space, StoreError> {
        let mut sets = vec!["updatedAt = :now".to_owned()];
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(id), keys::META)))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(deleting)")
            .expression_attribute_values(":now", s(now))
            .return_values(ReturnValue::AllNew);
        if let Some(name) = &patch.name {
            sets.push("#name = :name".to_owned());
            req =
                req.expression_attribute_names("#name", "name").expression_attribute_values(":name", s(name.as_str()));
        }
        if let Some(description) = &patch.description {
            sets.push("description = :description".to_owned());
            req = req.expression_attribute_values(":description", s(description.as_str()));
        }
        let resp =
            req.update_expression(format!("SET {}", sets.join(", "))).send().await.map_err(conditional("space"))?;
        from_item(resp.attributes.unwrap_or_default())
    }

    async fn tombstone_space(&self, id: &SpaceId) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(id), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .update_expression("SET deleting = :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(conditional("space"))?;
        Ok(())
    }

    async fn sweep_space(&self, id: &SpaceId) -> Result<(), StoreError> {
        let partition = keys::space(id);
        let children: Vec<Item> = self
            .query_keys(&partition, None)
            .await?
            .into_iter()
            .filter(|item| item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) != Some(keys::META))
            .collect();
        self.batch_delete(children).await?;
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(partition, keys::META)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn members(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Membership>, StoreError> {
        let partition = keys::space(space);
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :member)")
            .expression_attribute_values(":pk", s(partition.clone()))
            .expression_attribute_values(":member", s(keys::MEMBER_PREFIX))
            .limit(i32::from(limit.get()))
            .consistent_read(true)
            .set_exclusive_start_key(start_key(start, PK, &partition)?)
            .send()
            .await
            .map_err(backend)?;
        let next = page_key(resp.last_evaluated_key.as_ref());
        let items = resp.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    async fn add_member(&self, membership: &Membership) -> Result<(), StoreError> {
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(&membership.space_id), keys::META)))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(deleting)")
            .update_expression("SET memberCount = memberCount + :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(backend)?;
        self.transact(
            vec![
                self.put(self.membership_item(membership)?, Some("attribute_not_exists(PK)"))?,
                TransactWriteItem::builder().update(count).build(),
            ],
            &["membership", "space"],
        )
        .await
    }

    async fn remove_member(&self, space: &SpaceId, user: &UserId) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::member(user))))
            .condition_expression("attribute_exists(PK) AND #role = :participant")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":participant", s("participant"))
            .build()
            .map_err(backend)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .update_expression("SET memberCount = memberCount - :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(backend)?;
        self.transact(
            vec![
                TransactWriteItem::builder().delete(delete).build(),
                TransactWriteItem::builder().update(count).build(),
            ],
            &["membership", "space"],
        )
        .await
    }

    async fn purge_member_data(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError> {
        let mut objects = Vec::new();
        let mut keys_to_delete = Vec::new();
        let mut start = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI2)
                .key_condition_expression("GSI2PK = :pk")
                .expression_attribute_values(":pk", s(keys::member_data(space, user)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for item in resp.items.unwrap_or_default() {
                if let Some(k) = item.get("objectKey").and_then(|v| v.as_s().ok()) {
                    objects.push(k.clone());
                }
                keys_to_delete.push(primary_key(&item));
            }
            start = resp.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        self.batch_delete(keys_to_delete).await?;
        Ok(objects)
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn end_sessions_of(&self, user: &UserId) -> Result<(), StoreError> {
        let mut doomed = Vec::new();
        for prefix in ["FAMILY#", "REFRESH#"] {
            let mut start = None;
            loop {
                let (items, last) = self
                    .query_items(
                        Some(GSI1),
                        "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
                        vec![(":pk", s(keys::user(user))), (":prefix", s(prefix))],
                        None,
                        start,
                        true,
                    )
                    .await?;
                doomed.extend(items.iter().map(primary_key));
                start = last;
                if start.is_none() {
                    break;
                }
            }
        }
        self.batch_delete(doomed).await
    }

    async fn put_login_state(&self, login: &LoginState) -> Result<(), StoreError> {
        let item =
            to_item(login, &[(PK, keys::login(&login.state)), (SK, keys::LOGIN.to_owned()), ("type", "Login".into())])?;
        self.put_new(item, "login").await
    }

    async fn take_login_state(
        &self,
        state: &str,
        binding_hash: &str,
        now: u64,
    ) -> Result<Option<LoginState>, StoreError> {
        let resp = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::login(state), keys::LOGIN)))
            .condition_expression("attribute_exists(PK) AND bindingHash = :b AND expiresAt > :now")
            .expression_attribute_values(":b", s(binding_hash))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match resp {
            Ok(out) => out.attributes.map(from_item).transpose(),
            Err(e) => match conditional::<aws_sdk_dynamodb::operation::delete_item::DeleteItemError>("login")(e) {
                StoreError::Condition(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn user_by_google_sub(&self, sub: &str) -> Result<Option<User>, StoreError> {
        self.user_by_link(key(keys::google(sub), keys::GOOGLE)).await
    }

    async fn start_family(&self, first: &RefreshRecord) -> Result<(), StoreError> {
        let family = HashMap::from([
            (PK.to_owned(), s(keys::family(&first.family_id))),
            (SK.to_owned(), s(keys::FAMILY)),
            ("type".to_owned(), s("RefreshFamily")),
            ("userId".to_owned(), s(first.user_id.to_string())),
            (GSI1PK.to_owned(), s(keys::user(&first.user_id))),
            (GSI1SK.to_owned(), s(format!("FAMILY#{}", first.family_id))),
            ("revoked".to_owned(), AttributeValue::Bool(false)),
            ("expiresAt".to_owned(), AttributeValue::N(first.expires_at.to_string())),
        ]);
        let token = to_item(
            first,
            &[
                (PK, keys::refresh(&first.token_hash)),
                (SK, keys::REFRESH.to_owned()),
                (GSI1PK, keys::user(&first.user_id)),
                (GSI1SK, format!("REFRESH#{}", first.token_hash)),
                ("type", "RefreshToken".into()),
            ],
        )?;
        let not_exists = Some("attribute_not_exists(PK)");
        self.transact(vec![self.put(family, not_exists)?, self.put(token, not_exists)?], &["family", "refresh"]).await
    }

    async fn refresh_record(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        self.get(keys::refresh(token_hash), keys::REFRESH).await
    }

    async fn rotate(&self, old: &RefreshRecord, new: &RefreshRecord, now: u64) -> Result<(), StoreError> {
        let mark_used = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::refresh(&old.token_hash), keys::REFRESH)))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(usedAt)")
            .update_expression("SET usedAt = :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .build()
            .map_err(backend)?;
        let family = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::family(&old.family_id), keys::FAMILY)))
            .condition_expression("attribute_exists(PK) AND revoked = :false")
            .update_expression("SET expiresAt = :exp")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":exp", AttributeValue::N(new.expires_at.to_string()))
            .build()
            .map_err(backend)?;
        let token = to_item(
            new,
            &[
                (PK, keys::refresh(&new.token_hash)),
                (SK, keys::REFRESH.to_owned()),
                (GSI1PK, keys::user(&new.user_id)),
                (GSI1SK, format!("REFRESH#{}", new.token_hash)),
                ("type", "RefreshToken".into()),
            ],
        )?;
        self.transact(
            vec![
                TransactWriteItem::builder().update(mark_used).build(),
                TransactWriteItem::builder().update(family).build(),
                self.put(token, Some("attribute_not_exists(PK)"))?,
            ],
            &["refresh", "family", "new refresh"],
        )
        .await
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::family(family_id), keys::FAMILY)))
            .condition_expression("attribute_exists(PK)")
            .update_expression("SET revoked = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(conditional("family"))
            .map(|_| ())
            .or_else(|e| if matches!(e, StoreError::Condition(_)) { Ok(()) } else { Err(e) })
    }
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl DynamoStore {
    fn video_item(&self, v: &Video) -> Result<Item, StoreError> {
        to_item(
            v,
            &[
                (PK, keys::video(&v.video_id)),
                (SK, keys::META.to_owned()),
                (GSI1PK, keys::space_videos(&v.space_id)),
                (GSI1SK, format!("{}#{}", v.created_at, v.video_id)),
                ("type", "Video".into()),
            ],
        )
    }

    fn progress_item(&self, p: &Progress) -> Result<Item, StoreError> {
        to_item(
            p,
            &[
                (PK, keys::video(&p.video_id)),
                (SK, keys::progress(&p.user_id)),
                (GSI1PK, keys::user(&p.user_id)),
                (GSI1SK, keys::access(&p.last_access_at, &p.video_id)),
                (GSI2PK, keys::member_data(&p.space_id, &p.user_id)),
                (GSI2SK, format!("{}#PROGRESS", p.video_id)),
                ("type", "Progress".into()),
            ],
        )
    }

    async fn query_items(
        &self,
        index: Option<&str>,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        limit: Option<Limit>,
        start: Option<Item>,
        forward: bool,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(condition)
            .scan_index_forward(forward)
            .set_limit(limit.map(|l| i32::from(l.get())))
            .set_exclusive_start_key(start);
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        if index.is_none() {
            req = req.consistent_read(true);
        }
        let resp = req.send().await.map_err(backend)?;
        Ok((resp.items.unwrap_or_default(), resp.last_evaluated_key))
    }
}

#[async_trait]
impl VideoStore for DynamoStore {
    async fn create_video(&self, video: &Video) -> Result<(), StoreError> {
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(&video.space_id), keys::META)))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(deleting)")
            .update_expression("SET videoCount = videoCount + :one")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(backend)?;
        self.transact(
            vec![
                self.put(self.video_item(video)?, Some("attribute_not_exists(PK)"))?,
                TransactWriteItem::builder().update(count).build(),
            ],
            &["video", "space"],
        )
        .await
    }

    async fn get_video(&self, id: &VideoId) -> Result<Option<Video>, StoreError> {
        self.get(keys::video(id), keys::META).await
    }

    async fn video_access(&self, id: &VideoId, user: &UserId) -> Result<Option<VideoAccess>, StoreError> {
        let Some(video) = self.get_video(id).await? else { return Ok(None) };
        let items = self
            .batch_get(
                vec![
                    key(keys::space(&video.space_id), keys::META),
                    key(keys::space(&video.space_id), keys::member(user)),
                    key(keys::video(id), keys::progress(user)),
                ],
                true,
            )
            .await?;
        let (mut space, mut membership, mut progress) = (None, None, None);
        for item in items {
            let pk = item.get(PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            match (pk.starts_with("SPACE#"), sk.as_str()) {
                (true, keys::META) => space = Some(from_item::<Space>(item)?),
                (true, _) => membership = Some(from_item::<Membership>(item)?),
                (false, _) => progress = Some(from_item::<Progress>(item)?),
            }
        }
        Ok(Some(VideoAccess { video, space, membership, progress }))
    }

    async fn list_videos(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Video>, StoreError> {
        let partition = keys::space_videos(space);
        let (items, last) = self
            .query_items(
                Some(GSI1),
                "GSI1PK = :pk",
                vec![(":pk", s(partition.clone()))],
                Some(limit),
                start_key(start, GSI1PK, &partition)?,
                false,
            )
            .await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next: page_key(last.as_ref()) })
    }

    async fn all_videos(&self, space: &SpaceId) -> Result<Vec<Video>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, last) = self
                .query_items(Some(GSI1), "GSI1PK = :pk", vec![(":pk", s(keys::space_videos(space)))], None, start, true)
                .await?;
            for item in items {
                out.push(from_item(item)?);
            }
            start = last;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    async fn progress_on(&self, user: &UserId, videos: &[VideoId]) -> Result<Vec<Progress>, StoreError> {
        let keys = videos.iter().map(|v| key(keys::video(v), keys::progress(user))).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn videos(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        let mut unique: Vec<&VideoId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique.into_iter().map(|v| key(keys::video(v), keys::META)).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn update_video(&self, id: &VideoId, patch: &VideoPatch, now: &str) -> Result<Video, StoreError> {
        let mut sets = vec!["updatedAt = :now".to_owned()];
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", s(now))
            .return_values(ReturnValue::AllNew);
        if let Some(title) = &patch.title {
            sets.push("title = :title".to_owned());
            req = req.expression_attribute_values(":title", s(title.as_str()));
        }
        if let Some(description) = &patch.description {
            sets.push("description = :description".to_owned());
            req = req.expression_attribute_values(":description", s(description.as_str()));
        }
        let resp =
            req.update_expression(format!("SET {}", sets.join(", "))).send().await.map_err(conditional("video"))?;
        from_item(resp.attributes.unwrap_or_default())
    }

    async fn transition(
        &self,
        id: &VideoId,
        to: VideoStatus,
        change: &StatusChange,
        now: &str,
    ) -> Result<bool, StoreError> {
        let allowed = to.predecessors();
        if allowed.is_empty() {
            return Ok(false);
        }
        let mut sets = vec!["#status = :to".to_owned(), "updatedAt = :now".to_owned()];
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":now", s(now));
        let mut names = Vec::new();
        for (i, from) in allowed.iter().enumerate() {
            let name = format!(":from{i}");
            req = req.expression_attribute_values(&name, s(from.as_str()));
            names.push(name);
        }
        let mut condition = format!("attribute_exists(PK) AND #status IN ({})", names.join(", "));
        if let Some(job) = &change.only_for_job {
            condition.push_str(" AND (attribute_not_exists(jobId) OR jobId = :job)");
            req = req.expression_attribute_values(":job", s(job));
        }
        let mut set =
            |field: &str,
             value: AttributeValue,
             req: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder| {
                sets.push(format!("{field} = :{field}"));
                req.expression_attribute_values(format!(":{field}"), value)
            };
        if let Some(v) = &change.job_id {
            req = set("jobId", s(v), req);
        }
        if let Some(v) = change.percent_complete {
            req = set("percentComplete", n(v), req);
        }
        if let Some(v) = change.duration_seconds {
            req = set("durationSeconds", n(v), req);
        }
        if let Some(v) = &change.failure_reason {
            req = set("failureReason", s(v), req);
        }
        if let Some(v) = &change.hls_master {
            req = set("hlsMaster", s(v), req);
        }
        if let Some(v) = &change.mp4 {
            req = set("mp4", s(v), req);
        }
        let mut update = format!("SET {}", sets.join(", "));
        if to.is_terminal() || to == VideoStatus::Uploaded {
            // The upload is over either way.
            update.push_str(" REMOVE uploadId");
        }
        condition_held(req.condition_expression(condition).update_expression(update).send().await)
    }

    async fn raise_percent(&self, id: &VideoId, percent: u8) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .condition_expression(
                "attribute_exists(PK) AND #status IN (:uploaded, :transcoding) AND (attribute_not_exists(percentComplete) OR percentComplete < :p)",
            )
            .update_expression("SET percentComplete = :p")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":uploaded", s(VideoStatus::Uploaded.as_str()))
            .expression_attribute_values(":transcoding", s(VideoStatus::Transcoding.as_str()))
            .expression_attribute_values(":p", n(percent))
            .send()
            .await;
        condition_held(result)
    }

    async fn record_output(&self, id: &VideoId, kind: &MediaKind, object: &str) -> Result<(), StoreError> {
        let base = self.client.update_item().table_name(&self.table).set_key(Some(key(keys::video(id), keys::META)));
        let req = match kind {
            MediaKind::HlsMaster => base
                .condition_expression("attribute_exists(PK)")
                .update_expression("SET hlsMaster = :k")
                .expression_attribute_values(":k", s(object)),
            MediaKind::Mp4 => base
                .condition_expression("attribute_exists(PK)")
                .update_expression("SET mp4 = :k")
                .expression_attribute_values(":k", s(object)),
            MediaKind::Thumbnail => {
                // Added to the set (idempotent); the smallest key so far is the poster.
                let added = base
                    .condition_expression("attribute_exists(PK)")
                    .update_expression("ADD thumbnails :set")
                    .expression_attribute_values(":set", AttributeValue::Ss(vec![object.to_owned()]))
                    .send()
                    .await;
                match added {
                    Ok(_) => {}
                    Err(e) => return ignore_condition(e),
                }
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::video(id), keys::META)))
                    .condition_expression("attribute_exists(PK) AND (attribute_not_exists(poster) OR poster > :k)")
                    .update_expression("SET poster = :k")
                    .expression_attribute_values(":k", s(object))
            }
            MediaKind::HlsOther | MediaKind::Other => return Ok(()),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) => ignore_condition(e),
        }
    }

    async fn delete_video(&self, video: &Video) -> Result<Vec<String>, StoreError> {
        let items = self.query_keys(&keys::video(&video.video_id), None).await?;
        let objects = items.iter().filter_map(|i| i.get("objectKey").and_then(|v| v.as_s().ok()).cloned()).collect();
        // The video item and its count go together; the per-user items follow.
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(&video.video_id), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(backend)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(&video.space_id), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .update_expression("SET videoCount = videoCount - :one")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(backend)?;
        match self
            .transact(
                vec![
                    TransactWriteItem::builder().delete(delete).build(),
                    TransactWriteItem::builder().update(count).build(),
                ],
                &["video", "space"],
            )
            .await
        {
            // The space is gone already (space deletion sweeps its videos): just the item.
            Ok(()) | Err(StoreError::Condition("space")) => {}
            Err(e) => return Err(e),
        }
        let rest = items
            .into_iter()
            .filter(|i| i.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) != Some(keys::META))
            .collect();
        self.batch_delete(rest).await?;
        Ok(objects)
    }

    async fn touch_progress(
        &self,
        video: &VideoId,
        user: &UserId,
        rate: u8,
        position: f64,
        now: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::progress(user))))
            .condition_expression("attribute_exists(spaceId)")
            .update_expression("SET progressRate = :r, positionSeconds = :p, lastAccessAt = :now, GSI1SK = :access")
            .expression_attribute_values(":r", n(rate))
            .expression_attribute_values(":p", n(position))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":access", s(keys::access(now, video)))
            .send()
            .await;
        condition_held(result)
    }

    async fn put_progress(&self, progress: &Progress) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.progress_item(progress)?))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn recent_progress(&self, user: &UserId, limit: Limit) -> Result<Vec<Progress>, StoreError> {
        let (items, _) = self
            .query_items(
                Some(GSI1),
                "GSI1PK = :pk AND begins_with(GSI1SK, :access)",
                vec![(":pk", s(keys::user(user))), (":access", s("ACCESS#"))],
                Some(limit),
                None,
                false,
            )
            .await?;
        items.into_iter().map(from_item).collect()
    }

    async fn completed_count(&self, user: &UserId) -> Result<u32, StoreError> {
        let mut count = 0u32;
        let mut start = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :access)")
                .filter_expression("progressRate >= :done")
                .expression_attribute_values(":pk", s(keys::user(user)))
                .expression_attribute_values(":access", s("ACCESS#"))
                .expression_attribute_values(":done", n(100))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            count += u32::try_from(resp.count).unwrap_or_default();
            start = resp.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    async fn claim_import(&self, id: &VideoId, now: &str) -> Result<bool, StoreError> {
        let stale = crate::types::rfc3339(time::OffsetDateTime::now_utc() - time::Duration::minutes(15));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(id), keys::META)))
            .condition_expression(
                "#status = :importing AND (attribute_not_exists(importClaimedAt) OR importClaimedAt < :stale)",
            )
            .update_expression("SET importClaimedAt = :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":importing", s(VideoStatus::Importing.as_str()))
            .expression_attribute_values(":stale", s(stale))
            .expression_attribute_values(":now", s(now))
            .send()
            .await;
        condition_held(result)
    }

    async fn put_snapshot(&self, snap: &Snapshot) -> Result<(), StoreError> {
        let item = to_item(
            snap,
            &[
                (PK, keys::video(&snap.video_id)),
                (SK, keys::snapshot(&snap.user_id, &snap.snapshot_id)),
                (GSI2PK, keys::member_data(&snap.space_id, &snap.user_id)),
                (GSI2SK, format!("{}#SNAP#{}", snap.video_id, snap.snapshot_id)),
                ("type", "Snapshot".into()),
            ],
        )?;
        self.put_new(item, "snapshot").await
    }

    async fn snapshots(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Snapshot>, StoreError> {
        let partition = keys::video(video);
        let prefix = keys::snapshot_prefix(user);
        // The start key must lie in this user's snapshots of this video.
        if let Some(sk) = start.as_ref().and_then(|k| k.get(SK))
            && !sk.starts_with(&prefix)
        {
            return Err(StoreError::ForeignStart);
        }
        let (items, last) = self
            .query_items(
                None,
                "PK = :pk AND begins_with(SK, :snap)",
                vec![(":pk", s(partition.clone())), (":snap", s(prefix))],
                Some(limit),
                start_key(start, PK, &partition)?,
                true,
            )
            .await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next: page_key(last.as_ref()) })
    }

    async fn delete_snapshot(
        &self,
        video: &VideoId,
        user: &UserId,
        id: &SnapshotId,
    ) -> Result<Option<Snapshot>, StoreError> {
        let resp = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::snapshot(user, id))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        resp.attributes.map(from_item).transpose()
    }
}

fn ignore_condition<E>(e: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> Result<(), StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match conditional::<E>("item")(e) {
        StoreError::Condition(_) => Ok(()),
        other => Err(other),
    }
}

impl DynamoStore {
    /// A page of one user's items of one kind under a video, the start key checked to lie there.
    async fn own_items(
        &self,
        video: &VideoId,
        prefix: &str,
        limit: Limit,
        start: Option<PageKey>,
        newest_first: bool,
        projection: Option<(&str, &[(&str, &str)])>,
    ) -> Result<(Vec<Item>, Option<PageKey>), StoreError> {
        let partition = keys::video(video);
        if let Some(sk) = start.as_ref().and_then(|k| k.get(SK))
            && !sk.starts_with(prefix)
        {
            return Err(StoreError::ForeignStart);
        }
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(partition.clone()))
            .expression_attribute_values(":prefix", s(prefix))
            .scan_index_forward(!newest_first)
            .limit(i32::from(limit.get()))
            .consistent_read(true)
            .set_exclusive_start_key(start_key(start, PK, &partition)?);
        if let Some((expr, names)) = projection {
            req = req.projection_expression(expr);
            for (k, v) in names {
                req = req.expression_attribute_names(*k, *v);
            }
        }
        let resp = req.send().await.map_err(backend)?;
        Ok((resp.items.unwrap_or_default(), page_key(resp.last_evaluated_key.as_ref())))
    }
}

#[async_trait]
impl NoteStore for DynamoStore {
    async fn memo(&self, video: &VideoId, user: &UserId) -> Result<Option<Memo>, StoreError> {
        self.get(keys::video(video), keys::memo(user)).await
    }

    async fn save_memo(
        &self,
        video: &VideoId,
        user: &UserId,
        state: &str,
        video_time: Option<f64>,
        expected: Option<u64>,
        now: &str,
    ) -> Result<SaveOutcome, StoreError> {
        let mut update = "SET stateJson = :state, updatedAt = :now, version = version + :one".to_owned();
        let mut condition = "attribute_exists(spaceId)".to_owned();
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), keys::memo(user))))
            .expression_attribute_values(":state", s(state))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew);
        if let Some(t) = video_time {
            update.push_str(", videoTime = :t");
            req = req.expression_attribute_values(":t", n(t));
        }
        if let Some(v) = expected {
            condition.push_str(" AND version = :expected");
            req = req.expression_attribute_values(":expected", n(v));
        }
        match req.update_expression(update).condition_expression(condition).send().await {
            Ok(out) => Ok(SaveOutcome::Saved(from_item(out.attributes.unwrap_or_default())?)),
            Err(e) => match conditional::<aws_sdk_dynamodb::operation::update_item::UpdateItemError>("memo")(e) {
                StoreError::Condition(_) => {
                    // Which condition failed: no memo (no grant yet), or another version.
                    Ok(if self.memo(video, user).await?.is_some() { SaveOutcome::Stale } else { SaveOutcome::NoMemo })
                }
                other => Err(other),
            },
        }
    }

    async fn create_memo(&self, memo: &Memo) -> Result<(), StoreError> {
        let item = to_item(
            memo,
            &[
                (PK, keys::video(&memo.video_id)),
                (SK, keys::memo(&memo.user_id)),
                (GSI2PK, keys::member_data(&memo.space_id, &memo.user_id)),
                (GSI2SK, format!("{}#MEMO", memo.video_id)),
                ("type", "Memo".into()),
            ],
        )?;
        self.put_new(item, "memo").await
    }

    async fn checkpoint(&self, c: &Checkpoint) -> Result<(), StoreError> {
        let item = to_item(
            c,
            &[
                (PK, keys::video(&c.video_id)),
                (SK, format!("{}{}", keys::memo_history_prefix(&c.user_id), c.checkpoint_id)),
                (GSI2PK, keys::member_data(&c.space_id, &c.user_id)),
                (GSI2SK, format!("{}#MEMOHIST#{}", c.video_id, c.checkpoint_id)),
                ("type", "MemoCheckpoint".into()),
            ],
        )?;
        let mark = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(&c.video_id), keys::memo(&c.user_id))))
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(checkpointedVersion) OR checkpointedVersion < :v)",
            )
            .update_expression("SET checkpointedVersion = :v")
            .expression_attribute_values(":v", n(c.version))
            .build()
            .map_err(backend)?;
        self.transact(
            vec![self.put(item, Some("attribute_not_exists(PK)"))?, TransactWriteItem::builder().update(mark).build()],
            &["checkpoint", "memo"],
        )
        .await
    }

    async fn history(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Checkpoint>, StoreError> {
        let (items, next) = self.own_items(video, &keys::memo_history_prefix(user), limit, start, true, None).await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next })
    }

    async fn put_drawing(&self, d: &Drawing) -> Result<Option<Drawing>, StoreError> {
        let item = to_item(
            d,
            &[
                (PK, keys::video(&d.video_id)),
                (SK, format!("{}{}", keys::drawing_prefix(&d.user_id), d.drawing_id)),
                (GSI2PK, keys::member_data(&d.space_id, &d.user_id)),
                (GSI2SK, format!("{}#DRAW#{}", d.video_id, d.drawing_id)),
                ("type", "Drawing".into()),
            ],
        )?;
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        out.attributes.filter(|a| !a.is_empty()).map(from_item).transpose()
    }

    async fn drawing(&self, video: &VideoId, user: &UserId, id: &DrawingId) -> Result<Option<Drawing>, StoreError> {
        self.get(keys::video(video), format!("{}{id}", keys::drawing_prefix(user))).await
    }

    async fn drawings(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Drawing>, StoreError> {
        // Everything but the documents.
        let projection = (
            "PK, SK, drawingId, videoId, userId, spaceId, #kind, startSeconds, endSeconds, sizeBytes, updatedAt, objectKey",
            &[("#kind", "kind")][..],
        );
        let (items, next) =
            self.own_items(video, &keys::drawing_prefix(user), limit, start, false, Some(projection)).await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next })
    }

    async fn delete_drawing(
        &self,
        video: &VideoId,
        user: &UserId,
        id: &DrawingId,
    ) -> Result<Option<Drawing>, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(video), format!("{}{id}", keys::drawing_prefix(user)))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        out.attributes.filter(|a| !a.is_empty()).map(from_item).transpose()
    }
}

#[async_trait]
impl WebexStore for DynamoStore {
    async fn webex_tokens(&self, user: &UserId) -> Result<Option<WebexTokens>, StoreError> {
        self.get(keys::user(user), keys::WEBEX).await
    }

    async fn put_webex_tokens(&self, user: &UserId, tokens: &WebexTokens) -> Result<(), StoreError> {
        let item = to_item(
            tokens,
            &[(PK, keys::user(user)), (SK, keys::WEBEX.to_owned()), ("type", "WebexConnection".into())],
        )?;
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    async fn delete_webex_tokens(&self, user: &UserId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user(user), keys::WEBEX)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn put_webex_state(&self, state: &str, user: &UserId, expires_at: u64) -> Result<(), StoreError> {
        let item = HashMap::from([
            (PK.to_owned(), s(format!("WEBEXSTATE#{state}"))),
            (SK.to_owned(), s("WEBEXSTATE")),
            ("type".to_owned(), s("WebexState")),
            ("userId".to_owned(), s(user.to_string())),
            ("expiresAt".to_owned(), n(expires_at)),
        ]);
        self.put_new(item, "state").await
    }

    async fn take_webex_state(&self, state: &str, user: &UserId, now: u64) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("WEBEXSTATE#{state}"), "WEBEXSTATE")))
            .condition_expression("attribute_exists(PK) AND userId = :u AND expiresAt > :now")
            .expression_attribute_values(":u", s(user.to_string()))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        condition_held(result)
    }
}
