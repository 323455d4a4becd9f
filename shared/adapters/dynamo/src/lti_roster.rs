//! LTI Advantage services' items. Roster sync's writes: memberships that came from an LTI course
//! carry the course (`ltiContext`, its context key hash) and the platform subject they came for
//! (`ltiSub`); a sync of that course removes or re-roles only those, each by one conditional write
//! that still finds both (the host and members added by hand have neither; another course's
//! members carry another context), and never adds back a member the host removed (`REMOVED#`). Grade passback
//! keeps the value the platform last took on the student's progress item.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    lti::{
        grades::{Column, GradeStore, Posted},
        model::composite_hash,
        model::{LinkStore, UserLink},
        roster::{Joined, RosterStore, SpaceMember},
        services::PlatformMember,
    },
    page::Page,
    spaces::{Membership, Role},
    types::{Email, Limit, SpaceId, UserId, VideoId},
    users::{User, UserStore},
    video::Progress,
};

use crate::{
    attrs, keys,
    table::{Table, backend, conditional, from_item, key, n, s},
};

/// The platform subject a membership came from an LTI course for.
pub const LTI_SUB: &str = "ltiSub";
/// The course (its context key hash) a membership came from, beside [`LTI_SUB`]: subjects are
/// per platform (Moodle's are small integers), so a subject alone names no one.
pub const LTI_CONTEXT: &str = "ltiContext";

/// Marks a membership's put as from an LTI course: its context key hash ([`LTI_CONTEXT`]) and
/// the platform subject ([`LTI_SUB`]). A sync's joiners, a launch's joiners and the host of a
/// space a launch created are all marked by this one function.
pub(crate) fn mark_from_context(put: &mut TransactWriteItem, context: &str, sub: &str) {
    if let Some(item) = put.put.as_mut().map(|p| &mut p.item) {
        item.insert(LTI_SUB.to_owned(), s(sub));
        item.insert(LTI_CONTEXT.to_owned(), s(context));
    }
}

