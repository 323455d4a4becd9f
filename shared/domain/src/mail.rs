//! Outgoing e-mail: the port (SES in AWS, moto's SES locally) and the messages VIVID sends.

use async_trait::async_trait;

use sha2::{Digest, Sha256};

use crate::{
    invitations::Invitation,
    spaces::Role,
    types::{Email, scrub_line},
};

/// The subject of every invitation e-mail: fixed, so that no text a user chose (a space's name,
/// a profile name) reaches the organisation's mail as its headline.
pub const INVITATION_SUBJECT: &str = "You have been invited to a space on VIVID";
/// The most characters of a space's or an inviter's name an invitation e-mail quotes.
pub const MAIL_NAME_CHARS: usize = 60;

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

/// Text a user chose, as an e-mail quotes it: one line without control or bidirectional
/// characters, at most [`MAIL_NAME_CHARS`] characters (longer is cut, with an ellipsis).
pub fn quoted(text: &str) -> String {
    let mut line = scrub_line(text, MAIL_NAME_CHARS + 1);
    if line.chars().count() > MAIL_NAME_CHARS {
        line = line.chars().take(MAIL_NAME_CHARS - 1).collect::<String>().trim_end().to_owned() + "\u{2026}";
    }
    line
}

/// What a recipient's daily mail count is kept under: the SHA-256 (lower-case hex) of the
/// mailbox the address reaches, so the table never holds the address of someone who was only
/// mailed, and `ana+1@…`, `ana+2@…` (and Gmail's dotted variants) share one count.
pub fn recipient_key(to: &Email) -> String {
    Sha256::digest(mailbox(to).as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The mailbox an address reaches: lower-case, without a `+tag`, and for Gmail without dots in
/// the local part (Gmail ignores them) and `googlemail.com` read as `gmail.com`.
fn mailbox(to: &Email) -> String {
    let address = to.as_str().to_lowercase();
    let Some((local, domain)) = address.rsplit_once('@') else { return address };
    let local = local.split('+').next().unwrap_or(local);
    match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
        _ => format!("{local}@{domain}"),
    }
}

/// The e-mail that carries an e-mail invitation: a fixed subject; the space's and the
/// inviter's names only in the body, [`quoted`].
pub fn invitation_mail(invitation: &Invitation, frontend: &str) -> Option<Mail> {
    let (space, inviter) = (quoted(invitation.space_name.as_str()), quoted(&invitation.inviter_name));
    let to = invitation.email.clone()?;
    let role = match invitation.role {
        Role::CoHost => "a co-host",
        _ => "a participant",
    };
    let url = join_url(frontend, invitation.code.as_str());
    Some(Mail {
        to,
        subject: INVITATION_SUBJECT.to_owned(),
        text: format!(
            "You have been invited to join a space on VIVID as {role}.\n\n\
             Space: \u{201c}{space}\u{201d}\n\
             Invited by: \u{201c}{inviter}\u{201d}\n\n\
             Open this link to join (sign in with Google using this e-mail address):\n{url}\n\n\
             Or enter the code {code} in VIVID.\n\n\
             If you did not expect this invitation, you can ignore this message.\n",
            code = invitation.code,
        ),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn subaddresses_and_gmail_dots_share_one_recipient_count() {
        let key = |a: &str| recipient_key(&a.parse().expect("address"));
        assert_eq!(key("ana+1@example.org"), key("Ana+2@Example.org"));
        assert_eq!(key("ana@example.org"), key("ana+x@example.org"));
        assert_eq!(key("a.n.a@gmail.com"), key("ana+spam@googlemail.com"));
        assert_ne!(key("a.na@example.org"), key("ana@example.org"), "dots count outside Gmail");
        assert_ne!(key("ana@example.org"), key("bo@example.org"));
    }

    use super::*;
    use crate::{
        invitations::{InviteRequest, invitations_for},
        spaces::Space,
        types::{Description, SpaceName},
        users::User,
    };

    #[test]
    fn an_invitation_mail_has_a_fixed_subject_and_quotes_names_cleaned_in_its_body() {
        let evil = "Free \u{202E}gnp.exe\u{0000}\nBCC: all@x.org";
        let (inviter, _) = User::sign_up("host@x.org".parse().expect("email"), evil.into(), None, "t");
        let space = Space::new(
            SpaceName::try_from(format!("Physics {}", "x".repeat(92))).expect("a space name"),
            Description::default(),
            inviter.user_id.clone(),
            false,
            "t",
        );
        let request = InviteRequest::Emails {
            role: Role::Participant,
            expires_at_unix: None,
            emails: vec!["bo@x.org".parse().expect("email")],
        };
        let invitation = invitations_for(request, &space, &inviter, "t", 1000).expect("one").remove(0);
        let mail = invitation_mail(&invitation, "https://app.example/invitations").expect("a mail");
        assert_eq!(mail.subject, INVITATION_SUBJECT);
        assert!(mail.text.contains("Invited by: \u{201c}Free gnp.exe BCC: all@x.org\u{201d}\n"), "{}", mail.text);
        let quoted_space = mail.text.lines().find(|l| l.starts_with("Space: ")).expect("the space line");
        assert!(quoted_space.ends_with("x\u{2026}\u{201d}") && quoted_space.chars().count() <= 70, "{quoted_space}");
        assert!(!mail.text.chars().any(|c| c == '\u{202E}' || c == '\0'));
        assert!(mail.text.contains(&format!("/invitations/{}", invitation.code)));
    }

    #[test]
    fn a_recipient_is_counted_under_a_hash_of_the_address() {
        let key = recipient_key(&"Bo@X.org".parse().expect("email"));
        assert_eq!(key.len(), 64);
        assert_eq!(key, recipient_key(&"bo@x.org".parse().expect("email")));
        assert!(!key.contains("bo"));
    }
}
