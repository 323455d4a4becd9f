//! The LTI roster worker, invoked asynchronously by `lti-launch` after a launch by someone who
//! manages the course: the course's roster (LTI NRPS) applied to its space.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(lti_roster_worker::wire).await
}
