//! One builder for `UpdateItem` expressions: attributes by name (`#attr`), values by placeholder
//! (`:attr`), `SET`/`ADD`/`REMOVE` clauses and conditions — so no store concatenates expression
//! text or keeps names and values in step by hand.

use std::collections::HashMap;

use aws_sdk_dynamodb::{operation::update_item::builders::UpdateItemFluentBuilder, types::AttributeValue};

use crate::attrs::{DELETING, PK};

/// The item's deletion has not begun: an account's, a space's or a video's tombstone
/// (`attribute_not_exists(deleting)`), named from [`crate::attrs::DELETING`].
pub(crate) fn not_deleting() -> String {
    format!("attribute_not_exists({DELETING})")
}

/// The item is there and its deletion has not begun.
pub(crate) fn exists_not_deleting() -> String {
    format!("attribute_exists({PK}) AND {}", not_deleting())
}

#[derive(Debug, Default)]
pub(crate) struct Changes {
    set: Vec<String>,
    add: Vec<String>,
    remove: Vec<String>,
    conditions: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    fn name(&mut self, attr: &str) -> String {
        let n = format!("#{attr}");
        self.names.insert(n.clone(), attr.to_owned());
        n
    }

    /// `SET attr = :attr`.
    pub fn set(mut self, attr: &str, value: AttributeValue) -> Self {
        let n = self.name(attr);
        self.values.insert(format!(":{attr}"), value);
        self.set.push(format!("{n} = :{attr}"));
        self
    }

    /// `SET attr = :attr` when there is a value.
    pub fn set_some(self, attr: &str, value: Option<AttributeValue>) -> Self {
        match value {
            Some(v) => self.set(attr, v),
            None => self,
        }
    }

    /// `SET attr = attr + :attr_delta` (a counter; the attribute must exist).
    pub fn increment(mut self, attr: &str, delta: i64) -> Self {
        let n = self.name(attr);
        self.values.insert(format!(":{attr}_delta"), AttributeValue::N(delta.to_string()));
        self.set.push(format!("{n} = {n} + :{attr}_delta"));
        self
    }

    /// `ADD attr :attr` (numbers and sets).
    pub fn add(mut self, attr: &str, value: AttributeValue) -> Self {
        let n = self.name(attr);
        self.values.insert(format!(":{attr}"), value);
        self.add.push(format!("{n} :{attr}"));
        self
    }

    /// `REMOVE attr`.
    pub fn remove(mut self, attr: &str) -> Self {
        let n = self.name(attr);
        self.remove.push(n);
        self
    }

    /// A condition, written with `#attr` names and `:placeholder` values bound by
    /// [`Changes::bind`] (every `#attr` used must be bound with [`Changes::named`]).
    pub fn when(mut self, condition: impl Into<String>) -> Self {
        self.conditions.push(condition.into());
        self
    }

    /// Binds an attribute name for a condition.
    pub fn named(mut self, attr: &str) -> Self {
        self.name(attr);
        self
    }

    /// Binds a value placeholder for a condition.
    pub fn bind(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    fn update_expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            parts.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.add.is_empty() {
            parts.push(format!("ADD {}", self.add.join(", ")));
        }
        if !self.remove.is_empty() {
            parts.push(format!("REMOVE {}", self.remove.join(", ")));
        }
        parts.join(" ")
    }

    fn condition_expression(&self) -> Option<String> {
        (!self.conditions.is_empty())
            .then(|| self.conditions.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" AND "))
    }

    /// The expressions on an `UpdateItem` request.
    pub fn apply(self, req: UpdateItemFluentBuilder) -> UpdateItemFluentBuilder {
        req.update_expression(self.update_expression())
            .set_condition_expression(self.condition_expression())
            .set_expression_attribute_names((!self.names.is_empty()).then_some(self.names))
            .set_expression_attribute_values((!self.values.is_empty()).then_some(self.values))
    }

    /// The expressions of a transaction's `Update` item.
    pub fn into_update(
        self,
        table: &str,
        key: HashMap<String, AttributeValue>,
    ) -> Result<aws_sdk_dynamodb::types::Update, aws_sdk_dynamodb::error::BuildError> {
        aws_sdk_dynamodb::types::Update::builder()
            .table_name(table)
            .set_key(Some(key))
            .update_expression(self.update_expression())
            .set_condition_expression(self.condition_expression())
            .set_expression_attribute_names((!self.names.is_empty()).then_some(self.names))
            .set_expression_attribute_values((!self.values.is_empty()).then_some(self.values))
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_names_and_values_stay_in_step() {
        let c = Changes::new()
            .set("name", AttributeValue::S("n".into()))
            .increment("memberCount", 1)
            .add("thumbnails", AttributeValue::Ss(vec!["k".into()]))
            .remove("uploadId")
            .when("attribute_exists(PK)")
            .when("#status = :to")
            .named("status")
            .bind(":to", AttributeValue::S("READY".into()));
        assert_eq!(
            c.update_expression(),
            "SET #name = :name, #memberCount = #memberCount + :memberCount_delta ADD #thumbnails :thumbnails REMOVE #uploadId"
        );
        assert_eq!(c.condition_expression().as_deref(), Some("(attribute_exists(PK)) AND (#status = :to)"));
        assert_eq!(c.names.len(), 5);
        assert_eq!(c.values.len(), 4);
    }
}
