//! `POST /spaces/{spaceId}/lti/roster-sync`: the linked course's roster applied to the space (host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(lti_roster_sync::wire, vivid_dynamo::rate_counter).await
}
