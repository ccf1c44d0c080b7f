//! Options shared by every client command: where to connect, and how to print.

use flowai_core::Config;

/// Connection options; each falls back to its `FLOWAI_*` environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Base URL of every Flow.ai endpoint [env: FLOWAI_API_URL, default https://api.flow.ai].
    #[arg(long, global = true)]
    pub api_url: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

impl ConnectArgs {
    /// The configuration: environment first, then the flags.
    pub fn config(&self) -> Config {
        let config = Config::from_env();
        match &self.api_url {
            Some(url) => config.with_api_url(url),
            None => config,
        }
    }
}

/// Print a JSON value on one line.
pub fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

/// Turn an SDK error into the CLI's error text (code included).
pub fn fail(err: flowai_core::Error) -> String {
    err.to_string()
}
