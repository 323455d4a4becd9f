//! The launch, step by step: the login initiation's server-side state, the ID token checked,
//! the platform user matched (by `iss` and `sub`), the course linked to a space (created on an
//! instructor's first launch), the membership from the LTI roles, and the one-time code that
//! hands the session to the front end without a cross-site cookie. A launch by someone who
//! manages the course starts the course's roster sync, at most once per course in ten minutes
//! ([`roster::start_after_launch`]).

use std::sync::Arc;

use super::{
    launch::{
        CODE_TTL_SECS, DEEP_LINK_TTL_SECS, DEEP_LINKING_REQUEST, Launch, LaunchError, PlatformKeys, STATE_TTL_SECS,
        check_claims, joining_role, manages,
    },
    model::{
        ContextKey, ContextLink, DeepLinkContext, LaunchState, LaunchStore, LinkStore, Registration, RegistrationStore,
        SessionCode, UserLink,
    },
    roster::{self, LaunchSyncs, RosterInvoker},
};
use crate::{
    error::{Guard, StoreError},
    sessions::{RandomError, hash_secret, random_token},
    spaces::{Membership, Role, Space, SpaceStore},
    types::{Description, Email, SpaceId, SpaceName, VideoId, rfc3339_at},
    users::{User, UserStore},
};

/// Why a login or launch did not go through.
#[derive(Debug, thiserror::Error)]
pub enum LtiError {
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
    /// A learner launched from a course no instructor has opened VIVID from yet.
    #[error("this course has no VIVID space yet: an instructor of the course opens it first, then students can")]
    CourseNotLinked,
    /// A launch without a course (`context`): VIVID's spaces are courses.
    #[error("the launch names no course (context claim): place VIVID in a course")]
    NoCourse,
    /// A deep-linking request from someone who does not manage the course.
    #[error("only an instructor of the course can add VIVID videos to it")]
    NotInstructor,
    /// The platform user's VIVID account is being deleted.
    #[error("this account is being deleted: launch again in a minute to start a new one")]
    AccountDeleting,
    /// The space's host removed this person: a launch does not bring them back (a manager's
    /// addition does), as a roster sync does not.
    #[error("a manager of this course's VIVID space removed you from it: ask the instructor to add you again")]
    RemovedByHost,
}

/// A login initiation's parameters (third-party initiated login, LTI 1.3 §5.1.1).
#[derive(Debug, Clone, Default)]
pub struct LoginRequest {
    pub iss: String,
    pub login_hint: String,
    pub target_link_uri: String,
    pub lti_message_hint: Option<String>,
    pub client_id: Option<String>,
    pub lti_deployment_id: Option<String>,
}

/// Where a login initiation sends the browser: the platform's authorization endpoint with these
/// query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRedirect {
    pub auth_url: String,
    pub params: Vec<(&'static str, String)>,
}

/// A launch that went through: the front end exchanges `code` for the session.
#[derive(Debug, Clone)]
pub struct Launched {
    pub code: String,
    pub user: User,
    pub space_id: SpaceId,
    pub role: Role,
    pub video_id: Option<VideoId>,
    pub deep_link_id: Option<String>,
}

pub struct LtiPorts {
    pub registrations: Arc<dyn RegistrationStore>,
    pub links: Arc<dyn LinkStore>,
    pub launches: Arc<dyn LaunchStore>,
    pub keys: Arc<dyn PlatformKeys>,
    pub spaces: Arc<dyn SpaceStore>,
    pub users: Arc<dyn UserStore>,
}

/// What a managing launch starts the course's roster sync with: the record of the course's last
/// launch-started sync, and the roster worker.
pub struct RosterSyncPorts {
    pub syncs: Arc<dyn LaunchSyncs>,
    pub worker: Arc<dyn RosterInvoker>,
}

/// The LTI tool's launch flow over its ports.
pub struct Lti {
    p: LtiPorts,
    /// `None` where no launch is made (the login, the session): nothing to start.
    roster_sync: Option<RosterSyncPorts>,
    /// A course space's transcription, for the space a first managing launch creates.
    transcription: Option<crate::transcripts::Transcription>,
}

