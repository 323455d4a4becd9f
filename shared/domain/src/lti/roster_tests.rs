use std::sync::Mutex;

use super::*;
use crate::lti::services::{LineItem, LineItemSpec, Score};

const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";

fn member(sub: &str, role: &str, status: MemberStatus) -> PlatformMember {
    PlatformMember { user_id: sub.into(), roles: vec![role.into()], status, name: String::new(), email: None }
}

/// A user id standing for a name (ids are ULIDs).
fn uid(s: &str) -> UserId {
    let n = s.bytes().fold(7u128, |h, b| h.wrapping_mul(131).wrapping_add(u128::from(b)));
    ulid::Ulid::from(n).to_string().parse().expect("a user id")
}

fn in_space(user: &str, role: Role, sub: Option<&str>) -> SpaceMember {
    SpaceMember { user_id: uid(user), role, from_context: sub.map(str::to_owned) }
}

#[test]
fn roles_map_by_their_lis_names() {
    let r = |s: &str| role_for(&[s.to_owned()]);
    assert_eq!(r(INSTRUCTOR), Role::CoHost);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"), Role::CoHost);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"), Role::CoHost);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"), Role::CoHost);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"), Role::CoHost);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin"), Role::CoHost);
    assert_eq!(r("Instructor"), Role::CoHost, "LTI 1.3 allows the short context role names");
    assert_eq!(r(" Instructor "), Role::CoHost);
    assert_eq!(r("TeachingAssistant"), Role::CoHost);
    assert_eq!(r(LEARNER), Role::Participant);
    assert_eq!(r("Learner"), Role::Participant);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"), Role::Participant);
    assert_eq!(role_for(&[]), Role::Participant);
    assert_eq!(r("http://example.com/roles#NotInstructorish"), Role::Participant);
    assert_eq!(role_for(&[LEARNER.to_owned(), INSTRUCTOR.to_owned()]), Role::CoHost, "any managing role");
}

#[test]
fn roles_that_only_end_in_a_managing_name_are_participants() {
    let r = |s: &str| role_for(&[s.to_owned()]);
    // An institution's instructor is not this course's.
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"), Role::Participant);
    // A Learner's sub-role, whatever it is called.
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Instructor"), Role::Participant);
    // Another vocabulary.
    assert_eq!(r("https://evil.example/x/Instructor"), Role::Participant);
    assert_eq!(r("https://evil.example/x#Instructor"), Role::Participant);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#"), Role::Participant);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructorish"), Role::Participant);
    assert_eq!(r("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"), Role::Participant);
}

#[test]
fn joiners_leavers_and_role_changes() {
    let host = uid("host");
    let platform = vec![
        member("s-new", LEARNER, MemberStatus::Active),
        member("s-stay", LEARNER, MemberStatus::Active),
        member("s-promoted", INSTRUCTOR, MemberStatus::Active),
        member("s-inactive", LEARNER, MemberStatus::Inactive),
    ];
    let space = vec![
        in_space("host", Role::Host, None),
        in_space("by-hand", Role::Participant, None),
        in_space("stay", Role::Participant, Some("s-stay")),
        in_space("promoted", Role::Participant, Some("s-promoted")),
        in_space("inactive", Role::Participant, Some("s-inactive")),
        in_space("gone", Role::CoHost, Some("s-gone")),
    ];
    let changes = plan(&platform, &space, &host);
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert!(matches!(&changes[3], Change::Add { member, role: Role::Participant } if member.user_id == "s-new"));
    assert!(matches!(&changes[0], Change::Remove { .. }), "leavers first: {changes:?}");
    assert!(changes.contains(&Change::SetRole {
        user_id: uid("promoted"),
        sub: "s-promoted".into(),
        role: Role::CoHost
    }));
    assert!(changes.contains(&Change::Remove { user_id: uid("inactive"), sub: "s-inactive".into() }));
    assert!(changes.contains(&Change::Remove { user_id: uid("gone"), sub: "s-gone".into() }));
}

