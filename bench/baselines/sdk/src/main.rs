//! What every function of the suite pays before its own code: `aws-config` loaded the way Lambda
//! loads it, and one client per SDK the function links, built once at init. Each request reads
//! one item (`VIVID_TABLE_NAME`, key `PK = SK = "BASELINE"`), so that the first request pays
//! for the connection as a function's does. The other clients are built and kept, never called.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
struct Clients {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    #[cfg(feature = "s3")]
    _s3: aws_sdk_s3::Client,
    #[cfg(feature = "mediaconvert")]
    _mediaconvert: aws_sdk_mediaconvert::Client,
    #[cfg(feature = "lambda")]
    _lambda: aws_sdk_lambda::Client,
    #[cfg(feature = "secretsmanager")]
    _secretsmanager: aws_sdk_secretsmanager::Client,
    #[cfg(feature = "kms")]
    _kms: aws_sdk_kms::Client,
    #[cfg(feature = "sesv2")]
    _sesv2: aws_sdk_sesv2::Client,
    #[cfg(feature = "transcribe")]
    _transcribe: aws_sdk_transcribe::Client,
}

impl Clients {
    async fn init() -> Result<Self, Error> {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            table: std::env::var("VIVID_TABLE_NAME")?,
            #[cfg(feature = "s3")]
            _s3: aws_sdk_s3::Client::new(&sdk),
            #[cfg(feature = "mediaconvert")]
            _mediaconvert: aws_sdk_mediaconvert::Client::new(&sdk),
            #[cfg(feature = "lambda")]
            _lambda: aws_sdk_lambda::Client::new(&sdk),
            #[cfg(feature = "secretsmanager")]
            _secretsmanager: aws_sdk_secretsmanager::Client::new(&sdk),
            #[cfg(feature = "kms")]
            _kms: aws_sdk_kms::Client::new(&sdk),
            #[cfg(feature = "sesv2")]
            _sesv2: aws_sdk_sesv2::Client::new(&sdk),
            #[cfg(feature = "transcribe")]
            _transcribe: aws_sdk_transcribe::Client::new(&sdk),
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
        Ok(json!({ "found": out.item.is_some() }))
    }
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
