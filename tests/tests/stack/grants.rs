//! The local stack refuses what AWS IAM would refuse (`local/src/infra/grants/`): each function signs
//! with a key of its own, and a call its template `Policies` do not grant — the action, the
//! resource or the condition — gets the service's own refusal, with AWS's status and error code,
//! while the calls the template grants go through. Each test signs as a function
//! (`function_sdk`), as its Lambda role would; the last ones change the template and watch a route
//! meet the refusal.
//!
//! Under `VIVID_GRANTS_AUDIT` (a run that lists missing grants instead of refusing them) nothing
//! is refused, so these tests have nothing to see and return at once.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::{
    error::{ProvideErrorMetadata, SdkError},
    primitives::Blob,
};
use reqwest::StatusCode;
use serde_json::json;
use vivid_local::{infra::grants::Denial, stack::function_sdk};
use vivid_tests::{TestApp, repo_root};

type Raw = aws_sdk_kms::config::http::HttpResponse;

/// The status and error code of a refused call.
fn refused<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, Raw>>,
) -> (u16, String) {
    let e = result.expect_err("refused");
    let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or_default();
    (status, e.code().unwrap_or_default().to_owned())
}

fn auditing() -> bool {
    std::env::var_os("VIVID_GRANTS_AUDIT").is_some()
}

fn denied(app: &TestApp, function: &str, action: &str) -> Vec<Denial> {
    app.stack.denied_grants().into_iter().filter(|d| d.function == function && d.action == action).collect()
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

#[tokio::test]
async fn dynamodb_refuses_a_table_or_index_the_function_is_not_granted() {
    if auditing() {
        return;
    }
    let app = TestApp::spawn().await;
    let t = app.table.as_str();
    // order-videos: Query on the index GSI1 only; BatchGetItem and UpdateItem on the table.
    let db = aws_sdk_dynamodb::Client::new(&function_sdk(&app.stack.sdk, "order-videos"));
    let on_index = db
        .query()
        .table_name(t)
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :pk")
        .expression_attribute_values(":pk", s("NOBODY"))
        .send()
        .await;
    assert!(on_index.is_ok(), "{on_index:?}");
    let on_table = db
        .query()
        .table_name(t)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", s("NOBODY"))
        .send()
        .await;
    assert_eq!(refused(on_table), (400, "AccessDeniedException".into()), "the table is not the index");
    let get = db.get_item().table_name(t).key("PK", s("A")).key("SK", s("B")).send().await;
    assert_eq!(refused(get), (400, "AccessDeniedException".into()), "an action it is not granted");
    let other_table = db
        .batch_get_item()
        .request_items(
            "another-table",
            aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .keys([("PK".to_owned(), s("A")), ("SK".to_owned(), s("B"))].into())
                .build()
                .expect("keys"),
        )
        .send()
        .await;
    assert_eq!(refused(other_table), (400, "AccessDeniedException".into()), "another table");
    let table_arn = format!("arn:aws:dynamodb:us-east-1:000000000000:table/{t}");
    assert_eq!(denied(&app, "order-videos", "dynamodb:Query")[0].resource, table_arn);
    assert_eq!(app.stack.denied_grants().len(), 3, "{:?}", app.stack.denied_grants());
}

#[tokio::test]
async fn kms_refuses_an_operation_a_key_or_an_encryption_context_the_function_is_not_granted() {
    if auditing() {
        return;
    }
    let app = TestApp::spawn().await;
    let key = app.stack.token_key_arn.clone();
    // webex-connect: kms:Encrypt on the token key, with `userId` in the encryption context.
    let kms = aws_sdk_kms::Client::new(&function_sdk(&app.stack.sdk, "webex-connect"));
    let sealed = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new("token"))
        .encryption_context("userId", "u1")
        .send()
        .await
        .expect("granted")
        .ciphertext_blob
        .expect("ciphertext");
    let without_context = kms.encrypt().key_id(&key).plaintext(Blob::new("token")).send().await;
    assert_eq!(refused(without_context), (400, "AccessDeniedException".into()), "the condition is not met");
    let decrypt = kms.decrypt().ciphertext_blob(sealed.clone()).encryption_context("userId", "u1").send().await;
    assert_eq!(refused(decrypt), (400, "AccessDeniedException".into()), "webex-connect only seals");
    // The key named by an alias is the same key, as IAM sees it.
    aws_sdk_kms::Client::new(&app.stack.sdk)
        .create_alias()
        .alias_name(format!("alias/{}-tokens", app.table))
        .target_key_id(&key)
        .send()
        .await
        .expect("alias");
    let by_alias = kms
        .encrypt()
        .key_id(format!("alias/{}-tokens", app.table))
        .plaintext(Blob::new("token"))
        .encryption_context("userId", "u1")
        .send()
        .await;
    assert!(by_alias.is_ok(), "{by_alias:?}");

    // list-recordings may open what webex-connect sealed (the key found in the ciphertext).
    let opener = aws_sdk_kms::Client::new(&function_sdk(&app.stack.sdk, "list-recordings"));
    let opened = opener.decrypt().ciphertext_blob(sealed).encryption_context("userId", "u1").send().await;
    assert_eq!(opened.expect("granted").plaintext.map(Blob::into_inner), Some(b"token".to_vec()));
    // A function with no KMS grant at all.
    let stranger = aws_sdk_kms::Client::new(&function_sdk(&app.stack.sdk, "get-me"));
    let sealed_by_stranger =
        stranger.encrypt().key_id(&key).plaintext(Blob::new("x")).encryption_context("userId", "u1").send().await;
    assert_eq!(refused(sealed_by_stranger), (400, "AccessDeniedException".into()));
    let refusals = app.stack.denied_grants();
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    assert!(refusals.iter().all(|d| d.resource == key), "{refusals:?}");
}

