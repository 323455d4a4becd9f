//! The AWS emulator (moto server): DynamoDB, S3, SQS, Secrets Manager and KMS on one loopback
//! port, behind a proxy that keeps its DynamoDB faithful and runs Lambda invocations locally.

pub mod async_invoke;
mod iam;
pub mod index_lag;
mod moto;
mod proxy;
pub mod s3_cors;
pub mod s3_presigned;
mod s3_requests;
mod severable;
mod state;

pub use self::{
    moto::{EmulatorError, Moto, SDK_MAX_ATTEMPTS, emulator_sdk_config, moto_server_path, wait_for},
    proxy::SerialProxy,
    s3_cors::apply_bucket_cors,
    severable::Severable,
};
