//! Scheduled: finishes what was left unfinished (uploads, imports, deletions).

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(sweep_stale_videos::wire).await
}
