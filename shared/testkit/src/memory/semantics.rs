//! The adapter's semantics the in-memory world keeps, checked through the ports.

use vivid_domain::{
    error::{Guard, StoreError},
    media::{Bucket, MediaStore},
    minutes::{Charge, Metered, MinutesBudget},
    quota::{Exceeded, Quota, Quotas},
    spaces::{Membership, Role, SpaceStore},
    storage::Limits,
    types::{Limit, Seconds, SnapshotId, VideoId, now_rfc3339},
    users::UserStore,
    video::{
        Progress, ProgressStore, Snapshot, SnapshotStore, StatusChange, TranscodeState, UploadStore, VideoCatalog,
        VideoRemoval, VideoStatus, layout,
    },
};

use super::{Asked, Memory, ready, uploading};

fn world() -> (Memory, vivid_domain::users::User, vivid_domain::spaces::Space) {
    let memory = Memory::new();
    let host = memory.sign_up("host@example.com");
    let space = memory.shared_space(&host.user_id, "Space");
    (memory, host, space)
}

#[test]
fn statuses_only_move_forward_and_a_job_s_event_moves_only_its_video() {
    let (m, host, space) = world();
    let v = m.add_video(&uploading(VideoId::generate(), &space.space_id, &host.user_id, 10), VideoStatus::Transcoding);
    let id = &v.video_id;
    let now = now_rfc3339();
    let back = ready(m.transition(id, VideoStatus::Uploaded, &StatusChange::default(), &now)).expect("answer");
    assert!(!back, "no way back");
    let foreign = StatusChange { only_for_job: Some("another".into()), ..Default::default() };
    assert!(!ready(m.transition(id, VideoStatus::Ready, &foreign, &now)).expect("answer"), "another job's");
    let ours = StatusChange { only_for_job: v.job_id.clone(), percent_complete: Some(100), ..Default::default() };
    assert!(ready(m.transition(id, VideoStatus::Ready, &ours, &now)).expect("answer"));
    assert!(!ready(m.transition(id, VideoStatus::Ready, &ours, &now)).expect("answer"), "a duplicate");
    assert!(!ready(m.raise_percent(id, 50)).expect("answer"), "a ready video's percentage stays");
    let asked = m.asked();
    assert_eq!(asked.len(), 5, "every call noted, whatever it answered: {asked:?}");
    assert!(asked.iter().all(Asked::is_status));
}

#[test]
fn a_video_is_charged_its_minutes_once_and_never_past_the_day_s_budget() {
    let (m, host, space) = world();
    let v = m.add_video(&uploading(VideoId::generate(), &space.space_id, &host.user_id, 10), VideoStatus::Uploaded);
    let other = m.add_video(&uploading(VideoId::generate(), &space.space_id, &host.user_id, 10), VideoStatus::Uploaded);
    let charge = |video: &VideoId, minutes| {
        ready(m.charge_minutes(Metered::Transcode, video, &host.user_id, minutes, "2026-01-01", 10)).expect("answer")
    };
    assert_eq!(charge(&v.video_id, 6), Charge::Charged);
    assert_eq!(charge(&v.video_id, 6), Charge::AlreadyCharged);
    let over = Exceeded { quota: Quota::DailyTranscodeMinutes, limit: 10 };
    assert_eq!(charge(&other.video_id, 5), Charge::Exceeded(over));
    assert_eq!(charge(&VideoId::generate(), 1), Charge::Gone);
    assert!(ready(m.settle_minutes(Metered::Transcode, &v.video_id, 2)).expect("settled"));
    assert!(!ready(m.settle_minutes(Metered::Transcode, &v.video_id, 2)).expect("answer"), "once");
    assert_eq!(charge(&other.video_id, 5), Charge::Charged, "the settlement gave 4 minutes back");
}

#[test]
fn a_space_of_a_deleted_account_is_refused_as_the_account_and_a_full_quota_as_the_quota() {
    let (m, host, _) = world();
    let space = |name: &str| {
        let now = now_rfc3339();
        let s = vivid_domain::spaces::Space::new(
            name.to_owned().try_into().expect("name"),
            Default::default(),
            host.user_id.clone(),
            false,
            &now,
        );
        let membership = Membership {
            space_id: s.space_id.clone(),
            user_id: host.user_id.clone(),
            role: Role::Host,
            personal: false,
            joined_at: now,
        };
        ready(m.create_space(&s, &membership, 1))
    };
    let full = Guard::Quota(Exceeded { quota: Quota::HostedSpaces, limit: 1 });
    assert!(matches!(space("Second"), Err(StoreError::Condition(g)) if g == full), "one hosted already");
    ready(m.mark_deleting(&host.user_id, "mark")).expect("marked");
    assert!(matches!(space("Third"), Err(StoreError::Condition(Guard::Account))));
}

