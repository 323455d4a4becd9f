//! LTI: platform registrations, course and user links, and the one-time items of a launch
//! (login states, session codes, deep-linking contexts, registration invitations), each taken
//! by a conditional delete so that it is good once.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    operation::update_item::UpdateItemError,
    types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure},
};
use serde::de::DeserializeOwned;
use vivid_domain::{
    error::{Guard, StoreError},
    lti::model::{
        ContextKey, ContextLink, DeepLinkContext, DeploymentAdded, LaunchState, LaunchStore, LinkStore, Registration,
        RegistrationInvite, RegistrationStore, SessionCode, UserLink,
    },
    spaces::{Membership, Space},
    types::{SpaceId, UserId},
    users::User,
};

use crate::{
    attrs, keys,
    lti_roster::mark_from_context,
    table::{GSI1, GSI1PK, GSI1SK, Item, PK, SK, Table, backend, conditional, from_item, key, n, s, to_item},
};

fn registration_item(reg: &Registration) -> Result<Item, StoreError> {
    let id = reg.id();
    to_item(
        reg,
        &[
            (PK, keys::lti_registration(&reg.issuer)),
            (SK, keys::lti_client(&reg.client_id)),
            (GSI1PK, keys::LTI_REGISTRATIONS.to_owned()),
            (GSI1SK, format!("{}#{id}", reg.created_at)),
            (attrs::TYPE, "LtiRegistration".into()),
        ],
    )
}

fn link_item(link: &ContextLink) -> Result<Item, StoreError> {
    to_item(
        link,
        &[
            (PK, keys::lti_context(&link.context.hash())),
            (SK, keys::LTI.to_owned()),
            (GSI1PK, keys::lti_space(&link.space_id)),
            (GSI1SK, keys::LTI.to_owned()),
            (attrs::TYPE, "LtiContext".into()),
        ],
    )
}

impl Table {
    /// Deletes `(pk, LTI)` when it is live at `now` (and `extra` holds), answering what it held.
    async fn take_once<T: DeserializeOwned>(
        &self,
        pk: String,
        now: u64,
        extra: Option<(&str, &str, AttributeValue)>,
    ) -> Result<Option<T>, StoreError> {
        let mut condition = "attribute_exists(PK) AND expiresAt > :now".to_owned();
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, keys::LTI)))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllOld);
        if let Some((attr, placeholder, value)) = extra {
            condition.push_str(&format!(" AND {attr} = {placeholder}"));
            req = req.expression_attribute_values(placeholder, value);
        }
        match req.condition_expression(condition).send().await {
            Ok(out) => out.attributes.map(from_item).transpose(),
            Err(e) => match conditional::<aws_sdk_dynamodb::operation::delete_item::DeleteItemError>(Guard::Item)(e) {
                StoreError::Condition(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn put_once<T: serde::Serialize>(&self, value: &T, pk: String, kind: &str) -> Result<(), StoreError> {
        let item = to_item(value, &[(PK, pk), (SK, keys::LTI.to_owned()), (attrs::TYPE, kind.into())])?;
        self.put_new(item, Guard::Item).await
    }

    /// Every registration of one issuer: its partition of the table, all pages.
    async fn issuer_registrations(&self, issuer: &str) -> Result<Vec<Registration>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::lti_registration(issuer)))
            // Strongly consistent: the one-key-set check must see a registration made a moment
            // ago (the issuer's partition is the base table's, so it can).
            .consistent_read(true);
        self.all_pages(query).await?.into_iter().map(from_item).collect()
    }
}

#[async_trait]
impl RegistrationStore for Table {
    async fn put_registration(&self, reg: &Registration) -> Result<(), StoreError> {
        self.put_new(registration_item(reg)?, Guard::Item).await
    }

    async fn registration(&self, issuer: &str, client_id: &str) -> Result<Option<Registration>, StoreError> {
        self.get(keys::lti_registration(issuer), keys::lti_client(client_id)).await
    }

