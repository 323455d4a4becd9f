//! Spaces and memberships: a space's partition holds its item and its members; a user's
//! memberships are found through GSI1.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    quota::{Exceeded, Quota},
    spaces::{Membership, Role, Space, SpaceAccess, SpacePatch, SpaceStore, Standing},
    types::{Limit, SpaceId, UserId, now_rfc3339},
};

use crate::{
    attrs,
    expr::{self, Changes},
    keys::{self, MemberItem},
    table::{
        GSI1, GSI1PK, GSI2, GSI2SK, Item, PK, SK, Table, backend, conditional, from_item, key, page_key, primary_key,
        s, start_key,
    },
};

#[async_trait]
impl SpaceStore for Table {
    async fn create_space(&self, space: &Space, host: &Membership, hosted_limit: u64) -> Result<(), StoreError> {
        let not_exists = Some("attribute_not_exists(PK)");
        let quota = Guard::Quota(Exceeded { quota: Quota::HostedSpaces, limit: hosted_limit });
        let result = self
            .transact(
                vec![
                    self.put(self.space_item(space)?, not_exists)?,
                    self.put(self.membership_item(host)?, not_exists)?,
                    self.count_hosted(&space.host_id, 1, Some(hosted_limit))?,
                ],
                &[Guard::Space, Guard::Membership, quota],
            )
            .await;
        match result {
            // The profile's condition failed: a full quota, or no account at all or one being
            // deleted (one read tells).
            Err(StoreError::Condition(g)) if g == quota => {
                match self
                    .get::<HashMap<String, serde::de::IgnoredAny>>(keys::user(&space.host_id), keys::PROFILE)
                    .await?
                {
                    Some(profile) if !profile.contains_key(attrs::DELETING) => Err(StoreError::Condition(quota)),
                    _ => Err(StoreError::Condition(Guard::Account)),
                }
            }
            other => other,
        }
    }

