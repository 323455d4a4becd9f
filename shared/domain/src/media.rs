//! The object-storage port: presigned uploads and downloads, multipart, inspection, deletion.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreError;

/// The buckets of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Uploads as they arrive (`raw/{videoId}`).
    Raw,
    /// Converted media (`media/{videoId}/...`), served through CloudFront.
    Media,
    /// Per-user content: snapshots, large drawings.
    User,
}

/// What `HeadObject` tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: Option<String>,
}

/// A part S3 has of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    pub part_number: u32,
    pub etag: String,
    pub size: u64,
}

/// The headers a presigned PUT must be sent with besides `Content-Type` (`Content-Length` is
/// what the browser sends for the body).
pub const PUT_ONCE_HEADERS: [(&str, &str); 1] = [("if-none-match", "*")];

#[async_trait]
pub trait MediaStore: Send + Sync {
    fn bucket_name(&self, bucket: Bucket) -> &str;
    /// A presigned PUT of exactly `content_length` bytes that creates the object once:
    /// `Content-Length`, `Content-Type` and `If-None-Match: *` are signed, so the storage refuses
    /// a body of another size or type and any second use of the URL ([`PUT_ONCE_HEADERS`]).
    async fn presign_put(
        &self,
        bucket: Bucket,
        key: &str,
        content_type: &str,
        content_length: u64,
        ttl: Duration,
    ) -> Result<String, StoreError>;
    async fn presign_get(&self, bucket: Bucket, key: &str, ttl: Duration) -> Result<String, StoreError>;
    /// Starts a multipart upload to the raw bucket; returns its upload id.
    async fn create_multipart(&self, key: &str, content_type: &str) -> Result<String, StoreError>;
    /// A presigned `UploadPart` of exactly `content_length` bytes (see
    /// [`crate::video::part_length`]): `Content-Length` is signed, so S3 refuses a part of
    /// another length (403 `SignatureDoesNotMatch`).
    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part: u32,
        content_length: u64,
        ttl: Duration,
    ) -> Result<String, StoreError>;
    /// Uploads one part of a multipart upload to the raw bucket; returns its ETag.
    async fn upload_part(&self, key: &str, upload_id: &str, part: u32, body: Vec<u8>) -> Result<String, StoreError>;
    /// `Condition(Upload)` when S3 refuses the parts (unknown upload, wrong ETag, too small).
    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[(u32, String)]) -> Result<(), StoreError>;
    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError>;
    /// The parts S3 already has of a multipart upload to the raw bucket; `Condition(Upload)` when
    /// the upload is gone.
    async fn uploaded_parts(&self, key: &str, upload_id: &str) -> Result<Vec<UploadedPart>, StoreError>;
    async fn head(&self, bucket: Bucket, key: &str) -> Result<Option<ObjectInfo>, StoreError>;
    async fn put(&self, bucket: Bucket, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), StoreError>;
    async fn get(&self, bucket: Bucket, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn delete(&self, bucket: Bucket, key: &str) -> Result<(), StoreError>;
    /// Deletes every object under `prefix`.
    async fn delete_prefix(&self, bucket: Bucket, prefix: &str) -> Result<(), StoreError>;
}
