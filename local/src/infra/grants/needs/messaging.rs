//! SES v2's `SendEmail`, Lambda's `Invoke` and EventBridge's `PutEvents`.

use super::{Need, json};
use crate::infra::grants::{Context, LOCAL_ACCOUNT, LOCAL_REGION};

/// An SES v2 `SendEmail`: the sender's address and every recipient's (To, Cc, Bcc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesSend {
    pub from: String,
    pub recipients: Vec<String>,
}

/// The bare address of `Name <address>` (or of an address alone).
pub fn bare_address(text: &str) -> String {
    match (text.rfind('<'), text.rfind('>')) {
        (Some(start), Some(end)) if start < end => text[start + 1..end].trim().to_owned(),
        _ => text.trim().to_owned(),
    }
}

/// The sender and recipients of a `SendEmail` body.
pub fn ses_send(body: &[u8]) -> Option<SesSend> {
    let doc = json(body);
    let from = bare_address(doc["FromEmailAddress"].as_str()?);
    let recipients = ["ToAddresses", "CcAddresses", "BccAddresses"]
        .iter()
        .flat_map(|field| doc["Destination"][field].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(bare_address))
        .collect();
    Some(SesSend { from, recipients })
}

/// The identities an address may send or receive as, most specific first: the address itself
/// (as written, then in lower case) and its domain (SES identities do not depend on case).
pub fn ses_identity_candidates(address: &str) -> Vec<String> {
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or(address);
    let mut out: Vec<String> = Vec::new();
    for candidate in [address.to_owned(), address.to_ascii_lowercase(), domain.to_ascii_lowercase()] {
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

/// An SES identity's ARN.
pub fn ses_identity_arn(identity: &str) -> String {
    format!("arn:aws:ses:{LOCAL_REGION}:{LOCAL_ACCOUNT}:identity/{identity}")
}

/// A `SendEmail`'s condition keys.
pub fn ses_context(send: &SesSend) -> Context {
    Context::default().with("ses:FromAddress", [send.from.clone()]).with("ses:Recipients", send.recipients.clone())
}

/// Lambda `Invoke` (`/2015-03-31/functions/{name}/invocations[?Qualifier=q]`): its need, on the
/// function's ARN (a name, a partial or a full ARN in the path; the qualifier kept).
pub fn lambda_invoke(path: &str, query: Option<&str>) -> Option<Need> {
    let raw = path.strip_prefix("/2015-03-31/functions/")?.strip_suffix("/invocations")?;
    let named = percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned();
    let after = named.rsplit_once(":function:").map(|(_, rest)| rest.to_owned()).unwrap_or(named);
    let (name, in_arn) = match after.split_once(':') {
        Some((name, qualifier)) => (name.to_owned(), Some(qualifier.to_owned())),
        None => (after, None),
    };
    let qualifier = in_arn.or_else(|| query?.split('&').find_map(|p| p.strip_prefix("Qualifier=")).map(str::to_owned));
    let mut arn = format!("arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{name}");
    if let Some(q) = qualifier {
        arn = format!("{arn}:{q}");
    }
    Some(Need::new("lambda:InvokeFunction", arn))
}

/// An EventBridge request's needs: `events:PutEvents` on each entry's bus (`default` unless it
/// names one), other operations their action on `*`.
pub fn events(operation: &str, body: &[u8]) -> Vec<Need> {
    let action = format!("events:{operation}");
    if operation != "PutEvents" {
        return vec![Need::new(action, "*")];
    }
    let bus = |name: &str| {
        if name.starts_with("arn:") {
            name.to_owned()
        } else {
            format!("arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:event-bus/{name}")
        }
    };
    let mut needs: Vec<Need> = json(body)["Entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| Need::new(action.clone(), bus(e["EventBusName"].as_str().unwrap_or("default"))))
        .collect();
    needs.sort();
    needs.dedup();
    needs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_names_its_sender_and_recipients_and_their_identities() {
        let body = br#"{"FromEmailAddress":"VIVID <no-reply@vivid.example>","Destination":{"ToAddresses":["a@example.org"],"BccAddresses":["Bo <bo@other.net>"]}}"#;
        let send = ses_send(body).expect("a send");
        assert_eq!(
            send,
            SesSend {
                from: "no-reply@vivid.example".into(),
                recipients: vec!["a@example.org".into(), "bo@other.net".into()]
            }
        );
        assert_eq!(ses_identity_candidates("no-reply@vivid.example"), ["no-reply@vivid.example", "vivid.example"]);
        assert_eq!(ses_identity_candidates("Bo@Other.NET"), ["Bo@Other.NET", "bo@other.net", "other.net"]);
        assert_eq!(ses_identity_arn("vivid.example"), "arn:aws:ses:us-east-1:000000000000:identity/vivid.example");
        assert_eq!(ses_context(&send).get("ses:fromaddress"), Some(&["no-reply@vivid.example".to_owned()][..]));
    }

    #[test]
    fn an_invocation_needs_the_functions_arn() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:import-worker";
        assert_eq!(
            lambda_invoke("/2015-03-31/functions/import-worker/invocations", None),
            Some(Need::new("lambda:InvokeFunction", arn))
        );
        assert_eq!(
            lambda_invoke(
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aimport-worker/invocations",
                None
            ),
            Some(Need::new("lambda:InvokeFunction", arn))
        );
        assert_eq!(
            lambda_invoke("/2015-03-31/functions/import-worker/invocations", Some("Qualifier=live"))
                .map(|n| n.resource),
            Some(format!("{arn}:live"))
        );
        assert_eq!(lambda_invoke("/2015-03-31/functions/import-worker", None), None);
    }

    #[test]
    fn put_events_needs_each_entrys_bus() {
        let body = br#"{"Entries":[{"Source":"a"},{"Source":"b","EventBusName":"jobs"},{"Source":"c"}]}"#;
        assert_eq!(
            events("PutEvents", body),
            [
                Need::new("events:PutEvents", "arn:aws:events:us-east-1:000000000000:event-bus/default"),
                Need::new("events:PutEvents", "arn:aws:events:us-east-1:000000000000:event-bus/jobs"),
            ]
        );
        assert_eq!(events("PutRule", b"{}"), [Need::new("events:PutRule", "*")]);
    }
}