/// Where a function's environment names a secret: a variable whose value is a Secrets Manager
/// ARN (`*_SECRET_ARN`, and `VIVID_JWT_SIGNING_KEY_ARN`, which names one too).
fn names_a_secret(value: &str) -> bool {
    value.starts_with("arn:aws:secretsmanager:")
}

/// Every secret every function's environment names, read as that function (`GetSecretValue`,
/// signed with its own key, as its Lambda role would, through the IAM-checking proxy): the
/// variables read, as (function, variable), and the ones refused, with the status and code.
/// Secrets are read on first use, not at init: a missing grant no longer fails a cold start, only
/// the request that needs the secret, which no other test may reach (a second page's cursor).
async fn read_every_secret(app: &TestApp) -> (Vec<(String, String)>, Vec<(String, String, u16, String)>) {
    let mut functions: Vec<_> = app.stack.environments.iter().collect();
    functions.sort_by_key(|(name, _)| name.as_str());
    let (mut read, mut refusals) = (Vec::new(), Vec::new());
    for (function, env) in functions {
        let mut named: Vec<_> = env.iter().filter(|(k, v)| k.ends_with("_SECRET_ARN") || names_a_secret(v)).collect();
        named.sort();
        let secrets = aws_sdk_secretsmanager::Client::new(&function_sdk(&app.stack.sdk, function));
        for (variable, arn) in named {
            assert!(names_a_secret(arn), "{function}: {variable} is {arn:?}, not a secret's ARN");
            match secrets.get_secret_value().secret_id(arn).send().await {
                Ok(_) => read.push((function.clone(), variable.clone())),
                Err(e) => {
                    let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or_default();
                    let code = e.code().unwrap_or_default().to_owned();
                    refusals.push((function.clone(), variable.clone(), status, code));
                }
            }
        }
    }
    (read, refusals)
}

