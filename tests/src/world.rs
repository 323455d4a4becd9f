//! The authorization matrix's cast: a space with a member of every role, and a note of each kind.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{Reply, TestApp, TestUser};

/// A space with a host, two participants, a registered stranger and a registered user who is
/// not yet invited: the cast of the authorization matrix and the event samples.
pub struct World {
    pub space: String,
    pub host: TestUser,
    pub participant: TestUser,
    /// Another participant: the one removal routes remove.
    pub target: TestUser,
    pub stranger: TestUser,
    pub invitee: TestUser,
    /// A co-host of the space.
    pub cohost: TestUser,
    /// A former participant: they studied the video (progress, memo, drawing, snapshot,
    /// bookmark), then the host removed them, a moment before the world is used — the deletion
    /// worker may not have purged their data yet.
    pub former: TestUser,
    /// A video of the space, ready to play (notes are taken on ready videos only).
    pub video: String,
    /// A snapshot of the participant's on that video.
    pub snapshot: String,
    /// A drawing of the participant's on that video (they also have a memo there).
    pub drawing: String,
    /// A bookmark of the participant's on that video.
    pub bookmark: String,
    /// The host's shareable invitation into the space: its id and code.
    pub invitation: String,
    pub code: String,
}

impl World {
    pub async fn new(app: &TestApp) -> Self {
        let host = app.user("Host").await;
        let participant = app.user("Participant").await;
        let target = app.user("Target").await;
        let stranger = app.user("Stranger").await;
        let invitee = app.user("Invitee").await;
        let cohost = app.user("Co-host").await;
        let former = app.user("Former").await;
        let space = app.space(&host, "Matrix").await;
        app.join(&space, &host, &participant).await;
        app.join(&space, &host, &target).await;
        app.join(&space, &host, &cohost).await;
        app.join(&space, &host, &former).await;
        app.promote(&space, &host, &cohost).await;
        let video = app.ready_video(&space, &host).await;
        let snap = app
            .post(
                &format!("/videos/{video}/snapshots"),
                &participant.token,
                serde_json::json!({ "videoSeconds": 3.0, "contentType": "image/png", "sizeBytes": 1024 }),
            )
            .await;
        assert_eq!(snap.status, StatusCode::CREATED, "{:?}", snap.body);
        let snapshot = snap.body["snapshotId"].as_str().expect("snapshotId").to_owned();
        let memo = app
            .call(
                reqwest::Method::PUT,
                &format!("/videos/{video}/text-memo"),
                Some(&participant.token),
                Some(serde_json::json!({ "stateJson": "<p>notes</p>" })),
            )
            .await;
        assert_eq!(memo.status, StatusCode::CREATED, "{:?}", memo.body);
        let drawing = ulid::Ulid::new().to_string();
        let d = app
            .call(
                reqwest::Method::PUT,
                &format!("/videos/{video}/drawings/{drawing}"),
                Some(&participant.token),
                Some(serde_json::json!({ "kind": "page", "document": { "objects": [] } })),
            )
            .await;
        assert_eq!(d.status, StatusCode::CREATED, "{:?}", d.body);
        let b = app
            .post(
                &format!("/videos/{video}/bookmarks"),
                &participant.token,
                serde_json::json!({ "videoSeconds": 2.5, "label": "Here" }),
            )
            .await;
        assert_eq!(b.status, StatusCode::CREATED, "{:?}", b.body);
        let bookmark = b.body["bookmarkId"].as_str().expect("bookmarkId").to_owned();
        let inv = app.post(&format!("/spaces/{space}/invitations"), &host.token, serde_json::json!({})).await;
        assert_eq!(inv.status, StatusCode::CREATED, "{:?}", inv.body);
        let invitation = inv.body["items"][0]["invitationId"].as_str().expect("invitationId").to_owned();
        let code = inv.body["items"][0]["code"].as_str().expect("code").to_owned();
        let (v, t) = (&video, &former.token);
        for (method, path, body) in [
            (
                Method::PUT,
                format!("/videos/{v}/progress"),
                serde_json::json!({ "progressRate": 30, "positionSeconds": 9.0 }),
            ),
            (Method::PUT, format!("/videos/{v}/text-memo"), serde_json::json!({ "stateJson": "<p>mine</p>" })),
            (
                Method::PUT,
                format!("/videos/{v}/drawings/{drawing}"),
                serde_json::json!({ "kind": "page", "document": { "objects": [] } }),
            ),
            (
                Method::POST,
                format!("/videos/{v}/bookmarks"),
                serde_json::json!({ "videoSeconds": 1.0, "label": "Mine" }),
            ),
        ] {
            let r = app.call(method, &path, Some(t), Some(body)).await;
            assert!(r.status.is_success(), "{path}: {:?}", r.body);
        }
        app.indexes_settled().await;
        let r = app
            .call(Method::DELETE, &format!("/spaces/{space}/members/{}", former.id()), Some(&host.token), None)
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        // A world as it stands a moment later: its indexes caught up (an invitee accepts a code
        // found on one; in AWS the index is behind only for a moment after the code's creation).
        app.indexes_settled().await;
        Self {
            space,
            host,
            participant,
            target,
            stranger,
            invitee,
            cohost,
            former,
            video,
            snapshot,
            drawing,
            bookmark,
            invitation,
            code,
        }
    }