    async fn registrations_of(&self, issuer: &str) -> Result<Vec<Registration>, StoreError> {
        self.issuer_registrations(issuer).await
    }

    async fn all_registrations(&self) -> Result<Vec<Registration>, StoreError> {
        self.index_partition(GSI1, keys::LTI_REGISTRATIONS).await?.into_iter().map(from_item).collect()
    }

    async fn registration_by_id(&self, id: &str) -> Result<Option<Registration>, StoreError> {
        // A handful of registrations: the list names the one with this id.
        Ok(self.all_registrations().await?.into_iter().find(|r| r.id() == id))
    }

    async fn add_deployment(
        &self,
        issuer: &str,
        client_id: &str,
        deployment_id: &str,
        max: usize,
    ) -> Result<DeploymentAdded, StoreError> {
        // One write, its condition the whole rule; a refusal answers the item as it was, which
        // tells a missing registration, one that holds the deployment and a full one apart.
        let resp = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::lti_registration(issuer), keys::lti_client(client_id))))
            .update_expression("SET #d = list_append(#d, :one)")
            .condition_expression("attribute_exists(PK) AND NOT contains(#d, :id) AND size(#d) < :max")
            .expression_attribute_names("#d", attrs::DEPLOYMENT_IDS)
            .expression_attribute_values(":one", AttributeValue::L(vec![s(deployment_id)]))
            .expression_attribute_values(":id", s(deployment_id))
            .expression_attribute_values(":max", n(max))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match resp {
            Ok(out) => match out.attributes {
                Some(item) => Ok(DeploymentAdded::Added(from_item(item)?)),
                None => Err(StoreError::backend("UpdateItem (ALL_NEW) answered no attributes")),
            },
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => match failed.item.clone() {
                    None => Ok(DeploymentAdded::NoRegistration),
                    Some(item) => {
                        let reg: Registration = from_item(item)?;
                        if reg.deployment_ids.iter().any(|d| d == deployment_id) {
                            Ok(DeploymentAdded::AlreadyThere(reg))
                        } else {
                            Ok(DeploymentAdded::Full)
                        }
                    }
                },
                _ => Err(backend(e)),
            },
        }
    }

    async fn delete_registration(&self, id: &str) -> Result<bool, StoreError> {
        let Some(reg) = self.registration_by_id(id).await? else { return Ok(false) };
        let resp = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::lti_registration(&reg.issuer), keys::lti_client(&reg.client_id))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        Ok(resp.attributes.is_some())
    }

    async fn put_invite(&self, invite: &RegistrationInvite) -> Result<(), StoreError> {
        self.put_once(invite, keys::lti_invite(&invite.token_hash), "LtiInvite").await
    }

    async fn take_invite(&self, token_hash: &str, now: u64) -> Result<Option<RegistrationInvite>, StoreError> {
        self.take_once(keys::lti_invite(token_hash), now, None).await
    }
}

#[async_trait]
impl LinkStore for Table {
    async fn user_link(&self, issuer: &str, subject: &str) -> Result<Option<UserLink>, StoreError> {
        self.get(keys::lti_user(&UserLink::hash(issuer, subject)), keys::LTI).await
    }

    async fn create_linked_user(&self, link: &UserLink, user: &User, personal: &Space) -> Result<(), StoreError> {
        // The sign-up's items (the placeholder address is the user's own: its local part is their
        // id, so the e-mail lock keeps `delete_user` and address uniqueness as they are), and the
        // platform's link to the user.
        let mut items = self.sign_up_items(user, personal)?;
        let link_item = to_item(
            link,
            &[
                (PK, keys::lti_user(&UserLink::hash(&link.issuer, &link.subject))),
                (SK, keys::LTI.to_owned()),
                (attrs::TYPE, "LtiUser".into()),
            ],
        )?;
        // A link whose user was deleted is taken over by the new user.
        let mut link_put = self.put(link_item, Some("attribute_not_exists(PK) OR userId <> :me"))?;
        if let Some(put) = link_put.put.as_mut() {
            put.expression_attribute_values = Some(HashMap::from([(":me".to_owned(), s(user.user_id.to_string()))]));
        }
        items.push(link_put);
        self.transact(items, &[Guard::User, Guard::Email, Guard::Space, Guard::Membership, Guard::Item]).await
    }

