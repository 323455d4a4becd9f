//! Amazon SES (API v2): sends VIVID's e-mail from the address `VIVID_MAIL_FROM`, an address of
//! the SES identity the template names (`MailIdentity`). IAM grants `ses:SendEmail` on that
//! identity only, for that sender only. Locally, moto's SES keeps what was sent
//! (`/_local/mail` shows it).

use async_trait::async_trait;
use aws_sdk_sesv2::{
    error::{DisplayErrorContext, ProvideErrorMetadata},
    types::{Body, Content, Destination, EmailContent, Message},
};
use vivid_config::{Config, ConfigError, OnDemand};
use vivid_domain::mail::{Mail, MailError, Mailer};

pub struct SesMailer {
    client: OnDemand<aws_sdk_sesv2::Client>,
    from: String,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> Self {
        Self { client: OnDemand::ready(client), from: from.into() }
    }

    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self { client: OnDemand::new(cfg, aws_sdk_sesv2::Client::new)?, from: cfg.var("VIVID_MAIL_FROM")? })
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailError::Rejected(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).build())
            .build();
        let sent = self
            .client
            .get()
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(mail.to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                let refused = matches!(
                    e.code(),
                    Some(
                        "MessageRejected"
                            | "MailFromDomainNotVerifiedException"
                            | "AccountSuspendedException"
                            | "BadRequestException"
                            | "NotFoundException"
                    )
                );
                let detail = DisplayErrorContext(&e).to_string();
                if refused { Err(MailError::Rejected(detail)) } else { Err(MailError::Unavailable(detail)) }
            }
        }
    }
}
