//! The AIDA part of the demo: a chatbot session over Phoenix channels, with an image.

use std::time::Duration;

use flowai_core::aida::{AidaClient, AidaOptions, AidaSession, ImageSource};
use flowai_emulator::RunningEmulator;

use super::heading;
use crate::common::fail;

const WAIT: Duration = Duration::from_secs(10);

/// Run the AIDA part against `emulator`.
pub async fn run(emulator: &RunningEmulator) -> Result<(), String> {
    heading("AIDA chatbot (Phoenix channels)");
    let creds = emulator.credentials();
    let options = AidaOptions::new(
        emulator.aida_url(),
        creds.aida_bot.clone(),
        creds.aida_token.clone(),
    );
    let client = AidaClient::connect(options).await.map_err(fail)?;
    println!("joined bot:{}", client.bot());
    let session = client
        .new_session(Some(
            serde_json::json!({ "first_name": "Demo", "last_name": "User" }),
        ))
        .await
        .map_err(fail)?;
    println!("new session {}", session.id());

    println!("you: hi");
    session.send_text("hi").await.map_err(fail)?;
    let reply = wait_reply(&session).await?;
    if !reply.contains("customer service demo bot") {
        return Err(format!("unexpected AIDA reply {reply:?}"));
    }

    let image = b"demo image bytes".to_vec();
    let id = session
        .send_image(
            ImageSource::Bytes(image.clone().into()),
            "demo.png",
            "image/png",
        )
        .await
        .map_err(fail)?;
    let back = client.download_image(&id).await.map_err(fail)?;
    println!(
        "you: <image {id}> ({} bytes uploaded, {} bytes downloaded back)",
        image.len(),
        back.len()
    );
    if back.as_ref() != image.as_slice() {
        return Err("the downloaded image differs from the upload".into());
    }

    session.delete().await.map_err(fail)?;
    println!("session deleted");
    client.close().await;
    Ok(())
}

async fn wait_reply(session: &AidaSession) -> Result<String, String> {
    let message = tokio::time::timeout(WAIT, session.recv())
        .await
        .map_err(|_| format!("no AIDA reply within {} s", WAIT.as_secs()))?
        .ok_or("the AIDA session ended")?;
    let text = message.text.unwrap_or_default();
    println!("bot: {}", text.trim_end());
    Ok(text)
}
