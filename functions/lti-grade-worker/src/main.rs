//! The LTI grade worker, invoked asynchronously by `put-progress`: a student's completion of a
//! linked video posted to the course's gradebook (LTI AGS) when it rose.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(lti_grade_worker::wire).await
}