#[tokio::test]
async fn every_function_may_read_every_secret_its_environment_names_and_no_other() {
    if auditing() {
        return;
    }
    let app = TestApp::spawn().await;
    let (read, refusals) = read_every_secret(&app).await;
    assert_eq!(refusals, [], "secrets a function's environment names but its policies do not grant");
    assert_eq!(app.stack.denied_grants(), []);
    let variables: std::collections::BTreeSet<&str> = read.iter().map(|(_, v)| v.as_str()).collect();
    for v in [
        "VIVID_CURSOR_SECRET_ARN",
        "VIVID_JWT_SIGNING_KEY_ARN",
        "VIVID_GOOGLE_CLIENT_SECRET_ARN",
        "VIVID_CDN_PRIVATE_KEY_SECRET_ARN",
        "VIVID_WEBEX_CLIENT_SECRET_ARN",
        "VIVID_ZOOM_CLIENT_SECRET_ARN",
        "VIVID_ZOOM_WEBHOOK_SECRET_ARN",
    ] {
        assert!(variables.contains(v), "{v} read by no function: {read:?}");
    }
    for f in ["list-snapshots", "list-drawings", "list-videos", "get-playback"] {
        assert!(read.iter().any(|(function, _)| function == f), "{f} names a secret: {read:?}");
    }

    // A function whose environment names no secret may read none, by ARN or by name.
    let env = |f: &str, v: &str| app.stack.environments[f][v].clone();
    assert!(!app.stack.environments["get-me"].values().any(|v| names_a_secret(v)));
    let stranger = aws_sdk_secretsmanager::Client::new(&function_sdk(&app.stack.sdk, "get-me"));
    let cursor = env("list-videos", "VIVID_CURSOR_SECRET_ARN");
    assert_eq!(
        refused(stranger.get_secret_value().secret_id(&cursor).send().await),
        (400, "AccessDeniedException".into())
    );
    // A function granted one secret may not read another, by ARN or by name.
    let secrets = aws_sdk_secretsmanager::Client::new(&function_sdk(&app.stack.sdk, "list-videos"));
    let by_name = secrets.get_secret_value().secret_id(format!("{}/cursor", app.table)).send().await;
    assert!(by_name.is_ok(), "the name stands for the same secret: {by_name:?}");
    let signing_key =
        secrets.get_secret_value().secret_id(env("google-token", "VIVID_JWT_SIGNING_KEY_ARN")).send().await;
    assert_eq!(refused(signing_key), (400, "AccessDeniedException".into()));
    let by_name = secrets.get_secret_value().secret_id(format!("{}/jwt-signing-key", app.table)).send().await;
    assert_eq!(refused(by_name), (400, "AccessDeniedException".into()));
    assert_eq!(denied(&app, "get-me", "secretsmanager:GetSecretValue")[0].resource, cursor);
    let refusals = denied(&app, "list-videos", "secretsmanager:GetSecretValue");
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    assert!(refusals.iter().all(|d| d.resource == env("google-token", "VIVID_JWT_SIGNING_KEY_ARN")), "{refusals:?}");
}

#[tokio::test]
async fn given_a_function_whose_environment_names_a_secret_it_is_not_granted_then_its_read_is_refused() {
    if auditing() {
        return;
    }
    // list-snapshots keeps VIVID_CURSOR_SECRET_ARN but may no longer read it (only its second page
    // signs a cursor, and its cold start reads no secret: the stack starts all the same).
    let template = template_with(&[(
        "ListSnapshotsFunction",
        "Action: [secretsmanager:GetSecretValue]",
        "Action: [secretsmanager:DescribeSecret]",
    )]);
    let app = TestApp::spawn_configured(|c| c.template = template.clone()).await;
    let _ = std::fs::remove_dir_all(template.parent().expect("its directory"));
    let (read, refusals) = read_every_secret(&app).await;
    assert_eq!(
        refusals,
        [("list-snapshots".to_owned(), "VIVID_CURSOR_SECRET_ARN".to_owned(), 400, "AccessDeniedException".to_owned())]
    );
    assert!(read.iter().any(|(f, _)| f == "list-drawings"), "the others still read theirs: {read:?}");
    let cursor = app.stack.environments["list-snapshots"]["VIVID_CURSOR_SECRET_ARN"].clone();
    assert_eq!(denied(&app, "list-snapshots", "secretsmanager:GetSecretValue")[0].resource, cursor);
}