    async fn context_link(&self, context: &ContextKey) -> Result<Option<ContextLink>, StoreError> {
        self.get(keys::lti_context(&context.hash()), keys::LTI).await
    }

    async fn context_of_space(&self, space: &SpaceId) -> Result<Option<ContextLink>, StoreError> {
        let items = self.index_partition(GSI1, &keys::lti_space(space)).await?;
        items.into_iter().next().map(from_item).transpose()
    }

    async fn link_new_space(
        &self,
        link: &ContextLink,
        space: &Space,
        host: &Membership,
        host_sub: &str,
        replaces: Option<&SpaceId>,
    ) -> Result<(), StoreError> {
        let not_exists = Some("attribute_not_exists(PK)");
        let mut host_put = self.put(self.membership_item(host)?, not_exists)?;
        mark_from_context(&mut host_put, &link.context.hash(), host_sub);
        let mut link_put = match replaces {
            None => self.put(link_item(link)?, not_exists)?,
            Some(_) => self.put(link_item(link)?, Some("spaceId = :gone"))?,
        };
        if let (Some(gone), Some(put)) = (replaces, link_put.put.as_mut()) {
            put.expression_attribute_values = Some(HashMap::from([(":gone".to_owned(), s(gone.to_string()))]));
        }
        self.transact(
            vec![
                self.put(self.space_item(space)?, not_exists)?,
                host_put,
                // Counted as the host's like any space they host (its deletion gives it back);
                // not limited: the platform's course asked for it, not the person.
                self.count_hosted(&space.host_id, 1, None)?,
                link_put,
            ],
            &[Guard::Space, Guard::Membership, Guard::Account, Guard::Item],
        )
        .await
    }

    async fn join_from_context(&self, membership: &Membership, context: &str, sub: &str) -> Result<(), StoreError> {
        self.join_course_space(membership, context, sub).await
    }

    async fn update_context_services(&self, link: &ContextLink) -> Result<(), StoreError> {
        // The whole item again, while it still names this space.
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(link_item(link)?))
            .condition_expression("spaceId = :space")
            .expression_attribute_values(":space", s(link.space_id.to_string()))
            .send()
            .await;
        put.map(|_| ()).map_err(conditional(Guard::Item))
    }
}

#[async_trait]
impl LaunchStore for Table {
    async fn put_launch_state(&self, state: &LaunchState) -> Result<(), StoreError> {
        self.put_once(state, keys::lti_state(&state.state), "LtiState").await
    }

    async fn take_launch_state(&self, state: &str, now: u64) -> Result<Option<LaunchState>, StoreError> {
        self.take_once(keys::lti_state(state), now, None).await
    }

    async fn put_session_code(&self, code: &SessionCode) -> Result<(), StoreError> {
        self.put_once(code, keys::lti_code(&code.code_hash), "LtiCode").await
    }

    async fn take_session_code(&self, code_hash: &str, now: u64) -> Result<Option<SessionCode>, StoreError> {
        self.take_once(keys::lti_code(code_hash), now, None).await
    }

    async fn put_deep_link(&self, ctx: &DeepLinkContext) -> Result<(), StoreError> {
        self.put_once(ctx, keys::lti_deep_link(&ctx.deep_link_id), "LtiDeepLink").await
    }

    async fn take_deep_link(&self, id: &str, user: &UserId, now: u64) -> Result<Option<DeepLinkContext>, StoreError> {
        self.take_once(keys::lti_deep_link(id), now, Some(("userId", ":user", s(user.to_string())))).await
    }
}