impl Lti {
    pub fn new(ports: LtiPorts) -> Self {
        Self { p: ports, roster_sync: None, transcription: None }
    }

    /// The transcription of the course spaces launches create ([`crate::transcripts::Transcription::for_new_space`]).
    pub fn with_transcription(mut self, transcription: Option<crate::transcripts::Transcription>) -> Self {
        self.transcription = transcription;
        self
    }

    /// The launch's flow that starts a managing launch's roster sync (`lti-launch`).
    pub fn with_roster_sync(mut self, syncs: Arc<dyn LaunchSyncs>, worker: Arc<dyn RosterInvoker>) -> Self {
        self.roster_sync = Some(RosterSyncPorts { syncs, worker });
        self
    }

    /// Every store port on one store (the table), and the platforms' keys.
    pub fn on<T>(store: Arc<T>, keys: Arc<dyn PlatformKeys>) -> Self
    where
        T: RegistrationStore + LinkStore + LaunchStore + SpaceStore + UserStore + 'static,
    {
        Self::new(LtiPorts {
            registrations: store.clone(),
            links: store.clone(),
            launches: store.clone(),
            keys,
            spaces: store.clone(),
            users: store,
        })
    }

    /// The registration a login names: by issuer and client id, or the issuer's only one.
    async fn registration_for(&self, iss: &str, client_id: Option<&str>) -> Result<Registration, LtiError> {
        let found = match client_id {
            Some(c) => self.p.registrations.registration(iss, c).await?,
            None => {
                let mut all = self.p.registrations.registrations_of(iss).await?;
                if all.len() == 1 { all.pop() } else { None }
            }
        };
        found.ok_or(LtiError::Launch(LaunchError::UnknownPlatform))
    }

    /// Stores the state and nonce (server-side, [`STATE_TTL_SECS`]) and answers where the
    /// browser goes: the platform's auth endpoint, `response_mode=form_post` back to
    /// `redirect_uri` (the tool's launch URL).
    pub async fn start_login(
        &self,
        req: &LoginRequest,
        redirect_uri: &str,
        now: u64,
    ) -> Result<AuthRedirect, LtiError> {
        let reg = self.registration_for(&req.iss, req.client_id.as_deref()).await?;
        if let Some(dep) = &req.lti_deployment_id
            && !reg.deployment_ids.contains(dep)
        {
            return Err(LaunchError::UnknownDeployment.into());
        }
        let state = LaunchState {
            state: random_token()?,
            nonce: random_token()?,
            issuer: reg.issuer.clone(),
            client_id: reg.client_id.clone(),
            deployment_id: req.lti_deployment_id.clone(),
            target_link_uri: req.target_link_uri.clone(),
            expires_at: now + STATE_TTL_SECS,
        };
        self.p.launches.put_launch_state(&state).await?;
        let mut params = vec![
            ("scope", "openid".to_owned()),
            ("response_type", "id_token".to_owned()),
            ("response_mode", "form_post".to_owned()),
            ("prompt", "none".to_owned()),
            ("client_id", reg.client_id.clone()),
            ("redirect_uri", redirect_uri.to_owned()),
            ("login_hint", req.login_hint.clone()),
            ("state", state.state),
            ("nonce", state.nonce),
        ];
        if let Some(hint) = &req.lti_message_hint {
            params.push(("lti_message_hint", hint.clone()));
        }
        Ok(AuthRedirect { auth_url: reg.auth_url, params })
    }

