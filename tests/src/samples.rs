//! Events and vendor payloads from the repository's samples, aimed at one test's objects.

use serde_json::Value;

use crate::repo_root;

/// A vendor's published sample from `tests/fixtures/vendor/` (its source beside it), as JSON.
pub fn vendor_sample(path: &str) -> Value {
    let file = repo_root().join("tests/fixtures/vendor").join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A sample event from `events/`, as JSON.
pub fn sample_event(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(format!("events/{name}.json"))).expect("sample event");
    serde_json::from_str(&text).expect("sample JSON")
}

/// An S3 object-created event of the real shape for one object (the key URL-encoded as S3 does).
pub fn s3_event(bucket: &str, key: &str, size: u64) -> Value {
    let mut event = sample_event("on-raw-upload");
    let encoded: String = key
        .split('/')
        .map(|seg| {
            percent_encoding::utf8_percent_encode(seg, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%20", "+")
        })
        .collect::<Vec<_>>()
        .join("/");
    let record = &mut event["Records"][0];
    record["s3"]["bucket"]["name"] = bucket.into();
    record["s3"]["bucket"]["arn"] = format!("arn:aws:s3:::{bucket}").into();
    record["s3"]["object"]["key"] = encoded.into();
    record["s3"]["object"]["size"] = size.into();
    event
}

/// A "MediaConvert Job State Change" event for a video's job, from the samples.
pub fn job_event(sample: &str, video: &str, job_id: &str, media_bucket: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(format!("events/{sample}.json"))).expect("sample");
    let text = text
        .replace("01JD6Q5C7B8D9E0F1G2H3J4K5M", video)
        .replace("1795613662000-abc123", job_id)
        .replace("vivid-media-123456789012", media_bucket);
    serde_json::from_str(&text).expect("sample JSON")
}
