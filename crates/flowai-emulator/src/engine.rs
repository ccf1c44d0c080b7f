//! The flow engine: runs a project of Flows (Management API JSON) and answers every channel.
//! (Interface fixed; the matching logic is filled in by the engine's owner.)

use flowai_core::models::{Flow, ReplyMessage};

/// What a user sent, from any channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Text or speech.
    Text(String),
    /// An event by name.
    Event(String),
    /// A location.
    Location { lat: String, lng: String },
    /// A media upload (`image`, `file`, `audio`, `video`).
    Media { media_type: String },
}

/// The engine: a project and the conversation state of every thread.
#[derive(Debug, Default)]
pub struct Engine {
    flows: Vec<Flow>,
}

impl Engine {
    /// The built-in demo project.
    pub fn demo() -> Engine {
        Engine::default()
    }

    /// A project read from a JSON file (a list of flows).
    pub fn from_file(path: &std::path::Path) -> Result<Engine, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let flows: Vec<Flow> = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        Ok(Engine { flows })
    }

    /// The flows of the project.
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }

    /// The bot's reply messages to `input` in thread `thread_id` (empty when silent).
    pub fn respond(&self, _thread_id: &str, _input: &Input) -> Vec<ReplyMessage> {
        Vec::new()
    }
}
