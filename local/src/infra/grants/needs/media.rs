//! Transcribe's and MediaConvert's jobs (the stand-ins check them).

use super::{Need, json};
use crate::infra::grants::{Context, LOCAL_ACCOUNT, LOCAL_REGION};

/// What a `StartTranscriptionJob` needs: the job, and (the service reads and writes with the
/// caller's permissions) the media object and the result's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscribeNeeds {
    pub job: Need,
    pub media: Option<Need>,
    pub output: Option<Need>,
}

/// The bucket and key of an `s3://bucket/key` URI.
pub fn s3_uri(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("s3://")?.split_once('/')
}

pub fn transcribe(body: &[u8]) -> Option<TranscribeNeeds> {
    let doc = json(body);
    let name = doc["TranscriptionJobName"].as_str()?;
    let job = Need::new(
        "transcribe:StartTranscriptionJob",
        format!("arn:aws:transcribe:{LOCAL_REGION}:{LOCAL_ACCOUNT}:transcription-job/{name}"),
    );
    let media = doc["Media"]["MediaFileUri"]
        .as_str()
        .and_then(s3_uri)
        .map(|(bucket, key)| Need::new("s3:GetObject", format!("arn:aws:s3:::{bucket}/{key}")));
    let output = doc["OutputBucketName"].as_str().map(|bucket| {
        let key = match doc["OutputKey"].as_str() {
            Some(k) if !k.ends_with('/') => k.to_owned(),
            Some(folder) => format!("{folder}{name}.json"),
            None => format!("{name}.json"),
        };
        Need::new("s3:PutObject", format!("arn:aws:s3:::{bucket}/{key}"))
    });
    Some(TranscribeNeeds { job, media, output })
}

/// The service MediaConvert jobs pass their role to (`iam:PassedToService`).
pub const MEDIACONVERT_SERVICE: &str = "mediaconvert.amazonaws.com";

fn mediaconvert_arn(kind: &str, name: &str) -> String {
    if name.starts_with("arn:") {
        name.to_owned()
    } else {
        format!("arn:aws:mediaconvert:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{kind}/{name}")
    }
}

/// A MediaConvert job's ARN.
pub fn mediaconvert_job_arn(id: &str) -> String {
    mediaconvert_arn("jobs", id)
}

/// A MediaConvert request's needs (`new_job`: the id a `CreateJob` will give its job): the
/// operation on its job or queue, and for `CreateJob` `iam:PassRole` on the role it names; for
/// `Probe`, the action (no resource type: `*`) and, as MediaConvert reads the file with the
/// caller's credentials, `s3:GetObject` on each file it names.
pub fn mediaconvert(method: &http::Method, path: &str, query: Option<&str>, body: &[u8], new_job: &str) -> Vec<Need> {
    if path == "/2017-08-29/probe" && method == http::Method::POST {
        let doc = json(body);
        let files = doc["inputFiles"].as_array().cloned().unwrap_or_default();
        let objects = files.iter().filter_map(|f| f["fileUrl"].as_str()?.strip_prefix("s3://").map(str::to_owned));
        let mut needs = vec![Need::new("mediaconvert:Probe", "*")];
        needs.extend(objects.map(|o| Need::new("s3:GetObject", format!("arn:aws:s3:::{o}"))));
        return needs;
    }
    let Some(rest) = path.strip_prefix("/2017-08-29/jobs") else { return Vec::new() };
    let id = rest.trim_start_matches('/');
    let doc = json(body);
    match (method.as_str(), id.is_empty()) {
        ("POST", true) => {
            let queue = doc["queue"].as_str().unwrap_or("Default");
            let mut needs = vec![
                Need::new("mediaconvert:CreateJob", mediaconvert_arn("queues", queue)),
                Need::new("mediaconvert:CreateJob", mediaconvert_job_arn(new_job)),
            ];
            if let Some(template) = doc["jobTemplate"].as_str() {
                needs.push(Need::new("mediaconvert:CreateJob", mediaconvert_arn("jobTemplates", template)));
            }
            if let Some(role) = doc["role"].as_str() {
                needs.push(Need::new("iam:PassRole", role));
            }
            needs
        }
        ("GET", true) => {
            let queue = query.into_iter().flat_map(|q| q.split('&')).find_map(|p| p.strip_prefix("queue="));
            let on = queue
                .map(|q| mediaconvert_arn("queues", &percent_encoding::percent_decode_str(q).decode_utf8_lossy()))
                .unwrap_or_else(|| "*".to_owned());
            vec![Need::new("mediaconvert:ListJobs", on)]
        }
        ("GET", false) => vec![Need::new("mediaconvert:GetJob", mediaconvert_job_arn(id))],
        ("DELETE", false) => vec![Need::new("mediaconvert:CancelJob", mediaconvert_job_arn(id))],
        _ => Vec::new(),
    }
}

