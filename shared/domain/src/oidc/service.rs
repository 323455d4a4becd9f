//! Signing in, linking and unlinking with an institution's provider.

use super::{GOOGLE_ISSUER, IdentityStore, LinkedIdentity, MAX_IDENTITIES, OidcError, OidcProvider, VerifiedClaims};
use crate::{
    error::{Guard, StoreError},
    invitations::{InvitationStore, claim_invitations},
    types::{Email, now_rfc3339},
    users::User,
};

/// The verified address of `claims`, when the provider may sign it in: verified by the provider
/// (`email_verified`), well-formed, of a domain the provider is allowed. For Google with listed
/// domains, the account must also belong to that Workspace domain (`hd`): a consumer Google
/// account can hold a verified address of any domain.
fn admitted(provider: &OidcProvider, claims: &VerifiedClaims) -> Result<Email, OidcError> {
    if !claims.email_verified {
        return Err(OidcError::Unverified);
    }
    let email: Email =
        claims.email.as_deref().ok_or(OidcError::Unverified)?.parse().map_err(|_| OidcError::Unverified)?;
    let domain = email.as_str().rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
    if !provider.allows(&email) {
        return Err(OidcError::DomainNotAllowed(domain));
    }
    let any = provider.allowed_email_domains.iter().any(|d| d == super::ANY_DOMAIN);
    if provider.issuer == GOOGLE_ISSUER
        && !any
        && !claims.hosted_domain.as_deref().is_some_and(|hd| hd.eq_ignore_ascii_case(&domain))
    {
        return Err(OidcError::DomainNotAllowed(domain));
    }
    Ok(email)
}

fn identity(provider: &OidcProvider, claims: &VerifiedClaims, user: &User, email: Email) -> LinkedIdentity {
    LinkedIdentity {
        identity_id: LinkedIdentity::id_for(&claims.issuer, &claims.sub),
        user_id: user.user_id.clone(),
        provider: provider.id.clone(),
        issuer: claims.issuer.clone(),
        sub: claims.sub.clone(),
        email,
        linked_at: now_rfc3339(),
    }
}

fn live(user: User) -> Result<User, OidcError> {
    if user.deleting { Err(OidcError::AccountDeleting) } else { Ok(user) }
}

/// The user of a verified identity at `provider`, found by (issuer, subject); signs them up
/// (user + personal space + identity link, one transaction) on first sign-in. An address that
/// belongs to another account is never merged into it: [`OidcError::LinkRequired`].
pub async fn sign_in(
    store: &dyn IdentityStore,
    invitations: Option<&dyn InvitationStore>,
    provider: &OidcProvider,
    claims: VerifiedClaims,
) -> Result<User, OidcError> {
    let email = admitted(provider, &claims)?;
    if let Some(user) = store.user_by_identity(&claims.issuer, &claims.sub).await? {
        return live(user);
    }
    let (user, personal) = User::sign_up(email.clone(), claims.name.clone(), claims.picture.clone(), &now_rfc3339());
    let link = identity(provider, &claims, &user, email);
    match store.create_user_with_identity(&user, &personal, &link).await {
        Ok(()) => {
            tracing::info!(user_id = %user.user_id, provider = %provider.id, "signed up");
            if let Some(invitations) = invitations {
                // The sign-up stands whatever happens here (GET /users/me/invitations lists them).
                match claim_invitations(invitations, &user.user_id, &user.email).await {
                    Ok(0) => {}
                    Ok(joined) => tracing::info!(user_id = %user.user_id, joined, "invitations claimed"),
                    Err(e) => tracing::warn!(user_id = %user.user_id, error = %e, "claiming invitations failed"),
                }
            }
            Ok(user)
        }
        Err(StoreError::Condition(guard)) => match store.user_by_identity(&claims.issuer, &claims.sub).await? {
            // Another first sign-in of the same identity won the race.
            Some(user) => live(user),
            None if guard == Guard::Email => Err(OidcError::LinkRequired),
            None => Err(StoreError::Condition(guard).into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Links a verified identity at `provider` to `user` (signed in, and the one who started the
/// link). Linking it again to the same user is no error; linked to anyone else, refused.
pub async fn link(
    store: &dyn IdentityStore,
    user: &User,
    provider: &OidcProvider,
    claims: VerifiedClaims,
) -> Result<LinkedIdentity, OidcError> {
    let email = admitted(provider, &claims)?;
    let link = identity(provider, &claims, user, email);
    match store.user_by_identity(&claims.issuer, &claims.sub).await? {
        Some(owner) if owner.user_id == user.user_id => return Ok(link),
        Some(_) => return Err(OidcError::LinkedElsewhere),
        None => {}
    }
    if store.identities_of(&user.user_id).await?.len() >= MAX_IDENTITIES {
        return Err(OidcError::TooMany);
    }
    match store.link_identity(&link).await {
        Ok(()) => {
            tracing::info!(user_id = %user.user_id, provider = %provider.id, "identity linked");
            Ok(link)
        }
        Err(StoreError::Condition(Guard::Account)) => Err(OidcError::AccountDeleting),
        Err(StoreError::Condition(_)) => match store.user_by_identity(&claims.issuer, &claims.sub).await? {
            Some(owner) if owner.user_id == user.user_id => Ok(link),
            _ => Err(OidcError::LinkedElsewhere),
        },
        Err(e) => Err(e.into()),
    }
}

/// Unlinks one of `user`'s identities, unless it is their only way to sign in (their Google
/// account counts as one).
pub async fn unlink(store: &dyn IdentityStore, user: &User, identity_id: &str) -> Result<(), OidcError> {
    let linked = store.identities_of(&user.user_id).await?;
    let found = linked.iter().find(|i| i.identity_id == identity_id).ok_or(OidcError::NotLinked)?;
    if linked.len() + usize::from(user.google_sub.is_some()) <= 1 {
        return Err(OidcError::LastIdentity);
    }
    match store.unlink_identity(found, linked.len()).await {
        Ok(()) => Ok(()),
        // Another link or unlink went first: what is left is not what was counted.
        Err(StoreError::Condition(_)) => Err(OidcError::LastIdentity),
        Err(e) => Err(e.into()),
    }
}
