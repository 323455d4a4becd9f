//! Objects and multipart uploads (S3), transcoding jobs (MediaConvert), playback grants (the
//! CDN's signer) and the deletion worker's start (Lambda), in memory.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    time::Duration,
};

use async_trait::async_trait;
use vivid_domain::{
    deletion::{Deletion, DeletionInvoker},
    error::{Guard, StoreError},
    imports::InvokeError,
    lti::grades::{GradeInvoker, GradeJob},
    media::{Bucket, MediaStore, ObjectInfo, UploadedPart},
    playback::{Grant, Playback, PlaybackSigner, SignError},
    transcode::{SourceProbe, TranscodeError, Transcoder},
    types::VideoId,
    video::{MediaOutputs, layout},
};

use super::{Asked, Job, MEDIA_BUCKET, Memory, Object, RAW_BUCKET, USER_BUCKET, Upload, failed, slot};

/// Where the grants' URLs point (nothing answers there).
pub const PLAYBACK_BASE: &str = "https://media.memory.test";

/// S3's smallest part but the last.
const MIN_PART: usize = 5 * 1024 * 1024;

fn etag(part: u32, body: &[u8]) -> String {
    let mut h = DefaultHasher::new();
    (part, body).hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

fn url(bucket: &str, key: &str, query: &str) -> String {
    format!("https://{bucket}.s3.memory.test/{key}?{query}")
}

#[async_trait]
impl MediaStore for Memory {
    fn bucket_name(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Raw => RAW_BUCKET,
            Bucket::Media => MEDIA_BUCKET,
            Bucket::User => USER_BUCKET,
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
        let query = format!(
            "X-Method=PUT&X-Content-Type={}&X-Content-Length={content_length}&X-Expires={}",
            crate::form_encode(content_type),
            ttl.as_secs()
        );
        Ok(url(self.bucket_name(bucket), key, &query))
    }

    async fn presign_get(&self, bucket: Bucket, key: &str, ttl: Duration) -> Result<String, StoreError> {
        Ok(url(self.bucket_name(bucket), key, &format!("X-Method=GET&X-Expires={}", ttl.as_secs())))
    }

    async fn create_multipart(&self, key: &str, content_type: &str) -> Result<String, StoreError> {
        let mut w = self.world();
        let id = w.fresh_id("upload");
        let upload = Upload { key: key.to_owned(), content_type: content_type.to_owned(), parts: Default::default() };
        w.uploads.insert(id.clone(), upload);
        Ok(id)
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part: u32,
        content_length: u64,
        ttl: Duration,
    ) -> Result<String, StoreError> {
        let query = format!(
            "X-Method=PUT&partNumber={part}&uploadId={upload_id}&X-Content-Length={content_length}&X-Expires={}",
            ttl.as_secs()
        );
        Ok(url(RAW_BUCKET, key, &query))
    }

    /// `Condition(Upload)` when there is no such upload (S3's `NoSuchUpload`).
    async fn upload_part(&self, key: &str, upload_id: &str, part: u32, body: Vec<u8>) -> Result<String, StoreError> {
        let mut w = self.world();
        let Some(upload) = w.uploads.get_mut(upload_id).filter(|u| u.key == key) else {
            return failed(Guard::Upload);
        };
        let tag = etag(part, &body);
        upload.parts.insert(part, (tag.clone(), body));
        Ok(tag)
    }

    /// As S3: every part given must be there with its ETag, in ascending order, and every part
    /// but the last at least 5 MiB; the object is the parts' bytes in order.
    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[(u32, String)]) -> Result<(), StoreError> {
        let mut w = self.world();
        let Some(upload) = w.uploads.get(upload_id).filter(|u| u.key == key) else { return failed(Guard::Upload) };
        let ascending = parts.windows(2).all(|p| p[0].0 < p[1].0);
        let mut body = Vec::new();
        for (i, (number, tag)) in parts.iter().enumerate() {
            let Some((stored, bytes)) = upload.parts.get(number) else { return failed(Guard::Upload) };
            if stored.trim_matches('"') != tag.trim_matches('"') || (i + 1 < parts.len() && bytes.len() < MIN_PART) {
                return failed(Guard::Upload);
            }
            body.extend_from_slice(bytes);
        }
        if parts.is_empty() || !ascending {
            return failed(Guard::Upload);
        }
        let content_type = Some(upload.content_type.clone());
        w.uploads.remove(upload_id);
        w.objects.insert((slot(Bucket::Raw), key.to_owned()), Object { content_type, body });
        Ok(())
    }

    async fn abort_multipart(&self, _: &str, upload_id: &str) -> Result<(), StoreError> {
        self.world().uploads.remove(upload_id);
        Ok(())
    }

    async fn uploaded_parts(&self, key: &str, upload_id: &str) -> Result<Vec<UploadedPart>, StoreError> {
        let w = self.world();
        let Some(upload) = w.uploads.get(upload_id).filter(|u| u.key == key) else { return failed(Guard::Upload) };
        Ok(upload
            .parts
            .iter()
            .map(|(n, (etag, body))| UploadedPart {
                part_number: *n,
                etag: etag.clone(),
                size: u64::try_from(body.len()).unwrap_or(u64::MAX),
            })
            .collect())
    }

    async fn head(&self, bucket: Bucket, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.note(Asked::Head(bucket, key.to_owned()));
        let w = self.world();
        Ok(w.objects.get(&(slot(bucket), key.to_owned())).map(|o| ObjectInfo {
            size: u64::try_from(o.body.len()).unwrap_or(u64::MAX),
            content_type: o.content_type.clone(),
        }))
    }

    async fn put(&self, bucket: Bucket, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), StoreError> {
        let object = Object { content_type: Some(content_type.to_owned()), body };
        self.world().objects.insert((slot(bucket), key.to_owned()), object);
        Ok(())
    }

    async fn get(&self, bucket: Bucket, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.world().objects.get(&(slot(bucket), key.to_owned())).map(|o| o.body.clone()))
    }

    async fn delete(&self, bucket: Bucket, key: &str) -> Result<(), StoreError> {
        self.note(Asked::Delete(bucket, key.to_owned()));
        self.world().objects.remove(&(slot(bucket), key.to_owned()));
        Ok(())
    }

    async fn delete_prefix(&self, bucket: Bucket, prefix: &str) -> Result<(), StoreError> {
        self.note(Asked::DeletePrefix(bucket, prefix.to_owned()));
        let b = slot(bucket);
        self.world().objects.retain(|(ob, key), _| *ob != b || !key.starts_with(prefix));
        Ok(())
    }
}

