//! Caption tracks on the video item: a map `captions` keyed by language (document paths
//! `captions.#lang`), `captionsVersion` raised by every change, and `captionedMaster` set only
//! for the version it was made for (so of two concurrent changes the later one's master stands).

use async_trait::async_trait;
use aws_sdk_dynamodb::{operation::update_item::builders::UpdateItemFluentBuilder, types::ReturnValue};
use vivid_domain::{
    captions::{CaptionTrack, Lang, MAX_TRACKS},
    error::{Guard, StoreError},
    types::VideoId,
    video::{CaptionStore, Video},
};

use crate::{
    attrs,
    expr::Changes,
    keys,
    table::{Table, backend, condition_held, conditional, from_item, key, n, s},
};

impl Table {
    pub(crate) fn video_update(&self, id: &VideoId) -> UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table).set_key(Some(key(keys::video(id), keys::META)))
    }

    pub(crate) async fn put_caption_track(&self, id: &VideoId, track: &CaptionTrack) -> Result<Video, StoreError> {
        let value: aws_sdk_dynamodb::types::AttributeValue =
            serde_dynamo::to_attribute_value(track).map_err(backend)?;
        // Into the existing map (a new language only while below the limit)…
        let into_map = self
            .video_update(id)
            .update_expression(
                "SET captions.#lang = :track, captionsVersion = if_not_exists(captionsVersion, :zero) + :one",
            )
            .condition_expression(
                "attribute_exists(PK) AND attribute_exists(captions) AND (attribute_exists(captions.#lang) OR size(captions) < :max)",
            )
            .expression_attribute_names("#lang", track.lang.as_str())
            .expression_attribute_values(":track", value.clone())
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(MAX_TRACKS))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(conditional(Guard::Item));
        match into_map {
            Ok(out) => return from_item(out.attributes.unwrap_or_default()),
            Err(StoreError::Condition(_)) => {}
            Err(e) => return Err(e),
        }
        // …or the video's first track.
        let first = self
            .video_update(id)
            .update_expression("SET captions = :map, captionsVersion = if_not_exists(captionsVersion, :zero) + :one")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(captions)")
            .expression_attribute_values(
                ":map",
                aws_sdk_dynamodb::types::AttributeValue::M([(track.lang.to_string(), value)].into_iter().collect()),
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(conditional(Guard::Item));
        match first {
            Ok(out) => from_item(out.attributes.unwrap_or_default()),
            Err(StoreError::Condition(_)) => match self.get::<Video>(keys::video(id), keys::META).await? {
                None => Err(StoreError::Condition(Guard::Video)),
                // A map that appeared meanwhile (a concurrent first track) takes this one next
                // time; a full one refuses it.
                Some(v) if v.outputs.captions.len() >= MAX_TRACKS && !v.outputs.captions.contains_key(&track.lang) => {
                    Err(StoreError::Condition(Guard::Item))
                }
                Some(_) => Box::pin(self.put_caption_track(id, track)).await,
            },
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn remove_caption_track(&self, id: &VideoId, lang: &Lang) -> Result<Option<Video>, StoreError> {
        let resp = self
            .video_update(id)
            .update_expression("REMOVE captions.#lang SET captionsVersion = captionsVersion + :one")
            .condition_expression("attribute_exists(captions.#lang)")
            .expression_attribute_names("#lang", lang.as_str())
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(conditional(Guard::Item));
        match resp {
            Ok(out) => from_item(out.attributes.unwrap_or_default()).map(Some),
            Err(StoreError::Condition(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn set_captioned_master_of(
        &self,
        id: &VideoId,
        version: u32,
        master: Option<&str>,
    ) -> Result<bool, StoreError> {
        let req = self
            .video_update(id)
            .condition_expression("captionsVersion = :version")
            .expression_attribute_values(":version", n(version));
        let req = match master {
            Some(k) => {
                req.update_expression("SET captionedMaster = :master").expression_attribute_values(":master", s(k))
            }
            None => req.update_expression("REMOVE captionedMaster"),
        };
        match req.send().await.map_err(conditional(Guard::Item)) {
            Ok(_) => Ok(true),
            Err(StoreError::Condition(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl CaptionStore for Table {
    async fn put_caption(
        &self,
        id: &VideoId,
        track: &vivid_domain::captions::CaptionTrack,
    ) -> Result<Video, StoreError> {
        self.put_caption_track(id, track).await
    }

    async fn remove_caption(
        &self,
        id: &VideoId,
        lang: &vivid_domain::captions::Lang,
    ) -> Result<Option<Video>, StoreError> {
        self.remove_caption_track(id, lang).await
    }

    async fn set_captioned_master(&self, id: &VideoId, version: u32, key: Option<&str>) -> Result<bool, StoreError> {
        self.set_captioned_master_of(id, version, key).await
    }

    async fn set_transcript(
        &self,
        id: &VideoId,
        state: &vivid_domain::transcripts::TranscriptState,
        first: bool,
    ) -> Result<bool, StoreError> {
        let mut changes = Changes::new()
            .set(attrs::TRANSCRIPT, serde_dynamo::to_attribute_value(state).map_err(backend)?)
            .when("attribute_exists(PK)");
        if first {
            changes = changes.when("attribute_not_exists(#transcript)");
        }
        let req = self.client.update_item().table_name(&self.table).set_key(Some(key(keys::video(id), keys::META)));
        condition_held(changes.apply(req).send().await)
    }
}
