//! The authorization matrix: every route × every kind of caller.

use reqwest::{Method, StatusCode};
use vivid_tests::{TestApp, World};

/// Expected status for a stranger, a participant, a co-host and the host.
struct Row {
    method: &'static str,
    path: &'static str,
    stranger: u16,
    participant: u16,
    cohost: u16,
    host: u16,
}

const fn row(method: &'static str, path: &'static str, stranger: u16, participant: u16, cohost: u16, host: u16) -> Row {
    Row { method, path, stranger, participant, cohost, host }
}

const MATRIX: &[Row] = &[
    row("GET", "/users/me", 200, 200, 200, 200),
    row("GET", "/users/me/sessions", 200, 200, 200, 200),
    row("GET", "/users/me/identities", 200, 200, 200, 200),
    row("DELETE", "/users/me/sessions", 204, 204, 204, 204),
    row("POST", "/auth/logout", 204, 204, 204, 204),
    row("GET", "/spaces", 200, 200, 200, 200),
    row("POST", "/spaces", 201, 201, 201, 201),
    row("GET", "/spaces/{spaceId}", 404, 200, 200, 200),
    row("PATCH", "/spaces/{spaceId}", 404, 403, 403, 200),
    row("DELETE", "/spaces/{spaceId}", 404, 403, 403, 202),
    row("GET", "/spaces/{spaceId}/members", 404, 200, 200, 200),
    row("POST", "/spaces/{spaceId}/members", 404, 403, 201, 201),
    row("DELETE", "/spaces/{spaceId}/members/{userId}", 404, 403, 204, 204),
    // Roles and the hand-over are the host's alone.
    row("PATCH", "/spaces/{spaceId}/members/{userId}", 404, 403, 403, 200),
    row("POST", "/spaces/{spaceId}/transfer", 404, 403, 403, 200),
    // Invitations are the managers'; anyone signed in accepts a code (a stranger joins with it,
    // a member is already in: 200 either way) and reads the invitations to their own address.
    row("GET", "/spaces/{spaceId}/invitations", 404, 403, 200, 200),
    row("POST", "/spaces/{spaceId}/invitations", 404, 403, 201, 201),
    row("DELETE", "/spaces/{spaceId}/invitations/{invitationId}", 404, 403, 204, 204),
    row("POST", "/invitations/{code}/accept", 200, 200, 200, 200),
    row("GET", "/users/me/invitations", 200, 200, 200, 200),
    // Any member searches the space's lectures.
    row("GET", "/spaces/{spaceId}/search", 404, 200, 200, 200),
    // Class progress is for those who teach.
    row("GET", "/spaces/{spaceId}/progress", 404, 403, 200, 200),
    row("GET", "/videos/{videoId}/progress", 404, 403, 200, 200),
    row("GET", "/users/me/dashboard", 200, 200, 200, 200),
    row("DELETE", "/users/me", 202, 202, 202, 202),
    row("POST", "/spaces/{spaceId}/videos", 404, 403, 201, 201),
    row("GET", "/spaces/{spaceId}/videos", 404, 200, 200, 200),
    row("PUT", "/spaces/{spaceId}/videos/order", 404, 403, 200, 200),
    row("GET", "/videos/{videoId}", 404, 200, 200, 200),
    row("GET", "/videos/{videoId}/playback", 404, 200, 200, 200),
    row("PATCH", "/videos/{videoId}", 404, 403, 200, 200),
    row("DELETE", "/videos/{videoId}", 404, 403, 202, 202),
    // The world's video is ready: its upload is over, nothing to complete, abort or resume.
    row("POST", "/videos/{videoId}/upload/complete", 404, 403, 409, 409),
    row("DELETE", "/videos/{videoId}/upload", 404, 403, 409, 409),
    row("POST", "/videos/{videoId}/upload/parts", 404, 403, 409, 409),
    row("PUT", "/videos/{videoId}/progress", 404, 204, 204, 204),
    // Watched coverage: each member's own; the class's heatmap and export for those who teach;
    // the study map (k-anonymous) for every member.
    row("POST", "/videos/{videoId}/watching", 404, 200, 200, 200),
    row("GET", "/videos/{videoId}/watching", 404, 200, 200, 200),
    row("GET", "/videos/{videoId}/heatmap", 404, 403, 200, 200),
    row("GET", "/videos/{videoId}/study-map", 404, 200, 200, 200),
    row("POST", "/spaces/{spaceId}/engagement-export", 404, 403, 200, 200),
    row("POST", "/videos/{videoId}/snapshots", 404, 201, 201, 201),
    row("GET", "/videos/{videoId}/snapshots", 404, 200, 200, 200),
    // The snapshot is the participant's: private even to the host.
    row("DELETE", "/videos/{videoId}/snapshots/{snapshotId}", 404, 204, 404, 404),
    // Bookmarks are their author's too: the participant's one is private even to the host.
    row("POST", "/videos/{videoId}/bookmarks", 404, 201, 201, 201),
    row("GET", "/videos/{videoId}/bookmarks", 404, 200, 200, 200),
    row("DELETE", "/videos/{videoId}/bookmarks/{bookmarkId}", 404, 204, 404, 404),
    // Captions are the managers'; the world's ready video has no track to delete (404).
    row("PUT", "/videos/{videoId}/captions/{lang}", 404, 403, 201, 201),
    // Every member downloads a track; the participant's world has none (their PUT was refused).
    row("GET", "/videos/{videoId}/captions/{lang}", 404, 404, 200, 200),
    row("DELETE", "/videos/{videoId}/captions/{lang}", 404, 403, 404, 404),
    // The world's video has no transcript: members learn that, strangers nothing.
    row("GET", "/videos/{videoId}/transcript", 404, 404, 404, 404),
    // Notes are their author's: the participant has a memo and a drawing, the host none until
    // the PUT row gives them a memo (so their checkpoint is created).
    row("GET", "/videos/{videoId}/text-memo", 404, 200, 200, 200),
    // The participant saves on top of their memo; the host has none yet: the save creates it.
    row("PUT", "/videos/{videoId}/text-memo", 404, 200, 201, 201),
    row("POST", "/videos/{videoId}/text-memo/history", 404, 201, 201, 201),
    row("GET", "/videos/{videoId}/text-memo/history", 404, 200, 200, 200),
    row("GET", "/videos/{videoId}/drawings", 404, 200, 200, 200),
    row("PUT", "/videos/{videoId}/drawings/{drawingId}", 404, 200, 201, 201),
    // The host's PUT row made a drawing of their own under that id: they read theirs (that they
    // never see the participant's is in notes.rs); a delete runs on a fresh world: 404.
    row("GET", "/videos/{videoId}/drawings/{drawingId}", 404, 200, 200, 200),
    row("DELETE", "/videos/{videoId}/drawings/{drawingId}", 404, 204, 404, 404),
    // Webex: nobody in the world has connected an account yet.
    row("GET", "/webex/login", 200, 200, 200, 200),
    row("POST", "/webex/token", 400, 400, 400, 400),
    row("DELETE", "/webex/token", 204, 204, 204, 204),
    row("GET", "/webex/recordings", 409, 409, 409, 409),
    row("POST", "/spaces/{spaceId}/videos/webex", 404, 403, 409, 409),
    // Zoom: nobody in the world has connected an account either.
    row("GET", "/zoom/login", 200, 200, 200, 200),
    row("POST", "/zoom/token", 400, 400, 400, 400),
    row("DELETE", "/zoom/token", 204, 204, 204, 204),
    row("GET", "/zoom/recordings", 409, 409, 409, 409),
    row("GET", "/users/me/recordings", 409, 409, 409, 409),
    row("POST", "/spaces/{spaceId}/videos/zoom", 404, 403, 409, 409),
    row("PUT", "/spaces/{spaceId}/zoom-auto-import", 404, 403, 409, 409),
    // Zoom's webhook knows no caller: only Zoom's signature lets a delivery in.
    row("POST", "/zoom/webhook", 401, 401, 401, 401),
];

