//! Scheduled: ends videos whose upload or import never finished and removes what they left.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(sweep_stale_videos::wire).await
}