    /// Each route parameter's value in this world, by name: `{userId}` is the target (the one
    /// removal routes remove), `{lang}` English.
    pub fn path_parameters(&self) -> [(&'static str, String); 9] {
        [
            ("spaceId", self.space.clone()),
            ("userId", self.target.id()),
            ("videoId", self.video.clone()),
            ("snapshotId", self.snapshot.clone()),
            ("drawingId", self.drawing.clone()),
            ("bookmarkId", self.bookmark.clone()),
            ("invitationId", self.invitation.clone()),
            ("code", self.code.clone()),
            ("lang", "en".to_owned()),
        ]
    }

    /// A route path with its parameters filled from this world.
    pub fn fill(&self, path: &str) -> String {
        self.path_parameters()
            .iter()
            .fold(path.to_owned(), |path, (name, value)| path.replace(&format!("{{{name}}}"), value))
    }

    /// A route called the way its body asks: JSON, or the raw text a caption upload is.
    pub async fn call(&self, app: &TestApp, method: &str, path: &str, token: Option<&str>) -> Reply {
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        if method == "GET" && path == "/spaces/{spaceId}/search" {
            return app.call(m, &format!("{}?q=matrix", self.fill(path)), token, None).await;
        }
        if method == "PUT" && path == "/videos/{videoId}/captions/{lang}" {
            let vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n".to_vec();
            return app.call_raw(m, &self.fill(path), token, "text/vtt", vtt).await;
        }
        app.call(m, &self.fill(path), token, self.body(method, path)).await
    }

    /// A valid body for a route, if it takes one.
    pub fn body(&self, method: &str, path: &str) -> Option<Value> {
        match (method, path) {
            ("POST", "/spaces") => Some(serde_json::json!({ "name": "New space" })),
            ("PATCH", "/spaces/{spaceId}") => Some(serde_json::json!({ "name": "Renamed" })),
            ("POST", "/videos/{videoId}/watching") => Some(serde_json::json!({
                "session": ulid::Ulid::new().to_string(), "seq": 0,
                "intervals": [{ "start": 0.0, "end": 2.0, "rate": 1.0 }],
            })),
            ("POST", "/videos/{videoId}/bookmarks") => {
                Some(serde_json::json!({ "videoSeconds": 4.0, "label": "Mark" }))
            }
            ("POST", "/spaces/{spaceId}/members") => Some(serde_json::json!({ "email": self.invitee.email() })),
            ("POST", "/spaces/{spaceId}/invitations") => {
                Some(serde_json::json!({ "emails": [self.invitee.email()], "role": "participant" }))
            }
            ("PUT", "/spaces/{spaceId}/videos/order") => Some(serde_json::json!({ "videoIds": [self.video] })),
            ("PATCH", "/spaces/{spaceId}/members/{userId}") => Some(serde_json::json!({ "role": "co-host" })),
            ("POST", "/spaces/{spaceId}/transfer") => Some(serde_json::json!({ "userId": self.target.id() })),
            ("POST", "/spaces/{spaceId}/videos") => Some(serde_json::json!({
                "title": "New video", "fileName": "new.mp4", "contentType": "video/mp4", "sizeBytes": 1024,
            })),
            ("PATCH", "/videos/{videoId}") => Some(serde_json::json!({ "title": "Renamed" })),
            ("POST", "/videos/{videoId}/upload/complete") => {
                Some(serde_json::json!({ "parts": [{ "partNumber": 1, "etag": "\"x\"" }] }))
            }
            ("PUT", "/videos/{videoId}/progress") => {
                Some(serde_json::json!({ "progressRate": 10, "positionSeconds": 5.5 }))
            }
            ("POST", "/webex/token" | "/zoom/token") => {
                Some(serde_json::json!({ "code": "not-a-code", "state": "not-a-state" }))
            }
            ("POST", "/spaces/{spaceId}/videos/zoom") => {
                Some(serde_json::json!({ "meetingId": "m==", "recordingFileId": "f1", "title": "T" }))
            }
            ("PUT", "/spaces/{spaceId}/zoom-auto-import") => Some(serde_json::json!({ "enabled": true })),
            ("POST", "/zoom/webhook") => Some(serde_json::json!({ "event": "recording.completed", "payload": {} })),
            ("POST", "/spaces/{spaceId}/videos/webex") => {
                Some(serde_json::json!({ "recordingId": "r1", "title": "T" }))
            }
            ("PUT", "/videos/{videoId}/text-memo") => Some(serde_json::json!({ "stateJson": "<p>more</p>" })),
            ("PUT", "/videos/{videoId}/drawings/{drawingId}") => Some(
                serde_json::json!({ "kind": "overlay", "startSeconds": 1, "endSeconds": 2, "document": { "objects": [1] } }),
            ),
            ("POST", "/videos/{videoId}/snapshots") => {
                Some(serde_json::json!({ "videoSeconds": 1.5, "contentType": "image/png", "sizeBytes": 1024 }))
            }
            _ => None,
        }
    }
}
