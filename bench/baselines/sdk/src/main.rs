//! What every function of the suite pays before its own code: `aws-config` loaded the way Lambda
//! loads it, and one client per SDK the function links, built once at init. Each request reads
//! one item (`VIVID_TABLE_NAME`, key `PK = SK = "BASELINE"`), so that the first request pays
//! for the connection as a function's does. The other clients are built at init too; each has one
//! operation linked (the one the suite's functions call most: S3 `HeadObject`, Lambda `Invoke`,
//! …) behind `VIVID_BASELINE_TOUCH`, which the bench never sets: a client that no code calls is
//! removed by LTO with everything its calls would bring (S3's checksums, the XML parsers), and a
//! floor without them is the floor of no function that uses the SDK.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
struct Clients {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    #[cfg(feature = "s3")]
    s3: aws_sdk_s3::Client,
    #[cfg(feature = "mediaconvert")]
    mediaconvert: aws_sdk_mediaconvert::Client,
    #[cfg(feature = "lambda")]
    lambda: aws_sdk_lambda::Client,
    #[cfg(feature = "secretsmanager")]
    secretsmanager: aws_sdk_secretsmanager::Client,
    #[cfg(feature = "kms")]
    kms: aws_sdk_kms::Client,
    #[cfg(feature = "sesv2")]
    sesv2: aws_sdk_sesv2::Client,
    #[cfg(feature = "transcribe")]
    transcribe: aws_sdk_transcribe::Client,
}

impl Clients {
    async fn init() -> Result<Self, Error> {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            table: std::env::var("VIVID_TABLE_NAME")?,
            #[cfg(feature = "s3")]
            s3: aws_sdk_s3::Client::new(&sdk),
            #[cfg(feature = "mediaconvert")]
            mediaconvert: aws_sdk_mediaconvert::Client::new(&sdk),
            #[cfg(feature = "lambda")]
            lambda: aws_sdk_lambda::Client::new(&sdk),
            #[cfg(feature = "secretsmanager")]
            secretsmanager: aws_sdk_secretsmanager::Client::new(&sdk),
            #[cfg(feature = "kms")]
            kms: aws_sdk_kms::Client::new(&sdk),
            #[cfg(feature = "sesv2")]
            sesv2: aws_sdk_sesv2::Client::new(&sdk),
            #[cfg(feature = "transcribe")]
            transcribe: aws_sdk_transcribe::Client::new(&sdk),
        })
    }

    async fn read(&self) -> Result<Value, Error> {
        let key = AttributeValue::S("BASELINE".into());
        let out = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("PK", key.clone())
            .key("SK", key)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
        if std::env::var_os("VIVID_BASELINE_TOUCH").is_some() {
            self.touch().await?;
        }
        Ok(json!({ "found": out.item.is_some() }))
    }

    /// One call per other client, never made by the bench (see the crate's documentation).
    async fn touch(&self) -> Result<(), Error> {
        let _ = &self.table;
        #[cfg(feature = "s3")]
        self.s3.head_object().bucket(&self.table).key("BASELINE").send().await.map_err(text)?;
        #[cfg(feature = "mediaconvert")]
        self.mediaconvert.cancel_job().id("BASELINE").send().await.map_err(text)?;
        #[cfg(feature = "lambda")]
        self.lambda.invoke().function_name(&self.table).send().await.map_err(text)?;
        #[cfg(feature = "secretsmanager")]
        self.secretsmanager.get_secret_value().secret_id(&self.table).send().await.map_err(text)?;
        #[cfg(feature = "kms")]
        self.kms
            .decrypt()
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(self.table.as_bytes()))
            .send()
            .await
            .map_err(text)?;
        #[cfg(feature = "sesv2")]
        self.sesv2.send_email().from_email_address(&self.table).send().await.map_err(text)?;
        #[cfg(feature = "transcribe")]
        self.transcribe.start_transcription_job().transcription_job_name(&self.table).send().await.map_err(text)?;
        Ok(())
    }
}

/// An SDK error as text (the baseline has no error type of its own).
#[allow(dead_code)]
fn text(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    e.into()
}

#[cfg(feature = "http")]
#[tokio::main]
async fn main() -> Result<(), Error> {
    use lambda_http::{Body, Request, Response, service_fn};
    let clients = Clients::init().await?;
    lambda_http::run(service_fn(move |_req: Request| {
        let clients = clients.clone();
        async move {
            let body = clients.read().await?;
            Ok::<_, Error>(
                Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))?,
            )
        }
    }))
    .await
}

#[cfg(not(feature = "http"))]
#[tokio::main]
async fn main() -> Result<(), Error> {
    use lambda_runtime::{LambdaEvent, service_fn};
    let clients = Clients::init().await?;
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| {
        let clients = clients.clone();
        async move { clients.read().await }
    }))
    .await
}
