use clap::Parser;
use flowats_server::cli::{self, Cli};
use std::process::ExitCode;

/// Counts heap in use for the health document and the metrics.
#[global_allocator]
static ALLOCATOR: flowats_server::monitor::alloc::Counting =
    flowats_server::monitor::alloc::Counting;

#[tokio::main]
async fn main() -> ExitCode {
    flowats_server::monitor::alloc::mark_installed();
    let cli = Cli::parse();
    let config = match cli::load_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("flowats: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = flowats_server::telemetry::init(config.log_format) {
        eprintln!("flowats: configuration error: {e}");
        return ExitCode::from(2);
    }
    match cli::run(cli, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("flowats: {e:#}");
            ExitCode::FAILURE
        }
    }
}
