//! The event functions' events: S3 notifications and job-state changes of videos prepared for
//! them, the schedule's sweep.

use super::*;

pub(super) async fn event_events(app: &TestApp, world: &World, function: &str, n: usize) -> SetupResult<Vec<Value>> {
    let host = &world.host;
    let buckets = &app.stack.buckets;
    let events = match function {
        "on-raw-upload" => {
            prepare(n, |_| async {
                let created = app.new_video(&world.space, host, 1024).await;
                app.upload_single(&created, vec![0u8; 1024]).await;
                let id = created["videoId"].as_str().ok_or("no videoId")?.to_owned();
                Ok(s3_event(&buckets.raw, &format!("raw/{id}"), 1024))
            })
            .await?
        }
        "on-transcode-event" => {
            prepare(n, |_| async {
                let id = app.uploaded_video(&world.space, host, vec![1u8; 256]).await;
                let job = job_of(app, &id)?;
                Ok(job_event("on-transcode-event", &id, &job, &buckets.media))
            })
            .await?
        }
        "on-transcribe-event" => {
            // A completed job's result turned into captions and words, again (idempotent path).
            let words = [("today", 0.2, 0.5), ("we", 0.5, 0.7), ("study", 0.7, 1.0), ("algebra", 1.5, 2.1)];
            let id = app.transcribed_video(&world.space, host, &words).await;
            let mut event = sample_event("on-transcribe-event");
            event["detail"]["TranscriptionJobName"] = app.transcription_job(&id).into();
            vec![event; n]
        }
        "on-converted-output" => {
            // S3 delivers at least once: the same object recorded again is the idempotent path.
            let id = ready_video(app, world).await?;
            let text = sample_event("on-converted-output")
                .to_string()
                .replace("01JD6Q5C7B8D9E0F1G2H3J4K5M", &id)
                .replace("vivid-media-123456789012", &buckets.media);
            let e: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            vec![e; n]
        }
        "sweep-stale-videos" => vec![sample_event("sweep-stale-videos"); n],
        "import-worker" => {
            // What `import-recording` leaves for the worker: an IMPORTING video, a recording.
            app.connect_webex(host).await;
            prepare(n, |i| async move {
                let recording = app.stack.webex.add_recording(&format!("Lecture {i}"), vec![0u8; 64]);
                let now = vivid_domain::types::now_rfc3339();
                let video: Video = serde_json::from_value(json!({
                    "videoId": ulid::Ulid::new().to_string(),
                    "spaceId": world.space,
                    "title": "Imported",
                    "description": "",
                    "status": "IMPORTING",
                    "fileName": "lecture.mp4",
                    "contentType": "video/mp4",
                    "sizeBytes": 64,
                    "createdBy": host.id(),
                    "createdAt": now,
                    "updatedAt": now,
                    "recordingId": recording,
                }))
                .map_err(|e| format!("video: {e}"))?;
                // The space's count lifted as the template's parameters are for every target.
                let quotas = vivid_domain::quota::Quotas { videos_per_space: 1_000_000, ..Default::default() };
                app.stack.table.create_video(&video, &quotas, "2026-01-01").await.map_err(|e| e.to_string())?;
                Ok(json!({ "videoId": video.video_id.to_string(), "userId": host.id(), "recordingId": recording }))
            })
            .await?
        }
        "deletion-worker" => {
            // What `delete-video` leaves for the worker: a video marked deleting.
            prepare(n, |_| async {
                let v = app.new_video(&world.space, host, 1024).await;
                let id: vivid_domain::types::VideoId =
                    v["videoId"].as_str().ok_or("no videoId")?.parse().map_err(|_| "a bad videoId")?;
                let video = app.stack.table.get_video(&id).await.map_err(|e| e.to_string())?.ok_or("no video")?;
                app.stack.table.tombstone_video(&video).await.map_err(|e| e.to_string())?;
                Ok(json!({ "kind": "video", "videoId": id.to_string() }))
            })
            .await?
        }
        other => return Err(format!("{other}: no benchmark scenario (add one in bench/src/scenarios/consumers.rs)")),
    };
    Ok(events)
}
