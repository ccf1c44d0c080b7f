//! `flowai bench`: the SDK next to raw clients against the emulator, as a table or one JSON object.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use flowai_bench::BenchOptions;

/// Options of `flowai bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Short runs (about 2 s per side; the whole bench well under 3 minutes).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object keyed by scenario instead of a table.
    #[arg(long)]
    json: bool,
    /// Concurrent sessions of the socket_many scenario.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Run one side of socket_many in this process (used by the bench itself).
    #[arg(long, hide = true, value_parser = flowai_bench::WORKERS)]
    worker: Option<String>,
    /// How long a worker sends, in seconds.
    #[arg(long, hide = true, default_value_t = 3.0)]
    worker_secs: f64,
}

/// Run the benchmark (or one worker of it) and print the result.
pub async fn run(args: Args) -> Result<(), String> {
    if let Some(worker) = &args.worker {
        let measure = Duration::try_from_secs_f64(args.worker_secs).map_err(|e| e.to_string())?;
        let line = flowai_bench::run_worker(worker, args.sessions, measure).await?;
        println!("{line}");
        return Ok(());
    }
    let options = BenchOptions {
        quick: args.quick,
        program: flowai_bench::emulator::current_program()?,
        sessions: args.sessions.max(1),
    };
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |line: &str| {
        let mut err = std::io::stderr().lock();
        // On a terminal the progress line rewrites itself; in a log each step gets a line.
        let _ = if terminal {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    };
    let report = flowai_bench::run(&options, &mut progress).await;
    if terminal {
        eprint!("\r\x1b[2K");
    }
    let report = report?;
    if args.json {
        let value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
        println!("{value}");
    } else {
        print!("{}", report.table());
        println!(
            "({} run, loopback, emulator in a child process; ratio = sdk / raw; socket_single, \
             socket_pipelined and rest_send: median of 3 alternating rounds per side)",
            if args.quick { "quick" } else { "full" }
        );
    }
    Ok(())
}
