//! Outgoing e-mail: the port (SES in AWS, moto's SES locally) and the messages VIVID sends.

use async_trait::async_trait;

use crate::{invitations::Invitation, spaces::Role, types::Email};

/// One plain-text message to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: Email,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail service refused the message (an unverified sender, a suppressed address).
    #[error("the mail service refused the message: {0}")]
    Rejected(String),
    /// Throttled or unavailable: the message was not sent.
    #[error("the mail service is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// The join link of a code: the front end's invitation page (`VIVID_INVITATION_URL`) and the
/// code as the last path segment.
pub fn join_url(page: &str, code: &str) -> String {
    format!("{}/{code}", page.trim_end_matches('/'))
}

/// The e-mail that carries an e-mail invitation.
pub fn invitation_mail(invitation: &Invitation, frontend: &str) -> Option<Mail> {
    let (space, inviter) = (&invitation.space_name, &invitation.inviter_name);
    let to = invitation.email.clone()?;
    let role = match invitation.role {
        Role::CoHost => "a co-host",
        _ => "a participant",
    };
    let url = join_url(frontend, invitation.code.as_str());
    Some(Mail {
        to,
        subject: format!("{inviter} invites you to \u{201c}{space}\u{201d} on VIVID"),
        text: format!(
            "{inviter} invites you to join \u{201c}{space}\u{201d} on VIVID as {role}.\n\n\
             Open this link to join (sign in with Google using this e-mail address):\n{url}\n\n\
             Or enter the code {code} in VIVID.\n\n\
             If you did not expect this invitation, you can ignore this message.\n",
            code = invitation.code,
        ),
    })
}