/// A job per video: its length is what [`Memory::set_probe`] says (a minute unless told), as long
/// as the video's raw object is there.
#[async_trait]
impl Transcoder for Memory {
    async fn probe(&self, video: &VideoId, _: &str) -> Result<SourceProbe, TranscodeError> {
        let w = self.world();
        if !w.objects.contains_key(&(slot(Bucket::Raw), layout::raw(video))) {
            return Err(TranscodeError::Backend("the source is not in the raw bucket".into()));
        }
        Ok(SourceProbe { duration_seconds: w.probe })
    }

    async fn submit(&self, video: &VideoId, _: &str, _: &str, _: u64) -> Result<String, TranscodeError> {
        self.note(Asked::Submit(video.clone()));
        let mut w = self.world();
        if let Some((id, _)) = w.jobs.iter().find(|(_, j)| j.video == *video && j.running) {
            return Ok(id.clone());
        }
        let id = w.fresh_id("job");
        w.jobs.insert(id.clone(), Job { video: video.clone(), running: true });
        Ok(id)
    }

    async fn cancel(&self, job_id: &str) -> Result<bool, TranscodeError> {
        self.note(Asked::Cancel(job_id.to_owned()));
        let mut w = self.world();
        Ok(w.jobs.get_mut(job_id).filter(|j| j.running).map(|j| j.running = false).is_some())
    }
}

/// Grants as the CDN signer shapes them, under [`PLAYBACK_BASE`], with a query that signs nothing.
#[async_trait]
impl PlaybackSigner for Memory {
    async fn sign(
        &self,
        video: &VideoId,
        outputs: &MediaOutputs,
        now: u64,
        lifetime: Duration,
    ) -> Result<Playback, SignError> {
        let expires_at = now + lifetime.as_secs();
        let signed_query = format!("Expires={expires_at}&Signature=memory");
        let url = |key: &str| format!("{PLAYBACK_BASE}/{key}?{signed_query}");
        let cookies = vec![("Memory-Grant".into(), expires_at.to_string())];
        Ok(Playback::granted(
            video,
            outputs,
            Grant { url, signed_query: signed_query.clone(), cookies, expires_at, lifetime },
        ))
    }
}

/// The worker is not run: its jobs are kept ([`Memory::deletions`]).
#[async_trait]
impl DeletionInvoker for Memory {
    async fn start(&self, job: &Deletion) -> Result<(), InvokeError> {
        self.world().deletions.push(job.clone());
        Ok(())
    }
}

/// The grade worker is not run: its jobs are kept ([`Memory::grade_jobs`]).
#[async_trait]
impl GradeInvoker for Memory {
    async fn start(&self, job: &GradeJob) -> Result<(), InvokeError> {
        self.world().grade_jobs.push(job.clone());
        Ok(())
    }
}
