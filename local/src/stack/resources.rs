//! What a deployment creates and binds, as plain functions: keys and secrets, the table and
//! buckets, each function's SDK identity, and the template's routes bound to their handlers.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::Buckets;
use crate::{
    error::StackError,
    functions::HTTP_FUNCTIONS,
    infra::{
        gateway::BoundRoute,
        template::{TableDef, Template},
    },
};

/// A fresh ES256 key pair for the local issuer (PKCS#8 private PEM, SPKI public PEM) and its id.
pub struct DevKeys {
    pub kid: String,
    pub private_pem: String,
    pub public_pem: String,
}

impl DevKeys {
    pub fn generate(kid: &str) -> Result<Self, StackError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| StackError::Config(e.to_string()))?;
        Ok(Self { kid: kid.to_owned(), private_pem: pair.serialize_pem(), public_pem: pair.public_key_pem() })
    }
}

/// Creates a secret in the emulator; its ARN.
pub(super) async fn create_secret(sdk: &aws_config::SdkConfig, name: &str, value: &str) -> Result<String, StackError> {
    aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| {
            StackError::Config(format!("secret {name}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
        })?
        .arn
        .ok_or_else(|| StackError::Config(format!("secret {name}: no ARN")))
}

pub(super) fn random_text() -> Result<String, StackError> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| StackError::Config(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Every template route bound to its function's handler; fails when a route has no function
/// or a function has no route.
pub fn bind_routes(
    template: &Template,
    wired: &HashMap<String, Arc<dyn vivid_edge::Handler>>,
) -> Result<Vec<BoundRoute>, StackError> {
    let routes = template.routes()?;
    for f in HTTP_FUNCTIONS {
        if !routes.iter().any(|r| r.function == f.name) {
            return Err(StackError::NoRoute(f.name.to_owned()));
        }
    }
    routes
        .into_iter()
        .map(|r| {
            let handler = wired
                .get(&r.function)
                .cloned()
                .ok_or_else(|| StackError::NoHandler { route: r.key(), function: r.function.clone() })?;
            Ok(BoundRoute { handler, route: r })
        })
        .collect()
}

/// Creates the template's table under `name` (replacing nothing: an existing table is kept).
pub async fn create_table(client: &aws_sdk_dynamodb::Client, def: &TableDef, name: &str) -> Result<(), StackError> {
    let err = |e: &dyn std::fmt::Display| StackError::Table(e.to_string());
    let key = |k: &crate::infra::template::KeyDef| {
        KeySchemaElement::builder()
            .attribute_name(&k.name)
            .key_type(KeyType::from(k.kind.as_str()))
            .build()
            .map_err(|e| err(&e))
    };
    let mut req = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    for (attr, kind) in &def.attributes {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(|e| err(&e))?,
        );
    }
    for k in &def.keys {
        req = req.key_schema(key(k)?);
    }
    for index in &def.indexes {
        let mut gsi = GlobalSecondaryIndex::builder().index_name(&index.name).projection(
            Projection::builder()
                .projection_type(ProjectionType::from(index.projection.as_str()))
                .set_non_key_attributes(
                    (!index.non_key_attributes.is_empty()).then(|| index.non_key_attributes.clone()),
                )
                .build(),
        );
        for k in &index.keys {
            gsi = gsi.key_schema(key(k)?);
        }
        req = req.global_secondary_indexes(gsi.build().map_err(|e| err(&e))?);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
        Err(e) => return Err(err(&aws_sdk_dynamodb::error::DisplayErrorContext(e))),
    }
    if let Some(attr) = &def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name(attr).enabled(true).build().map_err(|e| err(&e))?,
            )
            .send()
            .await
            .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    Ok(())
}

/// The repository root, for the binary (its working directory or above) and the tests.
pub fn find_repo_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join("template.yaml").is_file()).map(Path::to_path_buf)
}

/// Creates the three buckets in the emulator (an existing one is kept).
pub async fn create_buckets(sdk: &aws_config::SdkConfig, buckets: &Buckets) -> Result<(), StackError> {
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
    for name in [&buckets.raw, &buckets.media, &buckets.user] {
        match s3.create_bucket().bucket(name).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
            Err(e) => {
                return Err(StackError::Config(format!(
                    "bucket {name}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )));
            }
        }
    }
    Ok(())
}

/// The SDK configuration of one function: the stack's, signing with the function's own access
/// key, so that the emulator proxy knows whose call it is (see [`crate::infra::grants`]).
pub fn function_sdk(sdk: &aws_config::SdkConfig, function: &str) -> aws_config::SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new(
        crate::infra::grants::access_key(function),
        crate::infra::grants::FUNCTION_SECRET,
        None,
        None,
        "vivid-local",
    );
    sdk.to_builder().credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(credentials)).build()
}
