//! The rules of signing in, linking and unlinking, against a store in memory that can lose a race
//! the way DynamoDB's conditions make a request lose it.

use std::sync::Mutex;

use async_trait::async_trait;

use super::{IdentityStore, LinkedIdentity, OidcError, OidcProvider, VerifiedClaims, link, sign_in, unlink};
use crate::{
    error::{Guard, StoreError},
    spaces::Space,
    types::{Email, UserId},
    users::User,
};

const ISSUER: &str = "https://login.uni.example";

#[derive(Default)]
struct Memory {
    users: Mutex<Vec<User>>,
    links: Mutex<Vec<LinkedIdentity>>,
}

#[async_trait]
impl IdentityStore for Memory {
    async fn user_by_identity(&self, issuer: &str, sub: &str) -> Result<Option<User>, StoreError> {
        let owner =
            self.links.lock().unwrap().iter().find(|l| l.issuer == issuer && l.sub == sub).map(|l| l.user_id.clone());
        Ok(owner.and_then(|id| self.users.lock().unwrap().iter().find(|u| u.user_id == id).cloned()))
    }
    async fn create_user_with_identity(
        &self,
        user: &User,
        _: &Space,
        identity: &LinkedIdentity,
    ) -> Result<(), StoreError> {
        if self.users.lock().unwrap().iter().any(|u| u.email == user.email) {
            return Err(StoreError::Condition(Guard::Email));
        }
        self.link_identity(identity).await?;
        self.users.lock().unwrap().push(user.clone());
        Ok(())
    }
    async fn link_identity(&self, identity: &LinkedIdentity) -> Result<(), StoreError> {
        let mut links = self.links.lock().unwrap();
        if links.iter().any(|l| l.issuer == identity.issuer && l.sub == identity.sub) {
            return Err(StoreError::Condition(Guard::Item));
        }
        links.push(identity.clone());
        Ok(())
    }
    async fn identities_of(&self, user: &UserId) -> Result<Vec<LinkedIdentity>, StoreError> {
        Ok(self.links.lock().unwrap().iter().filter(|l| &l.user_id == user).cloned().collect())
    }
    async fn unlink_identity(&self, identity: &LinkedIdentity, expected: usize) -> Result<(), StoreError> {
        let mut links = self.links.lock().unwrap();
        if links.iter().filter(|l| l.user_id == identity.user_id).count() != expected {
            return Err(StoreError::Condition(Guard::Item));
        }
        links.retain(|l| l.identity_id != identity.identity_id);
        Ok(())
    }
}