#[test]
fn the_host_and_hand_added_members_are_never_touched() {
    let host = uid("host");
    // The host came from the course (their first launch) and has left it; a hand-added member
    // is not in the course at all.
    let space = vec![in_space("host", Role::Host, Some("s-host")), in_space("by-hand", Role::CoHost, None)];
    assert_eq!(plan(&[], &space, &host), vec![]);
}

#[test]
fn a_subject_listed_twice_is_added_once() {
    let platform = vec![member("s1", LEARNER, MemberStatus::Active), member("s1", INSTRUCTOR, MemberStatus::Active)];
    assert_eq!(plan(&platform, &[], &uid("host")).len(), 1);
}

/// A space in memory and a platform that lists a fixed roster.
#[derive(Default)]
struct Fake {
    members: Mutex<Vec<SpaceMember>>,
    platform: Vec<PlatformMember>,
    /// Subjects the host removed by hand.
    removed: Vec<String>,
    /// Subjects whose writes fail.
    failing: Vec<String>,
    /// The writes, in order.
    log: Mutex<Vec<String>>,
}

#[async_trait]
impl LtiServices for Fake {
    async fn members(&self, _: &ServiceClient, _: &str, _: RosterBounds) -> Result<Vec<PlatformMember>, ServiceError> {
        Ok(self.platform.clone())
    }
    async fn line_item(&self, _: &ServiceClient, _: &str, _: &LineItemSpec) -> Result<LineItem, ServiceError> {
        Err(ServiceError::NotFound)
    }
    async fn post_score(&self, _: &ServiceClient, _: &LineItem, _: &Score) -> Result<(), ServiceError> {
        Err(ServiceError::NotFound)
    }
}

#[async_trait]
impl RosterStore for Fake {
    async fn roster_members(&self, _: &SpaceId, _: &str) -> Result<Vec<SpaceMember>, StoreError> {
        Ok(self.members.lock().expect("lock").clone())
    }
    async fn add_from_context(
        &self,
        _: &SpaceId,
        _: &str,
        _: &str,
        m: &PlatformMember,
        role: Role,
        _: &str,
    ) -> Result<Joined, StoreError> {
        if self.failing.contains(&m.user_id) {
            return Err(StoreError::unavailable("throttled"));
        }
        if self.removed.contains(&m.user_id) {
            return Ok(Joined::RemovedByHost);
        }
        let mut members = self.members.lock().expect("lock");
        let user_id = uid(&format!("u-{}", m.user_id));
        if members.iter().any(|x| x.user_id == user_id) {
            return Ok(Joined::AlreadyMember);
        }
        self.log.lock().expect("lock").push(format!("add {}", m.user_id));
        members.push(SpaceMember { user_id, role, from_context: Some(m.user_id.clone()) });
        Ok(Joined::Added)
    }
    async fn remove_from_context(&self, _: &SpaceId, user: &UserId, _: &str, sub: &str) -> Result<bool, StoreError> {
        if self.failing.iter().any(|f| f == sub) {
            return Err(StoreError::unavailable("throttled"));
        }
        let mut members = self.members.lock().expect("lock");
        let before = members.len();
        members.retain(|m| !(m.user_id == *user && m.from_context.as_deref() == Some(sub)));
        self.log.lock().expect("lock").push(format!("remove {sub}"));
        Ok(members.len() < before)
    }
    async fn set_context_role(
        &self,
        _: &SpaceId,
        user: &UserId,
        _: &str,
        sub: &str,
        role: Role,
    ) -> Result<bool, StoreError> {
        let mut members = self.members.lock().expect("lock");
        let Some(m) = members.iter_mut().find(|m| m.user_id == *user && m.from_context.as_deref() == Some(sub)) else {
            return Ok(false);
        };
        m.role = role;
        Ok(true)
    }
}