#[test]
fn a_member_s_write_needs_their_membership_and_a_ready_live_video() {
    let (m, host, space) = world();
    let member = m.sign_up("member@example.com");
    m.join(&space.space_id, &member.user_id, Role::Participant);
    let v = m.add_video(&uploading(VideoId::generate(), &space.space_id, &host.user_id, 10), VideoStatus::Ready);
    let progress = |user: &vivid_domain::users::User| Progress {
        video_id: v.video_id.clone(),
        user_id: user.user_id.clone(),
        space_id: space.space_id.clone(),
        progress_rate: 100,
        position_seconds: Seconds::new(1.0).expect("seconds"),
        last_access_at: now_rfc3339(),
        completed_at: Some(now_rfc3339()),
        coverage_percent: Some(100),
    };
    let stranger = m.sign_up("stranger@example.com");
    assert!(matches!(ready(m.put_progress(&progress(&stranger))), Err(StoreError::Condition(Guard::Grant))));
    ready(m.put_progress(&progress(&member))).expect("a member's");
    let standing = ready(m.standings(&space.space_id, Limit::DEFAULT, None)).expect("standings");
    let mine = standing.items.iter().find(|(ms, _)| ms.user_id == member.user_id).expect("the member");
    assert_eq!((mine.1.completed_videos, mine.1.progress_sum), (1, 100));
    assert!(ready(m.tombstone_video(&v)).expect("marked"));
    assert!(!ready(m.tombstone_video(&v)).expect("answer"), "marked already");
    let snap = Snapshot {
        snapshot_id: SnapshotId::generate(),
        video_id: v.video_id.clone(),
        user_id: member.user_id.clone(),
        space_id: space.space_id.clone(),
        video_seconds: Seconds::ZERO,
        content_type: "image/png".to_owned().try_into().expect("type"),
        object_key: "k".into(),
        created_at: now_rfc3339(),
        size_bytes: 10,
    };
    let limits = Limits::new(5, &Quotas::default());
    assert!(
        matches!(ready(m.put_snapshot(&snap, limits)), Err(StoreError::Condition(Guard::Grant))),
        "a video being deleted"
    );
    ready(m.delete_video(&v)).expect("deleted");
    assert_eq!(ready(m.get_video(&v.video_id)).expect("read"), None);
    let standing = ready(m.standings(&space.space_id, Limit::DEFAULT, None)).expect("standings");
    let mine = standing.items.iter().find(|(ms, _)| ms.user_id == member.user_id).expect("the member");
    assert_eq!((mine.1.completed_videos, mine.1.progress_sum), (0, 0), "its progress left the standing with it");
    assert_eq!(ready(m.get_space(&space.space_id)).expect("read").map(|s| s.video_count), Some(0));
}

#[test]
fn a_page_key_opens_its_own_list_only() {
    let (m, host, space) = world();
    let member = m.sign_up("member@example.com");
    m.join(&space.space_id, &member.user_id, Role::Participant);
    let page = ready(m.members(&space.space_id, Limit::clamped(1), None)).expect("page");
    let personal = host.personal_space_id.clone();
    assert!(matches!(ready(m.members(&personal, Limit::clamped(1), page.next)), Err(StoreError::ForeignStart)));
}

#[test]
fn a_multipart_upload_completes_as_s3_does() {
    let m = Memory::new();
    let key = layout::raw(&VideoId::generate());
    let id = ready(m.create_multipart(&key, "video/mp4")).expect("upload");
    let small = ready(m.upload_part(&key, &id, 1, vec![1; 10])).expect("part 1");
    let last = ready(m.upload_part(&key, &id, 2, vec![2; 10])).expect("part 2");
    let too_small = ready(m.complete_multipart(&key, &id, &[(1, small.clone()), (2, last.clone())]));
    assert!(matches!(too_small, Err(StoreError::Condition(Guard::Upload))), "a part but the last under 5 MiB");
    let big = ready(m.upload_part(&key, &id, 1, vec![1; 5 * 1024 * 1024])).expect("part 1 again");
    assert!(
        matches!(
            ready(m.complete_multipart(&key, &id, &[(1, small), (2, last.clone())])),
            Err(StoreError::Condition(Guard::Upload))
        ),
        "an old ETag"
    );
    ready(m.complete_multipart(&key, &id, &[(1, big), (2, last)])).expect("completed");
    let head = ready(m.head(Bucket::Raw, &key)).expect("head").expect("the object");
    assert_eq!((head.size, head.content_type.as_deref()), (5 * 1024 * 1024 + 10, Some("video/mp4")));
    assert!(
        matches!(ready(m.uploaded_parts(&key, &id)), Err(StoreError::Condition(Guard::Upload))),
        "gone once completed"
    );
}

#[test]
fn an_abandoned_upload_is_marked_once_and_its_bytes_given_back() {
    let (m, host, space) = world();
    let v = m.add_video(&uploading(VideoId::generate(), &space.space_id, &host.user_id, 500), VideoStatus::Uploading);
    let day = vivid_domain::quota::utc_day(vivid_domain::types::unix_now()).0;
    let usage = |m: &Memory| ready(m.get_profile(&host.user_id, &day)).expect("profile").expect("user").usage;
    assert_eq!(usage(&m).transcode_bytes_today, 500);
    assert_eq!(ready(m.pending_before("9999", Limit::DEFAULT)).expect("pending"), std::slice::from_ref(&v.video_id));
    assert!(ready(m.abandon_upload(&v, &day)).expect("abandoned"));
    assert!(!ready(m.abandon_upload(&v, &day)).expect("answer"), "once");
    assert_eq!(usage(&m).transcode_bytes_today, 0);
    assert!(ready(m.pending_before("9999", Limit::DEFAULT)).expect("pending").is_empty());
}
