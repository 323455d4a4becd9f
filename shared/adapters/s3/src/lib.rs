//! The S3 adapter of [`MediaStore`].

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use aws_sdk_s3::{
    Client,
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
    presigning::PresigningConfig,
    primitives::ByteStream,
    types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier},
};

use vivid_config::{Config, ConfigError, OnDemand};
use vivid_domain::{
    error::{Guard, StoreError},
    media::{Bucket, MediaStore, ObjectInfo, UploadedPart},
};

/// Bucket names of a deployment.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub raw: String,
    pub media: String,
    pub user: String,
}

pub struct S3Media {
    client: Arc<OnDemand<Client>>,
    buckets: Buckets,
}

fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::backend(e)
}

/// S3's error codes that mean "not now" rather than "not this" (throttling, a brief outage).
const RETRYABLE_CODES: &[&str] =
    &["SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException", "Throttling"];

/// Whether a failed call may pass when tried again later: a throttled call (`SlowDown`), a 5xx,
/// a timeout, a connection that failed or broke off (after the SDK's own retries), an answer cut
/// short. Everything else (a refused request, a missing object) is not.
fn is_unavailable<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(f) => !f.is_user(),
        SdkError::ServiceError(s) => {
            let status = s.raw().status();
            status.is_server_error()
                || status.as_u16() == 429
                || s.err().code().is_some_and(|code| RETRYABLE_CODES.contains(&code))
        }
        _ => false,
    }
}

/// A failed S3 call as the store reports it: `Unavailable` when trying again may pass.
fn sdk<E>(e: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let unavailable = is_unavailable(&e);
    let cause = aws_sdk_s3::error::DisplayErrorContext(e).to_string();
    if unavailable { StoreError::unavailable(cause) } else { StoreError::backend(cause) }
}

fn presigning(ttl: Duration) -> Result<PresigningConfig, StoreError> {
    PresigningConfig::expires_in(ttl).map_err(backend)
}

impl S3Media {
    pub fn new(client: Client, buckets: Buckets) -> Self {
        Self::on_demand(OnDemand::ready(client), buckets)
    }

    fn on_demand(client: OnDemand<Client>, buckets: Buckets) -> Self {
        Self { client: Arc::new(client), buckets }
    }

    /// The client and the names of the buckets `uses` lists (`VIVID_RAW_BUCKET`,
    /// `VIVID_MEDIA_BUCKET`, `VIVID_USER_BUCKET`); a listed bucket without a name fails init.
    /// `VIVID_S3_PATH_STYLE=true` addresses buckets by path (the local emulator).
    pub fn from_config(cfg: &Config, uses: &[Bucket]) -> Result<Self, ConfigError> {
        let name = |bucket: Bucket, var: &'static str| {
            if uses.contains(&bucket) { cfg.var(var) } else { Ok(cfg.optional(var).unwrap_or_default()) }
        };
        let buckets = Buckets {
            raw: name(Bucket::Raw, "VIVID_RAW_BUCKET")?,
            media: name(Bucket::Media, "VIVID_MEDIA_BUCKET")?,
            user: name(Bucket::User, "VIVID_USER_BUCKET")?,
        };
        let conf =
            aws_sdk_s3::config::Builder::from(cfg.sdk()?).force_path_style(cfg.flag("VIVID_S3_PATH_STYLE")).build();
        Ok(Self::on_demand(OnDemand::with(move || Client::from_conf(conf.clone())), buckets))
    }
}