#[tokio::test]
async fn every_route_refuses_every_invalid_token_with_401() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    // The world's former member's data goes in the deletion worker: counted after it.
    app.deletions_settled().await;
    let before = app.scan_all().await.len();
    for (label, token) in app.forged_tokens(&world.host.user.user_id, &world.host.user.email) {
        // Logout looks at no access token (the refresh token is its proof: session_hardening.rs).
        for r in MATRIX.iter().filter(|r| r.path != "/auth/logout") {
            let reply = world.call(&app, r.method, r.path, token.as_deref()).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{label}: {} {}", r.method, r.path);
            assert_eq!(reply.header("content-type"), Some("application/problem+json"));
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
            assert_eq!(reply.code(), "unauthenticated");
            // Zoom's webhook is refused for Zoom's signature; every other route says how to get
            // a token that passes.
            if r.path != "/zoom/webhook" {
                let detail = reply.body["detail"].as_str().unwrap_or_default();
                assert!(
                    detail.contains("POST /auth/refresh") && detail.contains("sign in"),
                    "{label}: {} {}: {detail}",
                    r.method,
                    r.path
                );
            }
        }
    }
    assert_eq!(app.scan_all().await.len(), before, "no refused request wrote anything");
}

/// Every route called by one role. Deletes get a world of their own; the other calls share one
/// (in the order of the matrix).
async fn every_route_as(role: &str) {
    let app = TestApp::spawn().await;
    let shared = World::new(&app).await;
    for r in MATRIX {
        let expected = match role {
            "stranger" => r.stranger,
            // A removed member is a stranger everywhere, their data still there or not — but a
            // code does not bring them back (removal sticks until a manager invites them again).
            "former" if r.path.ends_with("/accept") => 403,
            "former" => r.stranger,
            "participant" => r.participant,
            "co-host" => r.cohost,
            _ => r.host,
        };
        // Deletes, the hand-over (after it the host is co-host) and accepting an invitation (after
        // it the stranger is a member) get a world of their own.
        let fresh;
        let world = if r.method == "DELETE" || r.path.ends_with("/transfer") || r.path.ends_with("/accept") {
            fresh = World::new(&app).await;
            &fresh
        } else {
            &shared
        };
        let who = match role {
            "stranger" => &world.stranger,
            "former" => &world.former,
            "participant" => &world.participant,
            "co-host" => &world.cohost,
            _ => &world.host,
        };
        let reply = world.call(&app, r.method, r.path, Some(&who.token)).await;
        assert_eq!(reply.status.as_u16(), expected, "{role}: {} {} -> {:?}", r.method, r.path, reply.body);
        if expected >= 400 {
            assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        }
    }
}

#[tokio::test]
async fn every_route_answers_a_stranger_as_the_contract_says() {
    every_route_as("stranger").await;
}

#[tokio::test]
async fn every_route_answers_a_removed_member_as_a_stranger() {
    every_route_as("former").await;
}

#[tokio::test]
async fn every_route_answers_a_participant_as_the_contract_says() {
    every_route_as("participant").await;
}

#[tokio::test]
async fn every_route_answers_a_co_host_as_the_contract_says() {
    every_route_as("co-host").await;
}

#[tokio::test]
async fn every_route_answers_the_host_as_the_contract_says() {
    every_route_as("host").await;
}

#[tokio::test]
async fn unknown_paths_are_404_and_an_unserved_method_405_signed_in_or_not() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    for token in [Some(ana.token.as_str()), None] {
        for path in ["/nope", "/spaces/a/b/c/d"] {
            let r = app.call(Method::GET, path, token, None).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(r.code(), "not_found", "{path}: {:?}", r.body);
        }
        let r = app.call(Method::PUT, "/spaces", token, None).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{:?}", r.body);
    }
}
