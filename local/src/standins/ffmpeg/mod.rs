//! Runs a MediaConvert job's settings with ffmpeg: the HLS renditions (master, variant playlists,
//! segments), MP4 files and frame captures, written to the emulator's media bucket under the
//! settings' destinations, with the job-state events MediaConvert sends. Settings it does not
//! support fail the job loudly (an `ERROR` event naming the setting), never silently.

use std::path::Path;

use serde_json::{Value, json};
use tokio::sync::mpsc;

mod probe;
pub use probe::{Probe, probe, probe_container};
mod encode;
mod groups;

pub use self::encode::dimensions;
use self::encode::{clip_end, ffmpeg};

/// Why a job failed: MediaConvert's error code and message.
#[derive(Debug)]
pub struct JobFailure {
    pub code: u32,
    pub message: String,
}

fn unsupported(what: impl Into<String>) -> JobFailure {
    JobFailure { code: 1030, message: format!("unsupported setting for the local stand-in: {}", what.into()) }
}

fn s3_parts(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    Some((bucket.to_owned(), key.to_owned()))
}

/// Where a destination's files go: `s3://bucket/dir/base` → (bucket, `dir/`, `base`).
fn destination(dest: &str) -> Result<(String, String, String), JobFailure> {
    let (bucket, key) = s3_parts(dest).ok_or_else(|| unsupported(format!("destination {dest}")))?;
    let (dir, base) =
        key.rsplit_once('/').map(|(d, b)| (format!("{d}/"), b.to_owned())).unwrap_or((String::new(), key));
    Ok((bucket, dir, base))
}

/// Runs the job; sends its events through `emit`; returns the final status.
pub struct Runner {
    pub s3: aws_sdk_s3::Client,
    pub emit: mpsc::UnboundedSender<Value>,
}

impl Runner {
    fn event(&self, job_id: &str, body: &Value, detail: Value) -> Value {
        let mut detail = detail;
        if let Some(obj) = detail.as_object_mut() {
            obj.insert("timestamp".into(), json!(vivid_domain::types::unix_now() * 1000));
            obj.insert("accountId".into(), json!("000000000000"));
            obj.insert("queue".into(), json!("arn:aws:mediaconvert:us-east-1:000000000000:queues/Default"));
            obj.insert("jobId".into(), json!(job_id));
            obj.insert("userMetadata".into(), body.get("userMetadata").cloned().unwrap_or_else(|| json!({})));
        }
        json!({
            "version": "0",
            "id": ulid::Ulid::new().to_string(),
            "detail-type": "MediaConvert Job State Change",
            "source": "aws.mediaconvert",
            "account": "000000000000",
            "time": vivid_domain::types::now_rfc3339(),
            "region": "us-east-1",
            "resources": [format!("arn:aws:mediaconvert:us-east-1:000000000000:jobs/{job_id}")],
            "detail": detail,
        })
    }

