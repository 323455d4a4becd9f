//! One AWS account for several local stacks, as two CloudFormation stacks (dev beside prod) share
//! one: the emulator (one moto server: every stack's table, buckets, queues and secrets side by
//! side, each named after its stack), the account's MediaConvert and Transcribe (one stand-in
//! each: every stack's jobs in one list, job names and client request tokens unique across the
//! account), and the account's default event bus: every job's state-change event is offered to
//! every stack's rules, which must pick their own.
//!
//! [`Stack::start_in`](crate::stack::Stack::start_in) starts a stack in an account;
//! [`Stack::start`](crate::stack::Stack::start) keeps its own stand-ins and bus, as before.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use serde_json::Value;
use tokio::{sync::mpsc, task::JoinHandle};

use crate::{
    error::StackError, infra::emulator::emulator_sdk_config, standins::ffmpeg::Runner,
    standins::mediaconvert::MediaConvertStandIn, standins::transcribe::TranscribeStandIn,
};

/// The account's services that are no stack's; stops its bus when dropped (drop it after its
/// stacks).
pub struct Account {
    /// The emulator every stack of the account creates its resources in.
    pub aws_endpoint: String,
    pub mediaconvert: Arc<MediaConvertStandIn>,
    pub transcribe: Arc<TranscribeStandIn>,
    /// Each stack's bus: where the account's events are offered to its rules.
    stacks: Subscribers,
    bus: JoinHandle<()>,
}

type Subscribers = Arc<Mutex<Vec<mpsc::UnboundedSender<Value>>>>;

impl Drop for Account {
    fn drop(&mut self) {
        self.bus.abort();
    }
}

impl Account {
    /// The account on the emulator at `aws_endpoint`: its stand-ins run every job (ffmpeg, and
    /// speech recognition with the Python of `repo_root`'s `.venv` or `VIVID_PYTHON`) and send the
    /// jobs' events on the account's bus.
    pub async fn start(aws_endpoint: &str, repo_root: &Path) -> Result<Self, StackError> {
        let local = SocketAddr::from(([127, 0, 0, 1], 0));
        let mediaconvert = Arc::new(MediaConvertStandIn::start(local).await?);
        let transcribe = Arc::new(TranscribeStandIn::start(local).await?);
        // The services' own S3 access (MediaConvert's role, Transcribe's output), straight to
        // the emulator: no stack's function signs it.
        let sdk = emulator_sdk_config(aws_endpoint).await;
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let (emit, mut events) = mpsc::unbounded_channel::<Value>();
        let stacks: Subscribers = Arc::default();
        let subscribers = Arc::clone(&stacks);
        let bus = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                // Every stack's rules see every event (a stack stopped since is forgotten).
                if let Ok(mut stacks) = subscribers.lock() {
                    stacks.retain(|stack| stack.send(event.clone()).is_ok());
                }
            }
        });
        mediaconvert.run_jobs_with(Runner { s3: s3.clone(), emit: emit.clone() });
        let python =
            std::env::var_os("VIVID_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo_root.join(".venv/bin/python"));
        transcribe.run_jobs_with(crate::standins::transcribe::Recognizer {
            s3,
            emit,
            python,
            script: repo_root.join("local/recognize.py"),
        });
        Ok(Self { aws_endpoint: aws_endpoint.to_owned(), mediaconvert, transcribe, stacks, bus })
    }

    /// From now on the account's events also go to `stack` (a stack's delivery, which matches
    /// them against its rules).
    pub(crate) fn subscribe(&self, stack: mpsc::UnboundedSender<Value>) {
        if let Ok(mut stacks) = self.stacks.lock() {
            stacks.push(stack);
        }
    }
}