/// A plain-text `SendEmail` through SES v2.
async fn send(ses: &aws_sdk_sesv2::Client, from: &str, to: &str) -> Result<(), (u16, String, String)> {
    use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
    let text = |t: &str| Content::builder().data(t).build().expect("content");
    let message = Message::builder().subject(text("Hello")).body(Body::builder().text(text("Hi")).build()).build();
    let sent = ses
        .send_email()
        .from_email_address(from)
        .destination(Destination::builder().to_addresses(to).build())
        .content(EmailContent::builder().simple(message).build())
        .send()
        .await;
    match sent {
        Ok(_) => Ok(()),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or_default();
            Err((status, e.code().unwrap_or_default().to_owned(), e.message().unwrap_or_default().to_owned()))
        }
    }
}

#[tokio::test]
async fn ses_refuses_another_sender_another_function_and_in_the_sandbox_an_unverified_recipient() {
    if auditing() {
        return;
    }
    let app = TestApp::spawn().await;
    let from = app.stack.environments["create-invitations"]["VIVID_MAIL_FROM"].clone();
    let ses = aws_sdk_sesv2::Client::new(&function_sdk(&app.stack.sdk, "create-invitations"));
    // The tests' stacks verify example.org, as an operator verifies the testers' addresses.
    assert_eq!(send(&ses, &from, "ana@example.org").await, Ok(()));
    let (status, code, _) = send(&ses, "someone-else@vivid.example", "ana@example.org").await.expect_err("refused");
    assert_eq!((status, code.as_str()), (403, "AccessDeniedException"), "ses:FromAddress is the template's MailFrom");
    let (status, code, message) = send(&ses, &from, "bo@unverified.test").await.expect_err("refused");
    assert_eq!((status, code.as_str()), (400, "MessageRejected"), "{message}");
    assert_eq!(
        message,
        "Email address is not verified. The following identities failed the check in region US-EAST-1: bo@unverified.test"
    );
    let stranger = aws_sdk_sesv2::Client::new(&function_sdk(&app.stack.sdk, "list-videos"));
    let (status, code, _) = send(&stranger, &from, "ana@example.org").await.expect_err("refused");
    assert_eq!((status, code.as_str()), (403, "AccessDeniedException"));
    assert_eq!(
        denied(&app, "create-invitations", "ses:SendEmail").len(),
        2,
        "the sender's identity and the recipient's"
    );
    assert_eq!(denied(&app, "list-videos", "ses:SendEmail").len(), 2, "the sender's identity and the recipient's");

    // Out of the sandbox (production access), any recipient.
    let production = TestApp::spawn_configured(|c| c.ses_sandbox = false).await;
    let from = production.stack.environments["create-invitations"]["VIVID_MAIL_FROM"].clone();
    let ses = aws_sdk_sesv2::Client::new(&function_sdk(&production.stack.sdk, "create-invitations"));
    assert_eq!(send(&ses, &from, "bo@unverified.test").await, Ok(()));
    assert_eq!(production.stack.denied_grants(), []);
}