    /// Runs the job to its end and returns `COMPLETE` or `ERROR`.
    pub async fn run(&self, job_id: &str, body: &Value) -> &'static str {
        let _ = self.emit.send(self.event(job_id, body, json!({ "status": "PROGRESSING" })));
        let work = std::env::temp_dir().join(format!("vivid-job-{job_id}"));
        let result = self.transcode(job_id, body, &work).await;
        let _ = tokio::fs::remove_dir_all(&work).await;
        match result {
            Ok(groups) => {
                let _ = self.emit.send(self.event(
                    job_id,
                    body,
                    json!({ "status": "COMPLETE", "outputGroupDetails": groups }),
                ));
                "COMPLETE"
            }
            Err(f) => {
                tracing::warn!(job_id, code = f.code, message = f.message, "job failed");
                let _ = self.emit.send(self.event(
                    job_id,
                    body,
                    json!({ "status": "ERROR", "errorCode": f.code, "errorMessage": f.message }),
                ));
                "ERROR"
            }
        }
    }

    fn progress(&self, job_id: &str, body: &Value, percent: u64) {
        let detail = json!({
            "status": "STATUS_UPDATE",
            "jobProgress": { "jobPercentComplete": percent, "currentPhase": "TRANSCODING", "retryCount": 0 },
        });
        let _ = self.emit.send(self.event(job_id, body, detail));
    }

    async fn transcode(&self, job_id: &str, body: &Value, work: &Path) -> Result<Vec<Value>, JobFailure> {
        let settings = &body["settings"];
        let inputs = settings["inputs"].as_array().cloned().unwrap_or_default();
        if inputs.len() != 1 {
            return Err(unsupported(format!("{} inputs (one is supported)", inputs.len())));
        }
        let groups = settings["outputGroups"].as_array().cloned().unwrap_or_default();
        // Check every setting before any work.
        for (i, g) in groups.iter().enumerate() {
            match g["outputGroupSettings"]["type"].as_str() {
                Some("HLS_GROUP_SETTINGS") | Some("FILE_GROUP_SETTINGS") => {}
                other => return Err(unsupported(format!("outputGroups[{i}].type = {other:?}"))),
            }
        }
        let (bucket, key) = inputs[0]["fileInput"]
            .as_str()
            .and_then(s3_parts)
            .ok_or_else(|| unsupported("inputs[0].fileInput (an s3:// URI is supported)"))?;
        tokio::fs::create_dir_all(work).await.map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
        let input = work.join("input");
        let object = self.s3.get_object().bucket(&bucket).key(&key).send().await.map_err(|e| JobFailure {
            code: 1020,
            message: format!("cannot read {bucket}/{key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)),
        })?;
        let bytes =
            object.body.collect().await.map_err(|e| JobFailure { code: 1020, message: e.to_string() })?.into_bytes();
        tokio::fs::write(&input, &bytes).await.map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
        let probe = probe(&input).await?;
        let uri = format!("s3://{bucket}/{key}");
        let info = json!({ "status": "INPUT_INFORMATION", "inputDetails": probe.input_details(&uri) });
        let _ = self.emit.send(self.event(job_id, body, info));
        let (input, probe) = match clip_end(&inputs[0], probe.fps)? {
            // Longer than the clipping, or of a length its container does not state.
            Some(end) if probe.duration_ms == 0 || probe.duration_ms as f64 > end * 1000.0 => {
                let clipped = work.join("clipped.mkv");
                ffmpeg(vec![
                    "-i".into(),
                    input.display().to_string(),
                    "-t".into(),
                    format!("{end:.3}"),
                    "-map".into(),
                    "0".into(),
                    "-c".into(),
                    "copy".into(),
                    clipped.display().to_string(),
                ])
                .await?;
                let probe = self::probe(&clipped).await?;
                (clipped, probe)
            }
            _ => (input, probe),
        };
        self.progress(job_id, body, 5);
        let mut details = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let out = work.join(format!("group{i}"));
            tokio::fs::create_dir_all(&out).await.map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
            let detail = match g["outputGroupSettings"]["type"].as_str() {
                Some("HLS_GROUP_SETTINGS") => self.hls(g, i, &input, &out, &probe).await?,
                _ => self.file_group(g, i, &input, &out, &probe).await?,
            };
            details.push(detail);
            self.progress(job_id, body, 5 + 90 * (i as u64 + 1) / groups.len().max(1) as u64);
        }
        Ok(details)
    }

    async fn upload_dir(&self, dir: &Path, bucket: &str, prefix: &str) -> Result<Vec<String>, JobFailure> {
        let mut names = Vec::new();
        let mut entries =
            tokio::fs::read_dir(dir).await.map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
        while let Ok(Some(entry)) = entries.next_entry().await {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        // Playlists last, as MediaConvert writes them after their segments.
        names.sort_by_key(|n| n.ends_with(".m3u8"));
        for name in &names {
            let content_type = match name.rsplit('.').next() {
                Some("m3u8") => "application/vnd.apple.mpegurl",
                Some("ts") => "video/mp2t",
                Some("mp4") => "video/mp4",
                Some("jpg") => "image/jpeg",
                _ => "application/octet-stream",
            };
            let body = aws_sdk_s3::primitives::ByteStream::from_path(dir.join(name))
                .await
                .map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
            self.s3
                .put_object()
                .bucket(bucket)
                .key(format!("{prefix}{name}"))
                .content_type(content_type)
                .body(body)
                .send()
                .await
                .map_err(|e| JobFailure {
                    code: 1401,
                    message: format!("cannot write the output: {}", aws_sdk_s3::error::DisplayErrorContext(e)),
                })?;
        }
        Ok(names)
    }
}