fn provider() -> OidcProvider {
    let spec =
        format!(r#"[{{"id":"uni","issuer":"{ISSUER}","clientId":"vivid","allowedEmailDomains":["uni.example"]}}]"#);
    OidcProvider::parse_all(&spec).expect("valid").remove(0)
}

fn claims(sub: &str, email: &str) -> VerifiedClaims {
    VerifiedClaims {
        issuer: ISSUER.into(),
        sub: sub.into(),
        email: Some(email.into()),
        email_verified: true,
        name: "Ana".into(),
        picture: None,
        hosted_domain: None,
    }
}

fn google_user(email: &str) -> User {
    let (mut user, _) = User::sign_up(email.parse::<Email>().expect("email"), "G".into(), None, "2026-01-01T00:00:00Z");
    user.google_sub = Some("g-1".into());
    user
}

#[tokio::test]
async fn the_same_identity_is_the_same_user_and_an_address_of_another_account_is_never_merged() {
    let store = Memory::default();
    let first = sign_in(&store, None, &provider(), claims("s-1", "ana@uni.example")).await.expect("signed up");
    let again = sign_in(&store, None, &provider(), claims("s-1", "ana@uni.example")).await.expect("signed in");
    assert_eq!(first.user_id, again.user_id);
    store.users.lock().unwrap().push(google_user("bo@uni.example"));
    let refused = sign_in(&store, None, &provider(), claims("s-2", "bo@uni.example")).await;
    assert!(matches!(refused, Err(OidcError::LinkRequired)), "{refused:?}");
}

#[tokio::test]
async fn unverified_or_foreign_addresses_are_refused_before_anything_is_read() {
    let store = Memory::default();
    let mut unverified = claims("s-1", "ana@uni.example");
    unverified.email_verified = false;
    assert!(matches!(sign_in(&store, None, &provider(), unverified).await, Err(OidcError::Unverified)));
    let mut none = claims("s-1", "ana@uni.example");
    none.email = None;
    assert!(matches!(sign_in(&store, None, &provider(), none).await, Err(OidcError::Unverified)));
    let foreign = sign_in(&store, None, &provider(), claims("s-1", "ana@sub.uni.example")).await;
    assert!(matches!(foreign, Err(OidcError::DomainNotAllowed(d)) if d == "sub.uni.example"));
    assert!(store.users.lock().unwrap().is_empty());
}

#[tokio::test]
async fn google_with_listed_domains_admits_only_accounts_of_that_workspace() {
    let store = Memory::default();
    let spec = r#"[{"id":"uni-google","issuer":"https://accounts.google.com","clientId":"vivid","allowedEmailDomains":["uni.example"]}]"#;
    let google = OidcProvider::parse_all(spec).expect("valid").remove(0);
    let as_google = |sub: &str, hd: Option<&str>| VerifiedClaims {
        issuer: "https://accounts.google.com".into(),
        hosted_domain: hd.map(str::to_owned),
        ..claims(sub, "ana@uni.example")
    };
    // A consumer Google account holding a verified uni.example address: not the university's.
    let consumer = sign_in(&store, None, &google, as_google("g-1", None)).await;
    assert!(matches!(&consumer, Err(OidcError::DomainNotAllowed(d)) if d == "uni.example"), "{consumer:?}");
    let other = sign_in(&store, None, &google, as_google("g-1", Some("elsewhere.example"))).await;
    assert!(matches!(other, Err(OidcError::DomainNotAllowed(_))), "{other:?}");
    assert!(store.users.lock().unwrap().is_empty());
    sign_in(&store, None, &google, as_google("g-1", Some("uni.example"))).await.expect("the workspace's account");
    // Google for anyone ("*"): no workspace needed.
    let spec =
        r#"[{"id":"google","issuer":"https://accounts.google.com","clientId":"vivid","allowedEmailDomains":["*"]}]"#;
    let public = OidcProvider::parse_all(spec).expect("valid").remove(0);
    sign_in(&Memory::default(), None, &public, as_google("g-2", None)).await.expect("a consumer account");
}

#[tokio::test]
async fn a_link_is_its_users_alone_and_the_last_way_in_stays() {
    let store = Memory::default();
    let fay = sign_in(&store, None, &provider(), claims("s-fay", "fay@uni.example")).await.expect("fay");
    let gus = google_user("gus@example.com");
    store.users.lock().unwrap().push(gus.clone());
    let stolen = link(&store, &gus, &provider(), claims("s-fay", "fay@uni.example")).await;
    assert!(matches!(stolen, Err(OidcError::LinkedElsewhere)), "{stolen:?}");
    let linked = link(&store, &gus, &provider(), claims("s-gus", "gus@uni.example")).await.expect("linked");
    let twice = link(&store, &gus, &provider(), claims("s-gus", "gus@uni.example")).await.expect("again: no error");
    assert_eq!(linked.identity_id, twice.identity_id);
    assert_eq!(store.identities_of(&gus.user_id).await.expect("list").len(), 1);

    let fays = store.identities_of(&fay.user_id).await.expect("list");
    assert!(matches!(unlink(&store, &fay, &fays[0].identity_id).await, Err(OidcError::LastIdentity)));
    assert!(matches!(unlink(&store, &fay, &linked.identity_id).await, Err(OidcError::NotLinked)));
    unlink(&store, &gus, &linked.identity_id).await.expect("Google stays: unlinked");
    assert!(store.identities_of(&gus.user_id).await.expect("list").is_empty());
}
