//! The `flowats` command line: `serve`, `migrate`, `seed`, `config`, `loadtest`.

use crate::app::{self, AppState, Application};
use crate::config::Config;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "flowats",
    version,
    about = "FlowATS: the job-search tracker server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Database URL (sqlite://… or postgres://…); overrides DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill the database with demo data.
    Seed(SeedArgs),
    /// Print the effective configuration, secrets redacted.
    Config(ServeArgs),
    /// Load a running server: open-model arrival rates, latency percentiles, errors.
    Loadtest(flowats_loadgen::Args),
}

#[derive(Args)]
pub struct ServeArgs {
    /// Listen address; overrides HOST.
    #[arg(long)]
    pub host: Option<String>,
    /// Listen port; overrides PORT.
    #[arg(long)]
    pub port: Option<u16>,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["demo", "users", "heavy_user"])))]
pub struct SeedArgs {
    /// Create the demo account test@example.com / password with a profile and jobs.
    #[arg(long)]
    pub demo: bool,
    /// Bulk data: accounts user1@example.com … userN@example.com (password `password`).
    #[arg(long, value_name = "N")]
    pub users: Option<u32>,
    /// Bulk data: jobs of each of those accounts.
    #[arg(long, value_name = "M", default_value_t = 10)]
    pub jobs_per_user: u32,
    /// Bulk data: also heavy@example.com with K jobs.
    #[arg(long, value_name = "K")]
    pub heavy_user: Option<u32>,
}

/// Parses the environment and flags; a bad value ends the process with its message.
pub fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    // The load generator talks to a server over HTTP: the server's settings (a PostgreSQL
    // URL without JWT_SECRET, say) must not stop it.
    if matches!(cli.command, Command::Loadtest(_)) {
        return Ok(Config::from_lookup(|_| None)?);
    }
    let (host, port) = match &cli.command {
        Command::Serve(args) | Command::Config(args) => {
            (args.host.clone(), args.port.map(|p| p.to_string()))
        }
        _ => (None, None),
    };
    Ok(Config::from_env(&[
        ("DATABASE_URL", cli.database_url.clone()),
        ("HOST", host),
        ("PORT", port),
    ])?)
}

pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(_) => {
            print!("{}", config.render());
        }
        Command::Migrate => {
            let db = app::open_database(&config).await?;
            db.ops.close().await;
            tracing::info!("migrations applied");
        }
        Command::Seed(args) => {
            let state = AppState::connect(config).await?;
            if args.demo {
                if crate::seed::seed_demo(&state).await? {
                    println!("created the demo account {}", crate::seed::DEMO_EMAIL);
                } else {
                    println!(
                        "the demo account {} already exists; nothing to do",
                        crate::seed::DEMO_EMAIL
                    );
                }
            }
            if args.users.is_some() || args.heavy_user.is_some() {
                let plan = crate::seed::BulkPlan {
                    users: args.users.unwrap_or(0),
                    jobs_per_user: args.jobs_per_user,
                    heavy_jobs: args.heavy_user,
                };
                crate::seed::seed_bulk(&state, plan).await?;
            }
            state.db.ops.close().await;
        }
        Command::Loadtest(args) => flowats_loadgen::run(args).await?,
        Command::Serve(_) => {
            let app = Application::build(config).await?;
            tracing::info!(addr = %app.local_addr(), "listening");
            app.run(app::shutdown_signal()).await?;
        }
    }
    Ok(())
}
