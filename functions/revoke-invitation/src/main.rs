//! `DELETE /spaces/{spaceId}/invitations/{invitationId}`: withdraws an invitation (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(revoke_invitation::wire, vivid_dynamo::rate_counter).await
}