fn source() -> RosterSource {
    RosterSource {
        issuer: "https://lms.example".into(),
        context: "ctx".into(),
        client: ServiceClient { token_url: "https://lms.example/token".into(), client_id: "c".into(), audience: None },
        memberships_url: "https://lms.example/members".into(),
    }
}

#[tokio::test]
async fn a_sync_applies_the_roster_and_a_second_changes_nothing() {
    let fake = Fake {
        members: Mutex::new(vec![
            in_space("host", Role::Host, None),
            in_space("u-s2", Role::CoHost, Some("s2")),
            in_space("u-left", Role::Participant, Some("left")),
        ]),
        platform: vec![member("s1", LEARNER, MemberStatus::Active), member("s2", LEARNER, MemberStatus::Active)],
        ..Fake::default()
    };
    let source = source();
    let space = SpaceId::generate();
    let host = uid("host");
    let run = || sync_roster(&fake, &fake, &source, &space, &host, RosterBounds::default(), "now");
    assert_eq!(run().await.expect("sync"), SyncCounts { added: 1, removed: 1, updated: 1, ..SyncCounts::default() });
    assert_eq!(run().await.expect("sync again"), SyncCounts::default(), "idempotent");
    assert_eq!(*fake.log.lock().expect("lock"), ["remove left", "add s1"], "leavers before joiners");
}

#[tokio::test]
async fn a_failing_member_does_not_stop_the_sync_and_a_removed_one_is_skipped() {
    let fake = Fake {
        members: Mutex::new(vec![
            in_space("host", Role::Host, None),
            in_space("u-gone", Role::Participant, Some("gone")),
            in_space("u-stuck", Role::Participant, Some("stuck")),
        ]),
        platform: vec![
            member("bad", LEARNER, MemberStatus::Active),
            member("kicked", LEARNER, MemberStatus::Active),
            member("ok", LEARNER, MemberStatus::Active),
        ],
        removed: vec!["kicked".into()],
        failing: vec!["bad".into(), "stuck".into()],
        ..Fake::default()
    };
    let counts = sync_roster(&fake, &fake, &source(), &SpaceId::generate(), &uid("host"), RosterBounds::default(), "t")
        .await
        .expect("the sync goes on");
    assert_eq!((counts.added, counts.removed, counts.skipped), (1, 1, 1), "{counts:?}");
    let failed: Vec<&str> = counts.failed.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(failed, ["stuck", "bad"]);
    assert!(counts.failed.iter().all(|f| !f.reason.is_empty()));
    let json = serde_json::to_value(&counts).expect("json");
    assert_eq!(json["skipped"], 1);
    assert_eq!(json["failed"][0]["subject"], "stuck");
    let quiet = serde_json::to_value(SyncCounts::default()).expect("json");
    assert_eq!(quiet, serde_json::json!({ "added": 0, "removed": 0, "updated": 0 }), "nothing skipped nor failed");
}

#[tokio::test]
async fn an_empty_roster_does_not_empty_the_space() {
    let course: Vec<SpaceMember> =
        (0..8).map(|i| in_space(&format!("u{i}"), Role::Participant, Some(&format!("s{i}")))).collect();
    let fake = Fake { members: Mutex::new(course.clone()), ..Fake::default() };
    let err = sync_roster(&fake, &fake, &source(), &SpaceId::generate(), &uid("host"), RosterBounds::default(), "t")
        .await
        .expect_err("refused");
    assert!(matches!(err, SyncError::Platform(ServiceError::Unreadable(_))), "{err:?}");
    assert_eq!(fake.members.lock().expect("lock").len(), 8, "nobody removed");
    // A few leavers, or fewer than half, go as usual.
    let some_leave = |n: usize| -> Vec<PlatformMember> {
        (n..8).map(|i| member(&format!("s{i}"), LEARNER, MemberStatus::Active)).collect()
    };
    assert_eq!(too_many_removals(&plan(&some_leave(4), &course, &uid("host")), &course), None, "half");
    assert_eq!(too_many_removals(&plan(&some_leave(5), &course, &uid("host")), &course), None, "five");
    assert_eq!(too_many_removals(&plan(&some_leave(6), &course, &uid("host")), &course), Some((6, 8)));
    let small: Vec<SpaceMember> = course[..3].to_vec();
    assert_eq!(too_many_removals(&plan(&[], &small, &uid("host")), &small), None, "a small course may empty");
}