    /// The launch: the state taken once, the token verified and checked, then the person, the
    /// course's space, the membership and the one-time code; after a launch by someone who
    /// manages the course, when its launches offer NRPS, the roster worker started (one
    /// conditional write and one asynchronous invocation; never failing the launch).
    pub async fn launch(&self, id_token: &str, state: &str, now: u64) -> Result<Launched, LtiError> {
        let state = self.p.launches.take_launch_state(state, now).await?.ok_or(LaunchError::BadState)?;
        let reg = self
            .p
            .registrations
            .registration(&state.issuer, &state.client_id)
            .await?
            .ok_or(LaunchError::UnknownPlatform)?;
        let claims = self.p.keys.verify(&reg.jwks_url, id_token).await?;
        let launch = check_claims(&claims, &reg, &state, now)?;
        let context_id = launch.context_id.clone().ok_or(LtiError::NoCourse)?;
        let is_manager = manages(&launch.roles);
        if launch.message_type == DEEP_LINKING_REQUEST && !is_manager {
            return Err(LtiError::NotInstructor);
        }
        let user = self.user_of(&launch, now).await?;
        let context = ContextKey {
            issuer: launch.issuer.clone(),
            client_id: launch.client_id.clone(),
            deployment_id: launch.deployment_id.clone(),
            context_id,
        };
        let (space_id, role, offers_roster) = self.space_of(&launch, context.clone(), &user, is_manager, now).await?;
        let video_id = launch.video.as_deref().and_then(|v| v.parse::<VideoId>().ok());
        let deep_link_id = match (&launch.deep_link_return_url, launch.message_type == DEEP_LINKING_REQUEST) {
            (Some(return_url), true) => {
                let ctx = DeepLinkContext {
                    deep_link_id: random_token()?,
                    user_id: user.user_id.clone(),
                    space_id: space_id.clone(),
                    issuer: launch.issuer.clone(),
                    client_id: launch.client_id.clone(),
                    deployment_id: launch.deployment_id.clone(),
                    return_url: return_url.clone(),
                    data: launch.deep_link_data.clone(),
                    expires_at: now + DEEP_LINK_TTL_SECS,
                };
                self.p.launches.put_deep_link(&ctx).await?;
                Some(ctx.deep_link_id)
            }
            _ => None,
        };
        let code = random_token()?;
        self.p
            .launches
            .put_session_code(&SessionCode {
                code_hash: hash_secret(&code),
                user_id: user.user_id.clone(),
                space_id: space_id.clone(),
                video_id: video_id.clone(),
                deep_link_id: deep_link_id.clone(),
                expires_at: now + CODE_TTL_SECS,
            })
            .await?;
        if is_manager
            && offers_roster
            && let Some(sync) = &self.roster_sync
        {
            roster::start_after_launch(sync.syncs.as_ref(), sync.worker.as_ref(), &context, &space_id, now).await;
        }
        tracing::info!(space = %space_id, role = role.as_str(), message_type = %launch.message_type, "lti launch");
        Ok(Launched { code, user, space_id, role, video_id, deep_link_id })
    }

