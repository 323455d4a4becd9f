//! `search-bench`: a space with 100 transcribed hours (generated: 100 one-hour lectures of
//! 9,000 words each, drawn from a skewed 3,000-word vocabulary, "eigenvalue" spoken in 10 of
//! them and "matrix" in 30). The video items are put directly and the transcripts indexed through
//! the table's real `SearchIndex::index_video` (what `on-transcribe-event` calls): moto copies
//! every table at each transaction, which makes creating 100 videos through the API quadratic.
//! Then searches through the local gateway, printing DynamoDB requests and latency (p50, p95 of
//! 20) per query.
//!
//! `cargo run --release -p vivid-bench --bin search-bench [lectures]` (docs/benchmarks.md)

use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use vivid_domain::{
    search::{self, SearchIndex},
    transcripts::Word,
    types::SpaceId,
};
use vivid_tests::TestApp;

/// A READY video item of the space, put as the table holds one.
async fn put_video(
    app: &TestApp,
    space: &str,
    video: &vivid_domain::types::VideoId,
    title: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let now = vivid_domain::types::now_rfc3339();
    let item = serde_json::json!({
        "PK": format!("VIDEO#{video}"), "SK": "META", "type": "Video",
        "GSI1PK": format!("SPACE#{space}#VIDEOS"), "GSI1SK": format!("{now}#{video}"),
        "videoId": video.to_string(), "spaceId": space, "title": title, "description": "",
        "status": "READY", "fileName": "lecture.mp4", "contentType": "video/mp4", "sizeBytes": 1,
        "createdBy": "01JD6Q3M3T6W8VZ5R8N9K2F4XA", "createdAt": now, "updatedAt": now, "durationSeconds": 3600.0,
    });
    let item: std::collections::HashMap<String, AttributeValue> = serde_dynamo::to_item(item)?;
    app.dynamo().put_item().table_name(&app.table).set_item(Some(item)).send().await?;
    Ok(())
}

/// The space counts its videos (the ranking weighs a term's rarity by it).
async fn set_video_count(app: &TestApp, space: &str, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("SPACE#{space}")))
        .key("SK", AttributeValue::S("META".into()))
        .update_expression("SET videoCount = :n")
        .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
        .send()
        .await?;
    Ok(())
}

/// A deterministic generator (no seed file, the same lectures every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn vocabulary() -> Vec<String> {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ten", "ru", "sa", "vo", "ne", "pi", "dor", "al", "que", "zen", "bri", "tas", "mo", "gle",
        "fu", "rin", "ox",
    ];
    let mut rng = Lcg(7);
    (0..3000)
        .map(|_| (0..2 + (rng.next() * 2.0) as usize).map(|_| SYLLABLES[(rng.next() * 20.0) as usize]).collect())
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lectures: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let student = app.user("Student").await;
    let space = app.space(&host, "Linear algebra").await;
    app.join(&space, &host, &student).await;
    let vocab = vocabulary();
    let mut rng = Lcg(42);
    let space_id: SpaceId = space.parse()?;
    let mut index_calls = Vec::new();
    let started = Instant::now();
    for l in 0..lectures {
        let mut words: Vec<(String, f64, f64)> = Vec::with_capacity(9000);
        for i in 0..9000 {
            // Skewed: a few words very often, most rarely (as in speech).
            let w = vocab[((rng.next().powi(3)) * vocab.len() as f64) as usize].clone();
            let at = i as f64 * 0.4;
            words.push((w, at, at + 0.3));
        }
        if l % 10 == 0 {
            words[4500].0 = "eigenvalue".into();
        }
        if l % 10 < 3 {
            words[1200].0 = "matrix".into();
        }
        let video = vivid_domain::types::VideoId::generate();
        put_video(&app, &space, &video, &format!("Lecture {l}")).await?;
        let spoken: Vec<Word> = words.into_iter().map(|(text, start, end)| Word { text, start, end }).collect();
        let postings = search::transcript_postings(&video, &spoken);
        let before = app.stack.dynamodb_calls();
        app.stack.table.index_video(&space_id, &video, search::Source::Transcript, &postings).await?;
        index_calls.push((postings.len(), app.stack.dynamodb_calls() - before));
        if (l + 1) % 10 == 0 {
            eprintln!("{} lectures indexed in {:.0} s", l + 1, started.elapsed().as_secs_f64());
        }
    }
    set_video_count(&app, &space, lectures).await?;
    let postings: usize = index_calls.iter().map(|(p, _)| p).sum();
    let calls: u64 = index_calls.iter().map(|(_, c)| c).sum();
    println!(
        "{lectures} transcribed hours indexed in {:.0} s: {postings} postings ({} a lecture), {calls} DynamoDB requests ({} a lecture)",
        started.elapsed().as_secs_f64(),
        postings / lectures.max(1),
        calls / lectures.max(1) as u64
    );
    let common = vocab[0].clone();
    let queries = [
        "eigenvalue".to_owned(),
        "matrix".to_owned(),
        "eigenvalue matrix".to_owned(),
        common.clone(),
        format!("{} {} {} {} {}", vocab[1], vocab[2], vocab[3], vocab[4], vocab[5]),
    ];
    println!("| query | videos found | DynamoDB requests | p50 ms | p95 ms |");
    println!("|---|---|---|---|---|");
    for q in &queries {
        let path = format!("/spaces/{space}/search?q={}", q.replace(' ', "%20"));
        let mut times = Vec::new();
        let (mut calls, mut found) = (0, 0);
        for _ in 0..20 {
            let before = app.stack.dynamodb_calls();
            let t = Instant::now();
            let r = app.get(&path, &student.token).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            calls = app.stack.dynamodb_calls() - before;
            found = r.body["items"].as_array().map_or(0, Vec::len);
        }
        times.sort_by(f64::total_cmp);
        println!("| `{q}` | {found} | {calls} | {:.1} | {:.1} |", times[9], times[18]);
    }
    Ok(())
}