#[test]
fn a_linked_course_s_roster_and_grades_go_through_its_registration() {
    use crate::lti::{
        grades::GradeTarget,
        model::{AgsEndpoint, ContextKey, ContextLink, NrpsEndpoint, Registration},
    };
    let reg = Registration {
        issuer: "https://lms.example".into(),
        client_id: "tool".into(),
        deployment_ids: vec!["d".into()],
        auth_url: "https://lms.example/auth".into(),
        token_url: "https://lms.example/token".into(),
        jwks_url: "https://lms.example/jwks".into(),
        name: "LMS".into(),
        created_by: "user:x".into(),
        created_at: "t".into(),
    };
    let mut link = ContextLink {
        context: ContextKey {
            issuer: reg.issuer.clone(),
            client_id: "tool".into(),
            deployment_id: "d".into(),
            context_id: "c".into(),
        },
        space_id: SpaceId::generate(),
        title: String::new(),
        nrps: None,
        ags: None,
        created_at: "t".into(),
        updated_at: "t".into(),
    };
    assert!(RosterSource::of(&link, &reg).is_none(), "no NRPS offered");
    assert!(GradeTarget::of(&link, &reg, "sub", "Lecture").is_none(), "no AGS offered");
    link.nrps =
        Some(NrpsEndpoint { context_memberships_url: "https://lms.example/m".into(), service_versions: vec![] });
    link.ags = Some(AgsEndpoint { lineitems: Some("https://lms.example/li".into()), lineitem: None, scope: vec![] });
    let source = RosterSource::of(&link, &reg).expect("a roster");
    assert_eq!(source.memberships_url, "https://lms.example/m");
    assert_eq!(source.context, link.context.hash(), "memberships are marked with the course");
    assert_eq!(source.client.token_url, "https://lms.example/token");
    assert_eq!(source.client.client_id, "tool");
    let target = GradeTarget::of(&link, &reg, "sub", "Lecture").expect("a gradebook");
    assert_eq!(target.lineitems_url, "https://lms.example/li");
}

#[test]
fn a_launch_starts_a_course_s_sync_only_ten_minutes_after_its_last() {
    let t = 1_700_000_000;
    assert!(launch_sync_due(None, t), "never synced");
    assert!(!launch_sync_due(Some(t), t), "just started");
    assert!(!launch_sync_due(Some(t - LAUNCH_SYNC_EVERY_SECS), t), "exactly ten minutes ago still holds");
    assert!(launch_sync_due(Some(t - LAUNCH_SYNC_EVERY_SECS - 1), t), "more than ten minutes ago");
    assert!(!launch_sync_due(Some(t + 5), t), "a start in the future (another clock) holds too");
    assert!(!launch_sync_due(Some(0), 0), "the clock's start does not underflow");
    assert_eq!(launch_sync_cutoff(t), t - 600);
}

/// The record of a course's launch-started syncs, by the rule the table applies in its
/// condition ([`launch_sync_due`]), and a worker that may refuse to start.
#[derive(Default)]
struct Starts {
    last: Mutex<std::collections::HashMap<String, u64>>,
    jobs: Mutex<Vec<RosterJob>>,
    worker_down: std::sync::atomic::AtomicBool,
    store_down: bool,
}

