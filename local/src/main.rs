//! `vivid-local`: the local stack in one command (`make dev`).

use std::net::{Ipv4Addr, SocketAddr};

use vivid_local::{
    emulator::{Moto, moto_server_path},
    stack::{Stack, StackConfig, find_repo_root},
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    vivid_config::telemetry::init();
    let cwd = std::env::current_dir()?;
    let root = find_repo_root(&cwd).ok_or("run vivid-local inside the repository (no template.yaml found)")?;
    let port: u16 = std::env::var("VIVID_PORT").ok().map(|p| p.parse()).transpose()?.unwrap_or(3000);

    let (moto, endpoint) = match std::env::var("VIVID_AWS_ENDPOINT") {
        Ok(endpoint) => (None, endpoint),
        Err(_) => {
            let moto = Moto::start(&moto_server_path(&root)).await?;
            let endpoint = moto.endpoint.clone();
            (Some(moto), endpoint)
        }
    };
    let stack = Stack::start(StackConfig::new(
        root.join("template.yaml"),
        endpoint.clone(),
        "vivid-local".to_owned(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
    ))
    .await?;

    let base = format!("http://{}", stack.addr);
    println!("VIVID local stack");
    println!("  API (every route of template.yaml)  {base}");
    println!("  AWS emulator (DynamoDB, S3, SQS)    {endpoint}  table vivid-local");
    println!("  dev access token                    curl '{base}/_local/token?email=ana@example.com'");
    println!(
        "  token issuer / audience             {} / {}",
        vivid_local::stack::LOCAL_ISSUER,
        vivid_local::stack::LOCAL_AUDIENCE
    );
    println!("Ctrl-C stops everything; data lives in memory and is replaced on the next start.");

    tokio::signal::ctrl_c().await?;
    drop(stack);
    if let Some(moto) = moto {
        moto.stop().await;
    }
    Ok(())
}