    async fn get_space(&self, space: &SpaceId) -> Result<Option<Space>, StoreError> {
        self.get(keys::space(space), keys::META).await
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
        let Page { items: memberships, next } = self.memberships_of(user, limit, start).await?;
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

    async fn memberships_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Membership>, StoreError> {
        let partition = keys::user(user);
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :space)")
            .expression_attribute_values(":pk", s(partition.clone()))
            .expression_attribute_values(":space", s(keys::MEMBER_OF_PREFIX))
            .limit(i32::from(limit.get()))
            .set_exclusive_start_key(start_key(start, GSI1PK, &partition)?)
            .send()
            .await
            .map_err(backend)?;
        let next = page_key(resp.last_evaluated_key.as_ref());
        let items = resp.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    async fn update_space(&self, id: &SpaceId, patch: &SpacePatch, now: &str) -> Result<Space, StoreError> {
        let changes = Changes::new()
            .set(attrs::UPDATED_AT, s(now))
            .set_some(attrs::NAME, patch.name.as_ref().map(|v| s(v.as_str())))
            .set_some(attrs::DESCRIPTION, patch.description.as_ref().map(|v| s(v.as_str())))
            .set_some(
                attrs::TRANSCRIPTION,
                patch.transcription.as_ref().map(serde_dynamo::to_attribute_value).transpose().map_err(backend)?,
            )
            .set_some(
                attrs::COMPLETION_THRESHOLD,
                patch.completion_threshold.map(|t| AttributeValue::N(t.get().to_string())),
            )
            .set_some(attrs::STUDY_MAP_K, patch.study_map_k.map(|k| AttributeValue::N(k.get().to_string())))
            .set_some(attrs::DEFAULT_VISIBILITY, patch.default_visibility.map(|v| s(v.as_str())))
            .when(expr::exists_not_deleting());
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(id), keys::META)))
            .return_values(ReturnValue::AllNew);
        let resp = changes.apply(req).send().await.map_err(conditional(Guard::Space))?;
        from_item(resp.attributes.unwrap_or_default())
    }

    async fn tombstone_space(&self, id: &SpaceId) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(id), keys::META)))
            .condition_expression("attribute_exists(PK)")
            // With its entry in the marks' index, as of this mark (each run of the worker marks
            // it again): the sweep finds a deletion no worker finished.
            .update_expression(format!("SET {} = :t, GSI2PK = :deleting, GSI2SK = :mark", attrs::DELETING))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":deleting", crate::table::s(keys::DELETING))
            .expression_attribute_values(":mark", crate::table::s(crate::deletions::Marked::Space(id).sort_key()))
            .send()
            .await
            .map_err(conditional(Guard::Space))?;
        Ok(())
    }

    async fn sweep_space(&self, id: &SpaceId) -> Result<(), StoreError> {
        let partition = keys::space(id);
        let space = self.get::<Space>(partition.clone(), keys::META).await?;
        let host_membership = space.as_ref().map(|sp| keys::member(&sp.host_id));
        let sort_key = |item: &Item| item.get(SK).and_then(|v| v.as_s().ok()).cloned();
        // Everything but the space item and its host's membership: those go last, together, so
        // that a sweep that fails half-way leaves the host able to delete the space again.
        let children: Vec<Item> = self
            .query_keys(&partition, None)
            .await?
            .into_iter()
            .filter(|item| {
                let sk = sort_key(item);
                sk.as_deref() != Some(keys::META) && sk != host_membership
            })
            .collect();
        self.batch_delete(children).await?;
        let Some(space) = space else { return Ok(()) };
        let delete = |sk: String| {
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(partition.clone(), sk)))
                .build()
                .map(|d| TransactWriteItem::builder().delete(d).build())
                .map_err(backend)
        };
        let item = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(partition.clone(), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(backend)?;
        let gone = || -> Result<Vec<TransactWriteItem>, StoreError> {
            Ok(vec![TransactWriteItem::builder().delete(item.clone()).build(), delete(keys::member(&space.host_id))?])
        };
        if !space.personal {
            // The item, its host's membership and its count among the host's spaces go together;
            // a second sweep finds no item and counts nothing.
            let mut items = gone()?;
            items.push(self.count_hosted(&space.host_id, -1, None)?);
            match self.transact(items, &[Guard::Space, Guard::Membership, Guard::User]).await {
                Ok(()) | Err(StoreError::Condition(Guard::Space)) => return Ok(()),
                // The host's account is gone or never counted this space: just delete it.
                Err(StoreError::Condition(Guard::User)) => {}
                Err(e) => return Err(e),
            }
        }
        match self.transact(gone()?, &[Guard::Space, Guard::Membership]).await {
            Ok(()) | Err(StoreError::Condition(Guard::Space)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn members(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Membership>, StoreError> {
        let Page { items, next } = self.member_items(space, limit, start).await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next })
    }

    async fn standings(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<(Membership, Standing)>, StoreError> {
        let Page { items, next } = self.member_items(space, limit, start).await?;
        let items = items
            .into_iter()
            .map(|item| Ok((from_item::<Membership>(item.clone())?, from_item::<Standing>(item)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, next })
    }

    async fn add_member(&self, membership: &Membership) -> Result<(), StoreError> {
        self.add_member_with(membership, |_| {}).await
    }

    async fn withdraw_invitations_of(&self, space: &SpaceId, creator: &UserId, now: &str) -> Result<usize, StoreError> {
        self.withdraw_invitations_by(space, creator, now).await
    }

    async fn remove_member(&self, space: &SpaceId, user: &UserId, removed_by_manager: bool) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::member(user))))
            .condition_expression("attribute_exists(PK) AND #role <> :host")
            .expression_attribute_names("#role", attrs::ROLE)
            .expression_attribute_values(":host", s(Role::Host.as_str()))
            .build()
            .map_err(backend)?;
        let count = Changes::new()
            .increment(attrs::MEMBER_COUNT, -1)
            .when("attribute_exists(PK)")
            .into_update(&self.table, key(keys::space(space), keys::META))
            .map_err(backend)?;
        let mut items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        if removed_by_manager {
            // The removal sticks: a shareable code does not bring them back (`REMOVED#`, in the
            // space's partition: it goes with the space).
            let marker = [
                (PK, s(keys::space(space))),
                (SK, s(keys::removed(user))),
                (attrs::TYPE, s("RemovedMember")),
                (attrs::USER_ID, s(user.as_str())),
                (attrs::REMOVED_AT, s(now_rfc3339())),
            ];
            items.push(self.put(marker.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(), None)?);
        }
        self.transact(items, &[Guard::Membership, Guard::Space, Guard::Item]).await
    }

    async fn set_role(&self, space: &SpaceId, user: &UserId, role: Role) -> Result<Membership, StoreError> {
        let changes = Changes::new()
            .set(attrs::ROLE, s(role.as_str()))
            .when("attribute_exists(PK) AND #role <> :host")
            .bind(":host", s(Role::Host.as_str()));
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::member(user))))
            .return_values(ReturnValue::AllNew);
        let resp = changes.apply(req).send().await.map_err(conditional(Guard::Membership))?;
        from_item(resp.attributes.unwrap_or_default())
    }

    async fn transfer_space(
        &self,
        space: &SpaceId,
        from: &UserId,
        to: &UserId,
        hosted_limit: u64,
    ) -> Result<(), StoreError> {
        let update = |sk: String, changes: Changes| {
            changes
                .into_update(&self.table, key(keys::space(space), sk))
                .map(|u| TransactWriteItem::builder().update(u).build())
                .map_err(backend)
        };
        let host = || s(Role::Host.as_str());
        let item = update(
            keys::META.to_owned(),
            Changes::new()
                .set(attrs::HOST_ID, s(to.as_str()))
                .set(attrs::UPDATED_AT, s(now_rfc3339()))
                .when(format!("{} AND #hostId = :from AND #personal = :no", expr::exists_not_deleting()))
                .named(attrs::PERSONAL)
                .bind(":from", s(from.as_str()))
                .bind(":no", AttributeValue::Bool(false)),
        )?;
        let old_host = update(
            keys::member(from),
            Changes::new().set(attrs::ROLE, s(Role::CoHost.as_str())).when("#role = :host").bind(":host", host()),
        )?;
        let new_host = update(
            keys::member(to),
            Changes::new()
                .set(attrs::ROLE, host())
                .when("attribute_exists(PK) AND #role <> :host")
                .bind(":host", host()),
        )?;
        let quota = Guard::Quota(Exceeded { quota: Quota::HostedSpaces, limit: hosted_limit });
        let items = vec![item, old_host, new_host, self.count_hosted(to, 1, Some(hosted_limit))?];
        let mut uncounted = items.clone();
        uncounted.push(self.count_hosted(from, -1, None)?);
        match self.transact(uncounted, &[Guard::Space, Guard::Space, Guard::Membership, quota, Guard::User]).await {
            // The old host's account is gone (its deletion hands the space over) or never counted
            // this space: hand it over without uncounting.
            Err(StoreError::Condition(Guard::User)) => {
                self.transact(items, &[Guard::Space, Guard::Space, Guard::Membership, quota]).await
            }
            other => other,
        }
    }

    async fn member_objects(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError> {
        Ok(self.member_data(space, user).await?.iter().filter_map(object_key).collect())
    }

    async fn purge_member_data(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError> {
        let items = self.member_data(space, user).await?;
        let objects = items.iter().filter_map(object_key).collect();
        let keys: Vec<Item> = items.iter().map(primary_key).collect();
        // Their usage items first, each with the bytes it charged to their storage (a purge
        // repeated after a failure finds them gone and gives nothing back twice).
        self.release_usages(&keys).await?;
        self.batch_delete(keys).await?;
        // The terms of their memos in their own search index go after the memos (no save can
        // add any after that): the memos' GSI2 sort keys, `{videoId}#MEMO`, name the videos.
        let memo_videos = items
            .iter()
            .filter_map(|i| i.get(GSI2SK).and_then(|v| v.as_s().ok()))
            .filter_map(|k| keys::member_item_video(k, MemberItem::Memo));
        for video in memo_videos {
            self.unindex_notes(&video, user).await?;
        }
        Ok(objects)
    }
}

/// The user-content object an item points at.
fn object_key(item: &Item) -> Option<String> {
    item.get(attrs::OBJECT_KEY).and_then(|v| v.as_s().ok()).cloned()
}

impl Table {
    /// `add_member`'s transaction, its membership's put first passed to `mark` (the launch marks
    /// it as from an LTI course).
    pub(crate) async fn add_member_with(
        &self,
        membership: &Membership,
        mark: impl FnOnce(&mut TransactWriteItem),
    ) -> Result<(), StoreError> {
        // A manager adding them lifts a removal (`REMOVED#`), in the same transaction.
        let lift = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(&membership.space_id), keys::removed(&membership.user_id))))
            .build()
            .map_err(backend)?;
        let [mut member, count] = self.joining(membership)?;
        mark(&mut member);
        // And only while the added account exists, its deletion not begun: a membership written
        // after the deletion worker listed the account's spaces would outlive the account.
        let account = self.account_exists(&membership.user_id)?;
        self.transact(
            vec![member, count, TransactWriteItem::builder().delete(lift).build(), account],
            &[Guard::Membership, Guard::Space, Guard::Item, Guard::Account],
        )
        .await
    }

    /// A page of a space's membership items, in user-id order.
    pub(crate) async fn member_items(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Item>, StoreError> {
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
        Ok(Page { items: resp.items.unwrap_or_default(), next })
    }

    /// Every item of a member's per-video data in a space (GSI2).
    async fn member_data(&self, space: &SpaceId, user: &UserId) -> Result<Vec<Item>, StoreError> {
        self.index_partition(GSI2, &keys::member_data(space, user)).await
    }
}
