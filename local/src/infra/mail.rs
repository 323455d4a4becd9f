//! The mail SES would have delivered: moto keeps every message the functions send through its
//! SES; `GET /_local/mail` shows them (HTML), `GET /_local/mail.json?to=<address>` lists them for
//! scripts and tests. The stack also creates the template's SES identity in moto at start, as an
//! operator verifies it in SES before deploying.

use serde::Serialize;
use serde_json::Value;

use crate::error::StackError;

/// One message as sent.
#[derive(Debug, Clone, Serialize)]
pub struct SentMail {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

pub struct MailBox {
    http: reqwest::Client,
    /// moto's model dump, where SES's sent messages are (`ses.Message`).
    data_url: String,
}

impl MailBox {
    pub fn new(emulator: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            data_url: format!("{}/moto-api/data.json", emulator.trim_end_matches('/')),
        }
    }

    /// Every message sent, oldest first; only those to `to` when given.
    pub async fn sent(&self, to: Option<&str>) -> Result<Vec<SentMail>, String> {
        // moto serialises every model it holds for this dump, and fails now and then when a
        // request changes one meanwhile: asked again, it answers.
        let mut attempt = 0;
        let data: Value = loop {
            attempt += 1;
            let got = match self.http.get(&self.data_url).send().await.and_then(reqwest::Response::error_for_status) {
                Ok(resp) => resp.json().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match got {
                Ok(data) => break data,
                Err(e) if attempt >= 5 => return Err(e),
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await,
            }
        };
        let messages = data.pointer("/ses/Message").and_then(Value::as_array).cloned().unwrap_or_default();
        let text = |m: &Value, k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(messages
            .iter()
            .map(|m| SentMail {
                id: text(m, "id"),
                from: text(m, "source"),
                to: m
                    .get("destinations")
                    .and_then(Value::as_object)
                    .map(|d| {
                        d.values()
                            .filter_map(Value::as_array)
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                subject: text(m, "subject"),
                body: text(m, "body"),
            })
            .filter(|m| to.is_none_or(|to| m.to.iter().any(|a| a.eq_ignore_ascii_case(to))))
            .collect())
    }
}

/// Creates the SES identity mail is sent through (an existing one is kept).
pub async fn create_identity(sdk: &aws_config::SdkConfig, identity: &str) -> Result<(), StackError> {
    let ses = aws_sdk_sesv2::Client::new(sdk);
    match ses.create_email_identity().email_identity(identity).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => Err(StackError::Config(format!(
            "SES identity {identity}: {}",
            aws_sdk_sesv2::error::DisplayErrorContext(e)
        ))),
    }
}

/// Escapes text for HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page: newest first.
pub fn page(mails: &[SentMail]) -> String {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>VIVID local: sent mail</title></head><body>\
         <h1>Sent mail</h1><p>What SES would have delivered (moto keeps it; JSON at <a href=\"/_local/mail.json\">/_local/mail.json</a>).</p>",
    );
    if mails.is_empty() {
        html.push_str("<p>Nothing sent yet.</p>");
    }
    for m in mails.iter().rev() {
        html.push_str(&format!(
            "<article><h2>{}</h2><p>From {} to {}</p><pre>{}</pre></article><hr>",
            escape(&m.subject),
            escape(&m.from),
            escape(&m.to.join(", ")),
            escape(&m.body)
        ));
    }
    html.push_str("</body></html>");
    html
}