/// A MediaConvert request's condition keys.
pub fn mediaconvert_context() -> Context {
    Context::default().with("iam:PassedToService", [MEDIACONVERT_SERVICE])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcription_job_needs_the_job_the_media_and_the_results_object() {
        let body = br#"{"TranscriptionJobName":"vivid-01X","Media":{"MediaFileUri":"s3://m/media/01X/video.mp4"},"OutputBucketName":"m","OutputKey":"media/01X/transcript.json"}"#;
        assert_eq!(
            transcribe(body),
            Some(TranscribeNeeds {
                job: Need::new(
                    "transcribe:StartTranscriptionJob",
                    "arn:aws:transcribe:us-east-1:000000000000:transcription-job/vivid-01X"
                ),
                media: Some(Need::new("s3:GetObject", "arn:aws:s3:::m/media/01X/video.mp4")),
                output: Some(Need::new("s3:PutObject", "arn:aws:s3:::m/media/01X/transcript.json")),
            })
        );
        let folder = br#"{"TranscriptionJobName":"j","Media":{"MediaFileUri":"s3://m/a.mp4"},"OutputBucketName":"m","OutputKey":"out/"}"#;
        assert_eq!(
            transcribe(folder).and_then(|n| n.output).map(|n| n.resource),
            Some("arn:aws:s3:::m/out/j.json".into())
        );
        assert_eq!(transcribe(b"{}"), None);
    }

    #[test]
    fn mediaconvert_calls_need_their_job_queue_and_role() {
        let post = http::Method::POST;
        let body = br#"{"role":"arn:aws:iam::000000000000:role/mc","settings":{}}"#;
        assert_eq!(
            mediaconvert(&post, "/2017-08-29/jobs", None, body, "123-abc"),
            [
                Need::new("mediaconvert:CreateJob", "arn:aws:mediaconvert:us-east-1:000000000000:queues/Default"),
                Need::new("mediaconvert:CreateJob", "arn:aws:mediaconvert:us-east-1:000000000000:jobs/123-abc"),
                Need::new("iam:PassRole", "arn:aws:iam::000000000000:role/mc"),
            ]
        );
        let queued = br#"{"role":"r","queue":"arn:aws:mediaconvert:us-east-1:000000000000:queues/Fast","settings":{}}"#;
        assert_eq!(
            mediaconvert(&post, "/2017-08-29/jobs", None, queued, "1")[0].resource,
            "arn:aws:mediaconvert:us-east-1:000000000000:queues/Fast"
        );
        assert_eq!(
            mediaconvert(&http::Method::DELETE, "/2017-08-29/jobs/1-x", None, b"", ""),
            [Need::new("mediaconvert:CancelJob", "arn:aws:mediaconvert:us-east-1:000000000000:jobs/1-x")]
        );
        assert_eq!(
            mediaconvert(&http::Method::GET, "/2017-08-29/jobs/1-x", None, b"", ""),
            [Need::new("mediaconvert:GetJob", "arn:aws:mediaconvert:us-east-1:000000000000:jobs/1-x")]
        );
        assert_eq!(
            mediaconvert(&http::Method::GET, "/2017-08-29/jobs", Some("queue=Default&maxResults=20"), b"", ""),
            [Need::new("mediaconvert:ListJobs", "arn:aws:mediaconvert:us-east-1:000000000000:queues/Default")]
        );
        assert_eq!(mediaconvert(&http::Method::GET, "/2017-08-29/jobs", None, b"", "")[0].resource, "*");
        assert_eq!(mediaconvert_context().get("iam:passedtoservice"), Some(&[MEDIACONVERT_SERVICE.to_owned()][..]));
    }
}
