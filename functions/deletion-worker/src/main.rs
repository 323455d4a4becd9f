//! The deletion worker, invoked asynchronously: finishes an account, space or video deletion.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(deletion_worker::wire).await
}