#[async_trait]
impl LaunchSyncs for Starts {
    async fn claim_launch_sync(&self, context: &str, now: u64) -> Result<bool, StoreError> {
        if self.store_down {
            return Err(StoreError::unavailable("throttled"));
        }
        let mut last = self.last.lock().expect("lock");
        if !launch_sync_due(last.get(context).copied(), now) {
            return Ok(false);
        }
        last.insert(context.to_owned(), now);
        Ok(true)
    }
    async fn release_launch_sync(&self, context: &str, started: u64) -> Result<(), StoreError> {
        let mut last = self.last.lock().expect("lock");
        if last.get(context) == Some(&started) {
            last.remove(context);
        }
        Ok(())
    }
}

#[async_trait]
impl RosterInvoker for Starts {
    async fn start(&self, job: &RosterJob) -> Result<(), InvokeError> {
        if self.worker_down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(InvokeError::Unavailable("throttled".into()));
        }
        self.jobs.lock().expect("lock").push(job.clone());
        Ok(())
    }
}

fn course(id: &str) -> ContextKey {
    ContextKey {
        issuer: "https://lms.example".into(),
        client_id: "tool".into(),
        deployment_id: "d".into(),
        context_id: id.into(),
    }
}

#[tokio::test]
async fn managing_launches_start_one_sync_per_course_in_ten_minutes() {
    let starts = Starts::default();
    let (physics, chemistry) = (SpaceId::generate(), SpaceId::generate());
    let t = 1_700_000_000;
    let launch = |name: &'static str, space: &SpaceId, at: u64| {
        let (starts, space) = (&starts, space.clone());
        async move { start_after_launch(starts, starts, &course(name), &space, at).await }
    };
    assert_eq!(launch("physics", &physics, t).await, LaunchSync::Started);
    assert_eq!(launch("physics", &physics, t + 1).await, LaunchSync::Recent, "a second instructor");
    assert_eq!(launch("physics", &physics, t + 600).await, LaunchSync::Recent, "ten minutes on");
    assert_eq!(launch("chemistry", &chemistry, t + 2).await, LaunchSync::Started, "each course its own");
    assert_eq!(launch("physics", &physics, t + 601).await, LaunchSync::Started, "after ten minutes");
    let jobs: Vec<RosterJob> = starts.jobs.lock().expect("lock").clone();
    let job = |name: &str, space: &SpaceId| RosterJob { space_id: space.clone(), context: Some(course(name)) };
    assert_eq!(jobs, [job("physics", &physics), job("chemistry", &chemistry), job("physics", &physics)]);
    let recorded: Vec<String> = starts.last.lock().expect("lock").keys().cloned().collect();
    assert!(recorded.contains(&course("physics").hash()), "the record is the course's context key hash");

    // The worker could not be started: the record is taken back, and the next launch starts it.
    starts.worker_down.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(launch("physics", &physics, t + 1300).await, LaunchSync::NotStarted);
    starts.worker_down.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(launch("physics", &physics, t + 1301).await, LaunchSync::Started, "not held off by a failed start");
    assert_eq!(starts.jobs.lock().expect("lock").len(), 4);

    // The record cannot be written: nothing started, and the launch is not failed by it.
    let down = Starts { store_down: true, ..Starts::default() };
    assert_eq!(start_after_launch(&down, &down, &course("physics"), &physics, t).await, LaunchSync::NotStarted);
    assert!(down.jobs.lock().expect("lock").is_empty());
}

