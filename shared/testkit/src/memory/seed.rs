//! A test's starting point, put in through the ports themselves (no back door): users, spaces,
//! members and videos at any point of their life. Each helper panics when the world refuses it,
//! as a test's setup should.

use vivid_domain::{
    quota::Quotas,
    spaces::{Membership, Role, Space, SpaceStore},
    types::{Description, Email, SpaceId, SpaceName, UserId, VideoId, now_rfc3339},
    users::{User, UserStore},
    video::{FileName, StatusChange, Title, TranscodeState, UploadStore, Video, VideoContentType, VideoStatus},
};

use super::{Memory, ready};

/// A video in `UPLOADING` (a browser's upload of `size` bytes of MP4 into `space` by `creator`),
/// not stored yet.
///
/// # Panics
/// Never: its texts are valid.
pub fn uploading(id: VideoId, space: &SpaceId, creator: &UserId, size: u64) -> Video {
    let now = now_rfc3339();
    Video {
        video_id: id,
        space_id: space.clone(),
        title: Title::try_from("A lecture".to_owned()).expect("title"),
        description: Description::default(),
        status: VideoStatus::Uploading,
        file_name: FileName::try_from("lecture.mp4".to_owned()).expect("file name"),
        content_type: VideoContentType::try_from("video/mp4".to_owned()).expect("content type"),
        size_bytes: size,
        created_by: creator.clone(),
        created_at: now.clone(),
        updated_at: now,
        upload_id: None,
        job_id: None,
        percent_complete: None,
        duration_seconds: None,
        failure_reason: None,
        recording_id: None,
        chapters: Vec::new(),
        position: None,
        transcript: None,
        source: None,
        deleting: false,
        outputs: Default::default(),
        visibility: Default::default(),
        publish_at: None,
    }
}

impl Memory {
    /// A user signed up with `email`, and their personal space.
    ///
    /// # Panics
    /// When the address is malformed or taken.
    pub fn sign_up(&self, email: &str) -> User {
        let email: Email = email.parse().expect("e-mail address");
        let (user, personal) = User::sign_up(email, "Test User".into(), None, &now_rfc3339());
        ready(self.create_user(&user, &personal, None)).expect("sign-up");
        user
    }

    /// A shared space `host` created (counted among the spaces they host).
    ///
    /// # Panics
    /// When the name is invalid or `host` may not create one.
    pub fn shared_space(&self, host: &UserId, name: &str) -> Space {
        let now = now_rfc3339();
        let name = SpaceName::try_from(name.to_owned()).expect("space name");
        let space = Space::new(name, Description::default(), host.clone(), false, &now);
        let membership = Membership {
            space_id: space.space_id.clone(),
            user_id: host.clone(),
            role: Role::Host,
            personal: false,
            joined_at: now,
        };
        ready(self.create_space(&space, &membership, Quotas::default().hosted_spaces)).expect("space");
        space
    }

    /// `user` added to `space` with `role` (a participant's or a co-host's).
    ///
    /// # Panics
    /// When the world refuses the membership.
    pub fn join(&self, space: &SpaceId, user: &UserId, role: Role) {
        let membership = Membership {
            space_id: space.clone(),
            user_id: user.clone(),
            role: Role::Participant,
            personal: false,
            joined_at: now_rfc3339(),
        };
        ready(self.add_member(&membership)).expect("membership");
        if role != Role::Participant {
            ready(self.set_role(space, user, role)).expect("role");
        }
    }

    /// Marks `user`'s membership of `space` as from an LTI course, for the platform subject `sub`
    /// (`ltiSub`, as a launch or a roster sync marks it: the LTI stores are not modelled here).
    ///
    /// # Panics
    /// When `user` is no member of `space`.
    pub fn from_course(&self, space: &SpaceId, user: &UserId, sub: &str) {
        let mut w = self.world();
        let key = (space.clone(), user.clone());
        assert!(w.members.contains_key(&key), "a member");
        w.lti_subs.insert(key, sub.to_owned());
    }

    /// Records that the course's gradebook took `value` for `user`'s progress on `video`
    /// (`ltiPosted`, as the grade worker records it: the grade store is not modelled here).
    ///
    /// # Panics
    /// When there is no such progress.
    pub fn gradebook_took(&self, video: &VideoId, user: &UserId, value: u8) {
        let mut w = self.world();
        let key = (video.clone(), user.clone());
        assert!(w.progress.contains_key(&key), "a progress");
        w.lti_posted.insert(key, value);
    }

    /// `video` created (counted in its space and charged to its creator's budget of today) and
    /// moved along its life to `status` as the pipeline moves it; a `READY` video has its outputs
    /// (HLS master, MP4, 12 thumbnails) and lasts a minute. An `IMPORTING` video is created so.
    ///
    /// # Panics
    /// When the world refuses the video or one of its steps.
    pub fn add_video(&self, video: &Video, status: VideoStatus) -> Video {
        let mut created = video.clone();
        if status == VideoStatus::Importing {
            created.status = VideoStatus::Importing;
        }
        let day = vivid_domain::quota::utc_day(vivid_domain::types::unix_now()).0;
        ready(self.create_video(&created, &Quotas::default(), &day)).expect("video");
        let id = &video.video_id;
        let media = vivid_domain::video::layout::media_prefix(id);
        let steps: Vec<(VideoStatus, StatusChange)> = match status {
            VideoStatus::Uploading | VideoStatus::Importing => vec![],
            VideoStatus::Uploaded => vec![(VideoStatus::Uploaded, StatusChange::default())],
            VideoStatus::Transcoding => vec![
                (VideoStatus::Uploaded, StatusChange::default()),
                (VideoStatus::Transcoding, StatusChange { job_id: Some(format!("job-{id}")), ..Default::default() }),
            ],
            VideoStatus::Ready => vec![
                (VideoStatus::Uploaded, StatusChange::default()),
                (
                    VideoStatus::Ready,
                    StatusChange {
                        job_id: Some(format!("job-{id}")),
                        percent_complete: Some(100),
                        duration_seconds: Some(60.0),
                        hls_master: Some(format!("{media}hls/index.m3u8")),
                        mp4: Some(format!("{media}mp4/video.mp4")),
                        thumbnail_count: Some(12),
                        ..Default::default()
                    },
                ),
            ],
            VideoStatus::Failed => vec![(
                VideoStatus::Failed,
                StatusChange {
                    failure_reason: Some(vivid_domain::failure::FailureReason::TranscodeFailed),
                    ..Default::default()
                },
            )],
        };
        for (to, change) in steps {
            assert!(ready(self.transition(id, to, &change, &now_rfc3339())).expect("transition"), "to {to:?}");
        }
        self.world().asked.clear();
        self.world().videos.get(id).map(|r| r.video.clone()).expect("the video")
    }
}