    /// The VIVID user of the platform's `(iss, sub)`, created on their first launch.
    async fn user_of(&self, launch: &Launch, now: u64) -> Result<User, LtiError> {
        for _ in 0..2 {
            if let Some(link) = self.p.links.user_link(&launch.issuer, &launch.subject).await?
                && let Some(user) = self.p.users.get_user(&link.user_id).await?
            {
                if user.deleting {
                    return Err(LtiError::AccountDeleting);
                }
                return Ok(user);
            }
            let hash = UserLink::hash(&launch.issuer, &launch.subject);
            // A placeholder address, the user's own: LTI users are never matched by e-mail.
            let email: Email = format!("lti-{}@lti.invalid", &hash[..32])
                .parse()
                .map_err(|e| StoreError::backend(format!("placeholder address: {e:?}")))?;
            let (user, personal) = User::sign_up(email, launch.name.clone(), None, &rfc3339_at(now));
            let link = UserLink {
                issuer: launch.issuer.clone(),
                subject: launch.subject.clone(),
                user_id: user.user_id.clone(),
            };
            match self.p.links.create_linked_user(&link, &user, &personal).await {
                Ok(()) => return Ok(user),
                // Another launch of the same person made them meanwhile: theirs is the user.
                Err(StoreError::Condition(Guard::Item | Guard::Email)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::unavailable("the platform user's account changed twice during the launch").into())
    }

    /// The course's space, the person's role in it (joined when they were not a member), and
    /// whether the course's launches offer its roster (the link's NRPS, this launch's or an
    /// earlier one's).
    async fn space_of(
        &self,
        launch: &Launch,
        context: ContextKey,
        user: &User,
        is_manager: bool,
        now: u64,
    ) -> Result<(SpaceId, Role, bool), LtiError> {
        let at = rfc3339_at(now);
        for _ in 0..2 {
            let link = self.p.links.context_link(&context).await?;
            let live = match &link {
                Some(l) => self.p.spaces.get_space(&l.space_id).await?.filter(|s| !s.deleting).map(|_| l.clone()),
                None => None,
            };
            if let Some(mut link) = live {
                if link.nrps != launch.nrps.clone().or(link.nrps.clone())
                    || link.ags != launch.ags.clone().or(link.ags.clone())
                {
                    link.nrps = launch.nrps.clone().or(link.nrps);
                    link.ags = launch.ags.clone().or(link.ags);
                    link.updated_at = at.clone();
                    match self.p.links.update_context_services(&link).await {
                        Ok(()) | Err(StoreError::Condition(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                let role = self.join(&link, user, launch, &at).await?;
                return Ok((link.space_id, role, link.nrps.is_some()));
            }
            if !is_manager {
                return Err(LtiError::CourseNotLinked);
            }
            let name: String =
                launch.context_title.chars().filter(|c| !c.is_control()).take(SpaceName::MAX_CHARS).collect();
            let name = SpaceName::try_from(name)
                .unwrap_or_else(|_| SpaceName::try_from("Course".to_owned()).unwrap_or_else(|_| SpaceName::personal()));
            let mut space = Space::new(name, Description::default(), user.user_id.clone(), false, &at);
            space.transcription = self.transcription.clone();
            let host = Membership {
                space_id: space.space_id.clone(),
                user_id: user.user_id.clone(),
                role: Role::Host,
                personal: false,
                joined_at: at.clone(),
            };
            let new_link = ContextLink {
                context: context.clone(),
                space_id: space.space_id.clone(),
                title: launch.context_title.clone(),
                nrps: launch.nrps.clone(),
                ags: launch.ags.clone(),
                created_at: at.clone(),
                updated_at: at.clone(),
            };
            let replaces = link.as_ref().map(|l| &l.space_id);
            match self.p.links.link_new_space(&new_link, &space, &host, &launch.subject, replaces).await {
                Ok(()) => return Ok((space.space_id, Role::Host, new_link.nrps.is_some())),
                Err(StoreError::Condition(Guard::Account)) => return Err(LtiError::AccountDeleting),
                // Another instructor's launch linked the course meanwhile: join theirs.
                Err(StoreError::Condition(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::unavailable("the course's link changed twice during the launch").into())
    }

    /// The person's role in the course's space, joining it when they are not a member with the
    /// role their LTI roles give ([`joining_role`]), marked as from the course (its context key
    /// hash, their subject) so that the course's roster sync manages the membership.
    async fn join(&self, link: &ContextLink, user: &User, launch: &Launch, at: &str) -> Result<Role, LtiError> {
        let space = &link.space_id;
        if let Some(m) = self.p.spaces.space_access(space, &user.user_id).await?.and_then(|a| a.membership) {
            return Ok(m.role);
        }
        let role = joining_role(&launch.roles);
        let membership = Membership {
            space_id: space.clone(),
            user_id: user.user_id.clone(),
            role,
            personal: false,
            joined_at: at.to_owned(),
        };
        match self.p.links.join_from_context(&membership, &link.context.hash(), &launch.subject).await {
            Ok(()) | Err(StoreError::Condition(Guard::Membership)) => Ok(role),
            Err(StoreError::Condition(Guard::Space)) => Err(LtiError::CourseNotLinked),
            Err(StoreError::Condition(Guard::Item)) => Err(LtiError::RemovedByHost),
            Err(StoreError::Condition(Guard::Account)) => Err(LtiError::AccountDeleting),
            Err(e) => Err(e.into()),
        }
    }

    /// The launch's code exchanged, once.
    pub async fn take_code(&self, code: &str, now: u64) -> Result<Option<SessionCode>, LtiError> {
        if code.is_empty() || code.len() > 128 {
            return Ok(None);
        }
        Ok(self.p.launches.take_session_code(&hash_secret(code), now).await?)
    }
}