#[tokio::test]
async fn lambda_refuses_to_invoke_a_function_the_caller_is_not_granted() {
    if auditing() {
        return;
    }
    let app = TestApp::spawn().await;
    let invoke = |caller: &str, function: &str| {
        let lambda = aws_sdk_lambda::Client::new(&function_sdk(&app.stack.sdk, caller));
        let function = function.to_owned();
        async move {
            lambda
                .invoke()
                .function_name(function)
                .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                .payload(aws_sdk_lambda::primitives::Blob::new(r#"{"probe":true}"#))
                .send()
                .await
        }
    };
    let granted = invoke("import-recording", "import-worker").await.expect("granted");
    assert_eq!(granted.status_code, 202);
    assert_eq!(refused(invoke("import-recording", "on-raw-upload").await), (403, "AccessDeniedException".into()));
    assert_eq!(refused(invoke("list-videos", "import-worker").await), (403, "AccessDeniedException".into()));
    let refusals = app.stack.denied_grants();
    assert_eq!(
        refusals.iter().map(|d| (d.function.as_str(), d.resource.as_str())).collect::<Vec<_>>(),
        [
            ("import-recording", "arn:aws:lambda:us-east-1:000000000000:function:on-raw-upload"),
            ("list-videos", "arn:aws:lambda:us-east-1:000000000000:function:import-worker"),
        ]
    );
}

#[tokio::test]
async fn transcribe_refuses_a_job_the_function_may_not_start_or_media_it_may_not_read() {
    if auditing() {
        return;
    }
    let app = TestApp::spawn().await;
    let client = |function: &str| {
        let config = aws_sdk_transcribe::config::Builder::from(&function_sdk(&app.stack.sdk, function))
            .endpoint_url(&app.stack.transcribe.endpoint)
            .build();
        aws_sdk_transcribe::Client::from_conf(config)
    };
    let media = &app.stack.buckets.media;
    let start = |function: &str, job: String, media_uri: String| {
        let transcribe = client(function);
        let media = media.clone();
        async move {
            transcribe
                .start_transcription_job()
                .transcription_job_name(job)
                .media(aws_sdk_transcribe::types::Media::builder().media_file_uri(media_uri).build())
                .output_bucket_name(media)
                .output_key("media/01X/transcript.json")
                .send()
                .await
        }
    };
    // on-transcode-event: jobs named after its stack; the media bucket's media/* read and written.
    let mp4 = format!("s3://{media}/media/01X/video.mp4");
    let job = || app.transcription_job(&ulid::Ulid::new().to_string());
    let ok = start("on-transcode-event", job(), mp4.clone()).await;
    assert!(ok.is_ok(), "{ok:?}");
    let other_job = start("on-transcode-event", "someone-elses-01X".into(), mp4.clone()).await;
    assert_eq!(refused(other_job), (400, "AccessDeniedException".into()));
    let raw = format!("s3://{}/raw/01X", app.stack.buckets.raw);
    let unreadable = start("on-transcode-event", job(), raw).await;
    assert_eq!(refused(unreadable), (400, "BadRequestException".into()), "it may not read the raw upload");
    let stranger = start("on-raw-upload", job(), mp4).await;
    assert_eq!(refused(stranger), (400, "AccessDeniedException".into()));
    assert_eq!(app.stack.transcribe.jobs().len(), 1, "only the granted job started");
    assert_eq!(denied(&app, "on-transcode-event", "s3:GetObject").len(), 1);
    assert_eq!(denied(&app, "on-transcode-event", "transcribe:StartTranscriptionJob").len(), 1);
}

#[tokio::test]
async fn mediaconvert_refuses_a_job_operation_or_a_role_the_function_is_not_granted() {
    if auditing() {
        return;
    }
    let app = TestApp::spawn().await;
    let client = |function: &str| {
        let config = aws_sdk_mediaconvert::config::Builder::from(&function_sdk(&app.stack.sdk, function))
            .endpoint_url(&app.stack.mediaconvert.endpoint)
            .build();
        aws_sdk_mediaconvert::Client::from_conf(config)
    };
    let role = app.stack.environments["on-raw-upload"]["VIVID_MEDIACONVERT_ROLE_ARN"].clone();
    let settings = aws_sdk_mediaconvert::types::JobSettings::builder().build();
    let create =
        |function: &str, role: &str| client(function).create_job().role(role).settings(settings.clone()).send();

    // on-raw-upload: CreateJob, passing the MediaConvert role to MediaConvert.
    let job = create("on-raw-upload", &role).await.expect("granted").job.and_then(|j| j.id).expect("a job id");
    let other_role = create("on-raw-upload", "arn:aws:iam::000000000000:role/admin").await;
    assert_eq!(refused(other_role), (403, "ForbiddenException".into()), "iam:PassRole on that role only");
    assert_eq!(refused(create("on-transcode-event", &role).await), (403, "ForbiddenException".into()));
    let get = client("on-raw-upload").get_job().id(&job).send().await;
    assert_eq!(refused(get), (403, "ForbiddenException".into()), "on-raw-upload never reads a job");
    // on-transcode-event cancels a deleted video's job.
    let cancelled = client("on-transcode-event").cancel_job().id(&job).send().await;
    assert!(cancelled.is_ok(), "{cancelled:?}");
    assert_eq!(app.stack.mediaconvert.jobs().len(), 1);
    assert_eq!(denied(&app, "on-raw-upload", "iam:PassRole")[0].resource, "arn:aws:iam::000000000000:role/admin");
    assert_eq!(denied(&app, "on-transcode-event", "mediaconvert:CreateJob").len(), 2, "the queue and the job");
    assert_eq!(
        denied(&app, "on-raw-upload", "mediaconvert:GetJob")[0].resource,
        format!("arn:aws:mediaconvert:us-east-1:000000000000:jobs/{job}")
    );
}

/// The repository's template with `old` replaced by `new` in the resource `logical`'s block,
/// written where a stack can load it.
fn template_with(edits: &[(&str, &str, &str)]) -> std::path::PathBuf {
    let mut text = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template");
    for (logical, old, new) in edits {
        let start = text.find(&format!("\n  {logical}:\n")).unwrap_or_else(|| panic!("{logical} in the template"));
        let body = start + logical.len() + 5;
        let end = text[body..]
            .match_indices("\n  ")
            .find(|(i, _)| text[body + i + 3..].starts_with(|c: char| c.is_ascii_alphabetic()))
            .map_or(text.len(), |(i, _)| body + i);
        let block = &text[start..end];
        assert_eq!(block.matches(old).count(), 1, "{old} once in {logical}");
        let edited = block.replacen(old, new, 1);
        text.replace_range(start..end, &edited);
    }
    let dir = std::env::temp_dir().join(format!("vivid-grants-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let path = dir.join("template.yaml");
    std::fs::write(&path, text).expect("the edited template");
    path
}

#[tokio::test]
async fn given_a_template_missing_a_grant_then_the_route_that_needs_it_meets_the_refusal() {
    if auditing() {
        return;
    }
    let template = template_with(&[
        // list-sessions may query the table, not its index GSI1.
        ("ListSessionsFunction", r#"Resource: !Sub "${Table.Arn}/index/GSI1""#, "Resource: !GetAtt Table.Arn"),
        // create-invitations may no longer send with SES v2.
        ("CreateInvitationsFunction", "Action: [ses:SendEmail]", "Action: [ses:SendRawEmail]"),
    ]);
    let app = TestApp::spawn_configured(|c| c.template = template.clone()).await;
    let _ = std::fs::remove_dir_all(template.parent().expect("its directory"));
    let ana = app.user("Ana").await;

    let sessions = app.get("/users/me/sessions", &ana.token).await;
    assert!(sessions.status.is_server_error(), "{:?} {:?}", sessions.status, sessions.body);
    assert_eq!(
        denied(&app, "list-sessions", "dynamodb:Query")[0].resource,
        format!("arn:aws:dynamodb:us-east-1:000000000000:table/{}/index/GSI1", app.table)
    );

    let space = app.space(&ana, "Course").await;
    let r =
        app.post(&format!("/spaces/{space}/invitations"), &ana.token, json!({ "emails": ["bo@example.org"] })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["items"][0]["emailed"], false, "{:?}", r.body);
    assert_eq!(denied(&app, "create-invitations", "ses:SendEmail").len(), 2, "{:?}", app.stack.denied_grants());
}