#[test]
fn the_roster_job_is_the_space_id_and_the_course() {
    let space = SpaceId::generate();
    let job = RosterJob { space_id: space.clone(), context: Some(course("physics")) };
    let json = serde_json::json!({
        "spaceId": space.to_string(),
        "context": { "issuer": "https://lms.example", "clientId": "tool", "deploymentId": "d", "contextId": "physics" }
    });
    assert_eq!(serde_json::to_value(&job).expect("json"), json);
    assert_eq!(serde_json::from_value::<RosterJob>(json).expect("a job"), job);
    // An event sent before the course was added still reads, as a job without it.
    let old = serde_json::from_value::<RosterJob>(serde_json::json!({ "spaceId": space.to_string() })).expect("a job");
    assert_eq!(old, RosterJob { space_id: space.clone(), context: None });
    assert_eq!(serde_json::to_value(&old).expect("json"), serde_json::json!({ "spaceId": space.to_string() }));
    assert!(serde_json::from_value::<RosterJob>(serde_json::json!({ "spaceId": "not a space" })).is_err());
    let half = serde_json::json!({ "spaceId": space.to_string(), "context": { "issuer": "https://lms.example" } });
    assert!(serde_json::from_value::<RosterJob>(half).is_err(), "a course without its key's parts");
}

#[test]
fn a_young_space_s_link_may_not_be_in_the_index_yet() {
    let t = 1_700_000_000;
    let at = crate::types::rfc3339_at;
    assert!(link_may_be_unindexed(&at(t), t), "made now");
    assert!(link_may_be_unindexed(&at(t - LINK_INDEX_GRACE_SECS), t), "made exactly the grace ago");
    assert!(!link_may_be_unindexed(&at(t - LINK_INDEX_GRACE_SECS - 1), t), "made before");
    assert!(!link_may_be_unindexed(&at(t - 3600), t));
    assert!(link_may_be_unindexed(&at(t + 5), t), "a made-at time in the future (another clock)");
    assert!(link_may_be_unindexed("2023-11-14T22:13:20.500Z", t), "with milliseconds, as spaces keep it");
    assert!(!link_may_be_unindexed("", t), "no made-at time: not young");
    assert!(link_may_be_unindexed(&at(0), 0), "the clock's start does not underflow");
}

/// A course's link as the table keeps it: by its own key (read consistently), and through its
/// space (GSI1), which may not have caught up yet (`indexed`).
struct Links {
    link: Option<ContextLink>,
    indexed: bool,
}

fn unused<T>() -> Result<T, StoreError> {
    Err(StoreError::backend("not used by a roster source"))
}

#[async_trait]
impl LinkStore for Links {
    async fn user_link(&self, _: &str, _: &str) -> Result<Option<crate::lti::model::UserLink>, StoreError> {
        unused()
    }
    async fn create_linked_user(
        &self,
        _: &crate::lti::model::UserLink,
        _: &crate::users::User,
        _: &crate::spaces::Space,
    ) -> Result<(), StoreError> {
        unused()
    }
    async fn context_link(&self, context: &ContextKey) -> Result<Option<ContextLink>, StoreError> {
        Ok(self.link.clone().filter(|l| l.context == *context))
    }
    async fn context_of_space(&self, space: &SpaceId) -> Result<Option<ContextLink>, StoreError> {
        Ok(self.link.clone().filter(|l| self.indexed && l.space_id == *space))
    }
    async fn link_new_space(
        &self,
        _: &ContextLink,
        _: &crate::spaces::Space,
        _: &crate::spaces::Membership,
        _: &str,
        _: Option<&SpaceId>,
    ) -> Result<(), StoreError> {
        unused()
    }
    async fn join_from_context(&self, _: &crate::spaces::Membership, _: &str, _: &str) -> Result<(), StoreError> {
        unused()
    }
    async fn update_context_services(&self, _: &ContextLink) -> Result<(), StoreError> {
        unused()
    }
}

struct Registrations(Registration);

