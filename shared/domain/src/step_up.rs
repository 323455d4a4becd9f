//! Step-up: what cannot be undone asks for a recent sign-in.
//!
//! Deleting an account (`DELETE /users/me`) or a space (`DELETE /spaces/{id}`) destroys what no
//! one can restore, so it needs more than a valid access token: the interactive sign-in behind the
//! token (its `auth_time`, the refresh-token family's creation, unchanged by refreshes) must be at
//! most [`RECENT_SIGN_IN_SECS`] old. A session taken over — a browser left signed in, a refresh
//! cookie or token copied — keeps refreshing for up to 90 days, but every token it yields carries
//! the old sign-in; only someone who can sign in with the Google account again passes. Otherwise
//! the answer is RFC 9470's: 401 with `WWW-Authenticate: Bearer
//! error="insufficient_user_authentication", max_age="600"`, and the client signs in again and
//! repeats the request.
//!
//! Why ten minutes: long enough to sign in again and confirm a "delete for ever?" dialog, or to
//! delete a few spaces in a row after one sign-in; short enough that a device left unattended, or a
//! session whose refresh token leaked, cannot delete anything without its owner's Google sign-in.
//! It is also shorter than an access token's life (15 minutes), so an access token issued right
//! after a sign-in stops qualifying before it expires.
//!
//! Tokens issued before `auth_time` existed carry none and count as not recent. A sign-in moment
//! more than a minute in the future (clock skew between functions is a few seconds at most) does
//! not count either.

/// How old (in seconds) the sign-in behind a destructive deletion may be.
pub const RECENT_SIGN_IN_SECS: u64 = 600;

/// How far in the future a sign-in moment may lie and still count (clock skew).
const SKEW_SECS: u64 = 60;

/// The sign-in behind the token is too old (or unknown) for what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this needs a recent sign-in: sign in again, then repeat the request within {max_age} seconds")]
pub struct SignInTooOld {
    /// The most a sign-in may be old, in seconds (RFC 9470's `max_age`).
    pub max_age: u64,
}

/// Passes when the sign-in at `auth_time` is at most [`RECENT_SIGN_IN_SECS`] before `now`.
pub fn require_recent_sign_in(auth_time: Option<u64>, now: u64) -> Result<(), SignInTooOld> {
    let refused = SignInTooOld { max_age: RECENT_SIGN_IN_SECS };
    let Some(at) = auth_time else { return Err(refused) };
    if at > now + SKEW_SECS || now.saturating_sub(at) > RECENT_SIGN_IN_SECS {
        return Err(refused);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_counts_as_recent_for_ten_minutes_and_an_unknown_one_never() {
        let now = 1_800_000_000;
        assert_eq!(require_recent_sign_in(Some(now), now), Ok(()));
        assert_eq!(require_recent_sign_in(Some(now - 600), now), Ok(()), "ten minutes to the second");
        let refused = Err(SignInTooOld { max_age: 600 });
        assert_eq!(require_recent_sign_in(Some(now - 601), now), refused);
        assert_eq!(require_recent_sign_in(Some(now - 90 * 86_400), now), refused, "a session refreshed for weeks");
        assert_eq!(require_recent_sign_in(None, now), refused, "a token from before auth_time");
        assert_eq!(require_recent_sign_in(Some(now + 5), now), Ok(()), "a few seconds of clock skew");
        assert_eq!(require_recent_sign_in(Some(now + 3600), now), refused, "a sign-in in the future");
        assert_eq!(require_recent_sign_in(Some(0), now), refused, "a family id that was not a ULID");
    }
}