#[async_trait]
impl MediaStore for S3Media {
    fn bucket_name(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Raw => &self.buckets.raw,
            Bucket::Media => &self.buckets.media,
            Bucket::User => &self.buckets.user,
        }
    }

    async fn presign_put(
        &self,
        bucket: Bucket,
        key: &str,
        content_type: &str,
        content_length: u64,
        ttl: Duration,
    ) -> Result<String, StoreError> {
        let req = self
            .client
            .get()
            .put_object()
            .bucket(self.bucket_name(bucket))
            .key(key)
            .content_type(content_type)
            .content_length(i64::try_from(content_length).map_err(backend)?)
            // Once: the URL cannot overwrite what it (or anything) already put there.
            .if_none_match("*")
            .presigned(presigning(ttl)?)
            .await
            .map_err(sdk)?;
        Ok(req.uri().to_owned())
    }

    async fn presign_get(&self, bucket: Bucket, key: &str, ttl: Duration) -> Result<String, StoreError> {
        let req = self
            .client
            .get()
            .get_object()
            .bucket(self.bucket_name(bucket))
            .key(key)
            .presigned(presigning(ttl)?)
            .await
            .map_err(sdk)?;
        Ok(req.uri().to_owned())
    }

    async fn create_multipart(&self, key: &str, content_type: &str) -> Result<String, StoreError> {
        let resp = self
            .client
            .get()
            .create_multipart_upload()
            .bucket(&self.buckets.raw)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(sdk)?;
        resp.upload_id.ok_or_else(|| StoreError::backend("CreateMultipartUpload returned no upload id"))
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part: u32,
        content_length: u64,
        ttl: Duration,
    ) -> Result<String, StoreError> {
        let part = i32::try_from(part).map_err(backend)?;
        let req = self
            .client
            .get()
            .upload_part()
            .bucket(&self.buckets.raw)
            .key(key)
            .upload_id(upload_id)
            .part_number(part)
            // Signed: S3 refuses a part of another length (a part URL is no 5 GiB allowance).
            .content_length(i64::try_from(content_length).map_err(backend)?)
            .presigned(presigning(ttl)?)
            .await
            .map_err(sdk)?;
        Ok(req.uri().to_owned())
    }

    async fn upload_part(&self, key: &str, upload_id: &str, part: u32, body: Vec<u8>) -> Result<String, StoreError> {
        let out = self
            .client
            .get()
            .upload_part()
            .bucket(&self.buckets.raw)
            .key(key)
            .upload_id(upload_id)
            .part_number(i32::try_from(part).map_err(backend)?)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(sdk)?;
        out.e_tag.ok_or_else(|| StoreError::backend("UploadPart returned no ETag"))
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[(u32, String)]) -> Result<(), StoreError> {
        let completed = parts
            .iter()
            .map(|(n, etag)| {
                Ok(CompletedPart::builder().part_number(i32::try_from(*n).map_err(backend)?).e_tag(etag).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let result = self
            .client
            .get()
            .complete_multipart_upload()
            .bucket(&self.buckets.raw)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if !is_unavailable(&e) && e.raw_response().is_some_and(|r| r.status().is_client_error()) => {
                Err(StoreError::Condition(Guard::Upload))
            }
            Err(e) => Err(sdk(e)),
        }
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError> {
        match self
            .client
            .get()
            .abort_multipart_upload()
            .bucket(&self.buckets.raw)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Already gone: aborting is idempotent.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(()),
            Err(e) => Err(sdk(e)),
        }
    }

    async fn uploaded_parts(&self, key: &str, upload_id: &str) -> Result<Vec<UploadedPart>, StoreError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let result = self
                .client
                .get()
                .list_parts()
                .bucket(&self.buckets.raw)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.take())
                .send()
                .await;
            let out = match result {
                Ok(out) => out,
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                    return Err(StoreError::Condition(Guard::Upload));
                }
                Err(e) => return Err(sdk(e)),
            };
            for p in out.parts() {
                parts.push(UploadedPart {
                    part_number: p.part_number.and_then(|n| u32::try_from(n).ok()).unwrap_or_default(),
                    etag: p.e_tag.clone().unwrap_or_default(),
                    size: p.size.and_then(|s| u64::try_from(s).ok()).unwrap_or_default(),
                });
            }
            match out.next_part_number_marker.filter(|_| out.is_truncated == Some(true)) {
                Some(next) => marker = Some(next),
                None => return Ok(parts),
            }
        }
    }

    async fn head(&self, bucket: Bucket, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        match self.client.get().head_object().bucket(self.bucket_name(bucket)).key(key).send().await {
            Ok(out) => Ok(Some(ObjectInfo {
                size: u64::try_from(out.content_length.unwrap_or_default()).unwrap_or_default(),
                content_type: out.content_type,
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(sdk(e)),
        }
    }

    async fn put(&self, bucket: Bucket, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .get()
            .put_object()
            .bucket(self.bucket_name(bucket))
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(sdk)?;
        Ok(())
    }

    async fn get(&self, bucket: Bucket, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.client.get().get_object().bucket(self.bucket_name(bucket)).key(key).send().await {
            // A body that breaks off is a connection that failed: trying again may pass.
            Ok(out) => Ok(Some(out.body.collect().await.map_err(StoreError::unavailable)?.into_bytes().to_vec())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(sdk(e)),
        }
    }

    async fn delete(&self, bucket: Bucket, key: &str) -> Result<(), StoreError> {
        self.client.get().delete_object().bucket(self.bucket_name(bucket)).key(key).send().await.map_err(sdk)?;
        Ok(())
    }

    async fn delete_prefix(&self, bucket: Bucket, prefix: &str) -> Result<(), StoreError> {
        let name = self.bucket_name(bucket).to_owned();
        let mut token = None;
        loop {
            let page = self
                .client
                .get()
                .list_objects_v2()
                .bucket(&name)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(sdk)?;
            let ids = page
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .map(|k| ObjectIdentifier::builder().key(k).build().map_err(backend))
                .collect::<Result<Vec<_>, _>>()?;
            if !ids.is_empty() {
                let delete = Delete::builder().set_objects(Some(ids)).quiet(true).build().map_err(backend)?;
                let out = self.client.get().delete_objects().bucket(&name).delete(delete).send().await.map_err(sdk)?;
                // S3 answers 200 and lists the keys it could not delete: they are still there.
                if let Some(failed) = out.errors().first() {
                    let code = failed.code().unwrap_or_default();
                    let cause = format!(
                        "DeleteObjects left {} of the keys under {prefix} (first: {} {code})",
                        out.errors().len(),
                        failed.key().unwrap_or_default(),
                    );
                    return Err(if RETRYABLE_CODES.contains(&code) {
                        StoreError::unavailable(cause)
                    } else {
                        StoreError::backend(cause)
                    });
                }
            }
            match page.next_continuation_token {
                Some(t) if page.is_truncated == Some(true) => token = Some(t),
                _ => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::{
        error::{ConnectorError, ErrorMetadata},
        operation::{head_object::HeadObjectError, put_object::PutObjectError},
    };

    use super::*;

    fn service_error(status: u16, code: &str) -> SdkError<PutObjectError, HttpResponse> {
        let status = status.try_into().expect("status");
        let err = PutObjectError::generic(ErrorMetadata::builder().code(code).build());
        SdkError::service_error(err, HttpResponse::new(status, "".into()))
    }

    #[test]
    fn slow_down_5xx_timeouts_and_broken_connections_are_unavailable() {
        assert!(sdk(service_error(503, "SlowDown")).is_unavailable());
        assert!(sdk(service_error(500, "InternalError")).is_unavailable());
        assert!(sdk(SdkError::<HeadObjectError, HttpResponse>::timeout_error("slow")).is_unavailable());
        let reset = ConnectorError::io("connection reset".into());
        assert!(sdk(SdkError::<HeadObjectError, HttpResponse>::dispatch_failure(reset)).is_unavailable());
        assert!(!sdk(service_error(403, "AccessDenied")).is_unavailable());
        assert!(!sdk(service_error(412, "PreconditionFailed")).is_unavailable());
    }
}