#[async_trait]
impl RegistrationStore for Registrations {
    async fn put_registration(&self, _: &Registration) -> Result<(), StoreError> {
        unused()
    }
    async fn registration(&self, issuer: &str, client_id: &str) -> Result<Option<Registration>, StoreError> {
        Ok(Some(self.0.clone()).filter(|r| r.issuer == issuer && r.client_id == client_id))
    }
    async fn registrations_of(&self, _: &str) -> Result<Vec<Registration>, StoreError> {
        unused()
    }
    async fn all_registrations(&self) -> Result<Vec<Registration>, StoreError> {
        unused()
    }
    async fn registration_by_id(&self, _: &str) -> Result<Option<Registration>, StoreError> {
        unused()
    }
    async fn add_deployment(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: usize,
    ) -> Result<crate::lti::model::DeploymentAdded, StoreError> {
        unused()
    }
    async fn delete_registration(&self, _: &str) -> Result<bool, StoreError> {
        unused()
    }
    async fn put_invite(&self, _: &crate::lti::model::RegistrationInvite) -> Result<(), StoreError> {
        unused()
    }
    async fn take_invite(&self, _: &str, _: u64) -> Result<Option<crate::lti::model::RegistrationInvite>, StoreError> {
        unused()
    }
}

#[tokio::test]
async fn the_worker_s_course_link_is_read_by_its_key_and_must_name_the_space() {
    let reg = Registration {
        issuer: "https://lms.example".into(),
        client_id: "tool".into(),
        deployment_ids: vec!["d".into()],
        auth_url: "https://lms.example/auth".into(),
        token_url: "https://lms.example/token".into(),
        jwks_url: "https://lms.example/jwks".into(),
        name: "LMS".into(),
        created_by: "user:x".into(),
        created_at: "t".into(),
    };
    let registrations = Registrations(reg);
    let space = SpaceId::generate();
    let link = ContextLink {
        context: course("physics"),
        space_id: space.clone(),
        title: String::new(),
        nrps: Some(crate::lti::model::NrpsEndpoint {
            context_memberships_url: "https://lms.example/m".into(),
            service_versions: vec![],
        }),
        ags: None,
        created_at: "t".into(),
        updated_at: "t".into(),
    };
    // Written a moment ago: not in the index yet. The route's path misses it, the course's finds it.
    let fresh = Links { link: Some(link.clone()), indexed: false };
    let missed = RosterSource::of_space(&fresh, &registrations, &space).await;
    assert!(matches!(missed, Err(NoRoster::NotLinked)), "{missed:?}");
    let found = RosterSource::of_course(&fresh, &registrations, &course("physics"), &space).await.expect("a roster");
    assert_eq!(found.context, course("physics").hash());
    assert_eq!(found.memberships_url, "https://lms.example/m");
    let indexed = Links { link: Some(link.clone()), indexed: true };
    assert!(RosterSource::of_space(&indexed, &registrations, &space).await.is_ok(), "once the index caught up");

    // The course linked to another space since (the event's space was replaced): not this one's.
    let other = SpaceId::generate();
    let elsewhere = RosterSource::of_course(&fresh, &registrations, &course("physics"), &other).await;
    assert!(matches!(elsewhere, Err(NoRoster::NotLinked)), "{elsewhere:?}");
    // Another course, or none linked.
    let unlinked = RosterSource::of_course(&fresh, &registrations, &course("chemistry"), &space).await;
    assert!(matches!(unlinked, Err(NoRoster::NotLinked)), "{unlinked:?}");
    let none = Links { link: None, indexed: true };
    assert!(matches!(
        RosterSource::of_course(&none, &registrations, &course("physics"), &space).await,
        Err(NoRoster::NotLinked)
    ));
    // The course's platform no longer registered, or no NRPS offered.
    let mut unregistered = link.clone();
    unregistered.context.client_id = "gone".into();
    let gone = Links { link: Some(unregistered.clone()), indexed: false };
    let r = RosterSource::of_course(&gone, &registrations, &unregistered.context, &space).await;
    assert!(matches!(r, Err(NoRoster::NotRegistered)), "{r:?}");
    let no_nrps = Links { link: Some(ContextLink { nrps: None, ..link }), indexed: false };
    let r = RosterSource::of_course(&no_nrps, &registrations, &course("physics"), &space).await;
    assert!(matches!(r, Err(NoRoster::NoService)), "{r:?}");
}