impl Table {
    /// Adds a member of an LTI course to its space, the membership marked by
    /// [`mark_from_context`] — a launch's joiner and a sync's alike. The host's removal sticks
    /// (`REMOVED#`, as for a shareable code): only a manager adding them by hand lifts it, so
    /// `Condition(Item)` when the host removed them; `Condition(Membership)` when a member.
    pub(crate) async fn join_course_space(
        &self,
        membership: &Membership,
        context: &str,
        sub: &str,
    ) -> Result<(), StoreError> {
        let [mut put, count] = self.joining(membership)?;
        mark_from_context(&mut put, context, sub);
        let account = self.account_exists(&membership.user_id)?;
        let not_removed = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(&membership.space_id), keys::removed(&membership.user_id))))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(backend)?;
        let items: Vec<TransactWriteItem> =
            vec![put, count, account, TransactWriteItem::builder().condition_check(not_removed).build()];
        self.transact(items, &[Guard::Membership, Guard::Space, Guard::Account, Guard::Item]).await
    }

    /// The user of the platform's (`issuer`, `sub`), created (with a placeholder address of
    /// their own, as a launch does: never matched by e-mail) when there is none.
    async fn platform_user(&self, issuer: &str, member: &PlatformMember, now: &str) -> Result<UserId, StoreError> {
        for _ in 0..2 {
            if let Some(link) = self.user_link(issuer, &member.user_id).await?
                && self.get_user(&link.user_id).await?.is_some_and(|u| !u.deleting)
            {
                return Ok(link.user_id);
            }
            let hash = UserLink::hash(issuer, &member.user_id);
            let email: Email = format!("lti-{}@lti.invalid", &hash[..32])
                .parse()
                .map_err(|e| StoreError::backend(format!("placeholder address: {e:?}")))?;
            let (user, personal): (User, _) = User::sign_up(email, member.name.clone(), None, now);
            let link =
                UserLink { issuer: issuer.to_owned(), subject: member.user_id.clone(), user_id: user.user_id.clone() };
            match self.create_linked_user(&link, &user, &personal).await {
                Ok(()) => return Ok(user.user_id),
                // Made meanwhile by a launch or another sync: theirs is the user.
                Err(StoreError::Condition(Guard::Item | Guard::Email)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::unavailable("the platform user's account changed twice during the sync"))
    }
}

#[async_trait]
impl RosterStore for Table {
    async fn roster_members(&self, space: &SpaceId, context: &str) -> Result<Vec<SpaceMember>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let Page { items, next } = self.member_items(space, Limit::clamped(100), start).await?;
            for item in items {
                let ours = item.get(LTI_CONTEXT).and_then(|v| v.as_s().ok()).is_some_and(|c| c == context);
                let sub = item.get(LTI_SUB).and_then(|v| v.as_s().ok()).filter(|_| ours).cloned();
                let m: Membership = from_item(item)?;
                out.push(SpaceMember { user_id: m.user_id, role: m.role, from_context: sub });
            }
            start = next;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    async fn add_from_context(
        &self,
        space: &SpaceId,
        issuer: &str,
        context: &str,
        member: &PlatformMember,
        role: Role,
        now: &str,
    ) -> Result<Joined, StoreError> {
        let user_id = self.platform_user(issuer, member, now).await?;
        let membership = Membership {
            space_id: space.clone(),
            user_id: user_id.clone(),
            role,
            personal: false,
            joined_at: now.to_owned(),
        };
        match self.join_course_space(&membership, context, &member.user_id).await {
            Ok(()) => Ok(Joined::Added),
            // A member already (by hand, a launch, or a sync running at the same time).
            Err(StoreError::Condition(Guard::Membership)) => Ok(Joined::AlreadyMember),
            Err(StoreError::Condition(Guard::Item)) => Ok(Joined::RemovedByHost),
            Err(e) => Err(e),
        }
    }

    async fn remove_from_context(
        &self,
        space: &SpaceId,
        user: &UserId,
        context: &str,
        sub: &str,
    ) -> Result<bool, StoreError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::member(user))))
            .condition_expression("#sub = :sub AND #ctx = :ctx AND #role <> :host")
            .set_expression_attribute_names(Some(HashMap::from([
                ("#sub".to_owned(), LTI_SUB.to_owned()),
                ("#ctx".to_owned(), LTI_CONTEXT.to_owned()),
                ("#role".to_owned(), attrs::ROLE.to_owned()),
            ])))
            .set_expression_attribute_values(Some(HashMap::from([
                (":sub".to_owned(), s(sub)),
                (":ctx".to_owned(), s(context)),
                (":host".to_owned(), s(Role::Host.as_str())),
            ])))
            .build()
            .map_err(backend)?;
        let count = crate::expr::Changes::new()
            .increment(attrs::MEMBER_COUNT, -1)
            .when("attribute_exists(PK)")
            .into_update(&self.table, key(keys::space(space), keys::META))
            .map_err(backend)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        match self.transact(items, &[Guard::Membership, Guard::Space]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Condition(Guard::Membership | Guard::Space)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn set_context_role(
        &self,
        space: &SpaceId,
        user: &UserId,
        context: &str,
        sub: &str,
        role: Role,
    ) -> Result<bool, StoreError> {
        let changes = crate::expr::Changes::new()
            .set(attrs::ROLE, s(role.as_str()))
            .when("#ltiSub = :sub AND #ltiContext = :ctx AND #role <> :host")
            .named(LTI_SUB)
            .named(LTI_CONTEXT)
            .bind(":sub", s(sub))
            .bind(":ctx", s(context))
            .bind(":host", s(Role::Host.as_str()));
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::member(user))));
        match changes.apply(req).send().await.map_err(conditional(Guard::Membership)) {
            Ok(_) => Ok(true),
            Err(StoreError::Condition(Guard::Membership)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The value the platform last took for a student's video, on their progress item (it goes with
/// the progress: a member's purge, the video's deletion).
pub const LTI_POSTED: &str = "ltiPosted";
/// The line item that value went to.
pub const LTI_LINE_ITEM: &str = "ltiLineItem";
/// A video's gradebook column in a course (`LTICOL#…`): the line item's URL, once recorded…
pub const COLUMN_LINE_ITEM: &str = "lineItem";
/// …and, until then, until when a worker's claim to make it holds (epoch seconds).
pub const COLUMN_CLAIMED_UNTIL: &str = "claimedUntil";

fn column_key(lineitems: &str, video: &VideoId) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    key(keys::lti_column(&composite_hash(&[lineitems, video.as_str()])), keys::LTI)
}

#[async_trait]
impl GradeStore for Table {
    async fn current(&self, progress: &Progress) -> Result<Option<(Progress, Option<Posted>)>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(&progress.video_id), keys::progress(&progress.user_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let Some(item) = resp.item else { return Ok(None) };
        let value = item.get(LTI_POSTED).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u8>().ok());
        let line_item = item.get(LTI_LINE_ITEM).and_then(|v| v.as_s().ok()).cloned();
        let posted = value.zip(line_item).map(|(value, line_item)| Posted { value, line_item });
        Ok(Some((from_item(item)?, posted)))
    }

    async fn record_posted(&self, progress: &Progress, posted: &Posted) -> Result<(), StoreError> {
        let changes = crate::expr::Changes::new()
            .set(LTI_POSTED, n(posted.value))
            .set(LTI_LINE_ITEM, s(posted.line_item.clone()))
            .when("attribute_exists(PK)")
            // Never lowered: a worker finishing after another's higher post records nothing (the
            // set above binds #ltiPosted and :ltiPosted, the value recorded).
            .when("attribute_not_exists(#ltiPosted) OR #ltiPosted < :ltiPosted");
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::video(&progress.video_id), keys::progress(&progress.user_id))));
        match changes.apply(req).send().await.map_err(conditional(Guard::Item)) {
            Ok(_) | Err(StoreError::Condition(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn column(&self, lineitems: &str, video: &VideoId, now: u64) -> Result<Column, StoreError> {
        // The recorded column's URL (a consistent read: a column recorded a moment ago counts).
        let recorded = || async {
            let read = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(column_key(lineitems, video)))
                .consistent_read(true)
                .send()
                .await
                .map_err(backend)?;
            let url = read.item.as_ref().and_then(|i| i.get(COLUMN_LINE_ITEM)).and_then(|v| v.as_s().ok()).cloned();
            Ok::<_, StoreError>(url)
        };
        if let Some(url) = recorded().await? {
            return Ok(Column::Known(url));
        }
        // The claim: only while no column is recorded and no other claim is live.
        let claim = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(column_key(lineitems, video)))
            .update_expression("SET #until = :until, #type = :type")
            .condition_expression("attribute_not_exists(#li) AND (attribute_not_exists(#until) OR #until < :now)")
            .expression_attribute_names("#until", COLUMN_CLAIMED_UNTIL)
            .expression_attribute_names("#li", COLUMN_LINE_ITEM)
            .expression_attribute_names("#type", attrs::TYPE)
            .expression_attribute_values(":until", n(now + vivid_domain::lti::grades::COLUMN_CLAIM_SECS))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":type", s("LtiColumn"))
            .send()
            .await;
        match claim.map_err(conditional(Guard::Item)) {
            Ok(_) => Ok(Column::Claimed),
            Err(StoreError::Condition(_)) => Ok(recorded().await?.map_or(Column::Busy, Column::Known)),
            Err(e) => Err(e),
        }
    }

    async fn record_column(&self, lineitems: &str, video: &VideoId, line_item: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(column_key(lineitems, video)))
            .update_expression("SET #li = :li, #type = :type REMOVE #until")
            .expression_attribute_names("#li", COLUMN_LINE_ITEM)
            .expression_attribute_names("#until", COLUMN_CLAIMED_UNTIL)
            .expression_attribute_names("#type", attrs::TYPE)
            .expression_attribute_values(":li", s(line_item))
            .expression_attribute_values(":type", s("LtiColumn"))
            .send()
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn forget_column(&self, lineitems: &str, video: &VideoId, line_item: &str) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(column_key(lineitems, video)))
            .condition_expression("#li = :li")
            .expression_attribute_names("#li", COLUMN_LINE_ITEM)
            .expression_attribute_values(":li", s(line_item))
            .send()
            .await;
        match deleted.map_err(conditional(Guard::Item)) {
            // Another worker forgot it first, or recorded a new one: nothing to do.
            Ok(_) | Err(StoreError::Condition(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn release_column(&self, lineitems: &str, video: &VideoId) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(column_key(lineitems, video)))
            .condition_expression("attribute_not_exists(#li)")
            .expression_attribute_names("#li", COLUMN_LINE_ITEM)
            .send()
            .await;
        match deleted.map_err(conditional(Guard::Item)) {
            // Recorded meanwhile (another worker, after this claim expired): kept.
            Ok(_) | Err(StoreError::Condition(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
