//! `souk`: the marketplace server, its administration commands, the client commands and (as it
//! lands) the companion agent, in one binary.
//!
//! Every failure ends with one line on stderr (`error: ...`) and a non-zero exit: 2 for a
//! configuration problem or bad arguments, 1 for anything else.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use souk_server::config::{Config, ConfigError, Layers};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use souk_cli::client;
mod reindex;

#[derive(Parser)]
#[command(
    name = "souk",
    version,
    about = "Souk: a self-hostable marketplace for software modules"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the configuration comes from; shared by every command that touches the server's data.
#[derive(Args, Clone)]
struct ServerArgs {
    /// Configuration file (default: DATA_DIR/souk.toml when it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory: SQLite database, blobs, search index, keys [env: SOUK_DATA_DIR].
    #[arg(long, global = true)]
    data_dir: Option<String>,
    /// NATS server for the bus between nodes, nats://HOST:PORT [env: SOUK_NATS_URL] (default:
    /// the embedded bus).
    #[arg(long, global = true)]
    nats_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the marketplace: API, web UI and background work.
    Serve {
        #[command(flatten)]
        server: ServerArgs,
        /// Address to listen on [env: SOUK_LISTEN] (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Load a sample catalog (once) so there is something to see.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations, then exit.
    Migrate {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print the effective configuration, secrets redacted.
    Config {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        listen: Option<String>,
    },
    /// Administration against the configured database.
    Admin {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Create a starter module in a folder.
    Init(client::init::InitArgs),
    /// Build a module folder into a package archive (.tar.gz).
    Pack(client::pack::PackArgs),
    /// Sign in to a marketplace and remember the token.
    Login(client::login::LoginArgs),
    /// Upload a module version (a folder, packed, or a package archive).
    Publish(client::publish::PublishArgs),
    /// Mark a version as yanked: still downloadable by exact version, never the latest.
    Yank(client::yank::YankArgs),
    /// Take back a yank.
    Unyank(client::yank::UnyankArgs),
    /// Show a module and its versions.
    Info(client::info::InfoArgs),
    /// Download a package and check its SHA-256.
    Download(client::download::DownloadArgs),
    /// Search a marketplace's modules (no query: browse).
    Search(client::search::SearchArgs),
    /// Check a package's SHA-256 and signatures: a published version or a file (offline with a key).
    Verify(client::verify::VerifyArgs),
    /// Manage your publisher signing keys: generate, register, list, revoke.
    Key(client::key::KeyArgs),
    /// Sign a package archive with your key (writes PACKAGE.minisig, which publish sends).
    Sign(client::sign::SignArgs),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user (for example the first admin).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "moderator", "user"])]
        role: String,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Rebuild the search index from the database, here and on every running node.
    Reindex,
    /// Make a new registry signing key and retire the current one (it stays published, so
    /// that what it signed still verifies). Restart every node afterwards.
    RotateSigningKey,
}

/// A failure and the exit code it deserves.
struct Failure(anyhow::Error, u8);

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let e = e.into();
        let code = if e.downcast_ref::<ConfigError>().is_some() {
            2
        } else {
            1
        };
        Failure(e, code)
    }
}

fn load_config(server: &ServerArgs, listen: Option<&String>) -> Result<Config, ConfigError> {
    let mut flags = Vec::new();
    if let Some(d) = &server.data_dir {
        flags.push(("data_dir", d.clone()));
    }
    if let Some(l) = listen {
        flags.push(("listen", l.clone()));
    }
    if let Some(n) = &server.nats_url {
        flags.push(("nats.url", n.clone()));
    }
    Config::load(
        &Layers {
            file: server.config.clone(),
            flags,
            ..Layers::default()
        }
        .with_process_env(),
    )
}

fn init_logging(filter: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // The configuration already checked the filter's syntax.
    let targets: tracing_subscriber::filter::Targets = filter.parse().unwrap_or_else(|_| {
        tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO)
    });
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_target(false),
        )
        .with(targets)
        .try_init();
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve {
            server,
            listen,
            demo,
        } => {
            let config = load_config(&server, listen.as_ref())?;
            init_logging(&config.log);
            souk_server::serve(config, demo, souk_server::shutdown_signal()).await?;
        }
        Command::Migrate { server } => {
            let config = load_config(&server, None)?;
            init_logging(&config.log);
            let store = souk_server::open_store(&config, true).await?;
            println!("migrations applied ({})", store.backend());
            store.close().await;
        }
        Command::Config { server, listen } => {
            let config = load_config(&server, listen.as_ref())?;
            print!("{}", config.render());
        }
        Command::Admin { server, command } => {
            let config = load_config(&server, None)?;
            init_logging(&format!("warn,{}", config.log));
            match command {
                AdminCommand::CreateUser {
                    email,
                    role,
                    password_stdin: _,
                    display_name,
                } => {
                    let mut password = String::new();
                    std::io::stdin()
                        .read_to_string(&mut password)
                        .context("cannot read the password from standard input")?;
                    let password = password.lines().next().unwrap_or_default();
                    let role = souk_core::Role::parse(&role)?;
                    let store = souk_server::open_store(&config, true).await?;
                    let accounts = souk_server::services::accounts::Accounts::new(
                        store.clone(),
                        config.auth.clone(),
                    );
                    let created = accounts
                        .create_user(&email, password, display_name.as_deref(), role)
                        .await;
                    store.close().await;
                    let user = created.map_err(|e| {
                        anyhow::anyhow!(
                            "{}",
                            souk_server::error::AppError::from(e).public_message()
                        )
                    })?;
                    println!("created {} user {} (id {})", user.role, user.email, user.id);
                }
                AdminCommand::Reindex => reindex::run(&config).await?,
                AdminCommand::RotateSigningKey => {
                    // The database first: a rotation that cannot be put on the record is not
                    // started.
                    let store = souk_server::open_store(&config, true).await?;
                    let dir = config.signing_keys_dir();
                    let (key, retired) = souk_server::signing::RegistryKeys::rotate(
                        &dir,
                        souk_core::Timestamp::now(),
                    )?;
                    let id = key.key.id().to_hex();
                    let entry = souk_store::NewAuditEntry {
                        before: Some(serde_json::json!({ "signing": retired })),
                        after: Some(serde_json::json!({ "signing": [id] })),
                        ..souk_server::services::audit::system_entry(
                            "signing_key.rotate",
                            "signing_key",
                            id.clone(),
                        )
                    };
                    let recorded = store.append_audit(&entry).await;
                    store.close().await;
                    println!("new registry signing key {id} in {}", dir.display());
                    for id in &retired {
                        println!("retired key {id}: it signs no more and stays published");
                    }
                    recorded
                        .context("the keys are rotated, but the audit log could not record it")?;
                    println!(
                        "restart every node (with the same key files) for the new key to sign"
                    );
                }
            }
        }
        Command::Init(args) => client::init::run(&args)?,
        Command::Pack(args) => client::pack::run(&args)?,
        Command::Login(args) => client::login::run(&args).await?,
        Command::Publish(args) => client::publish::run(&args).await?,
        Command::Yank(args) => client::yank::yank(&args).await?,
        Command::Unyank(args) => client::yank::unyank(&args).await?,
        Command::Info(args) => client::info::run(&args).await?,
        Command::Download(args) => client::download::run(&args).await?,
        Command::Search(args) => client::search::run(&args).await?,
        Command::Verify(args) => client::verify::run(&args).await?,
        Command::Key(args) => client::key::run(&args).await?,
        Command::Sign(args) => client::sign::run(&args)?,
    }
    Ok(())
}

fn main() -> ExitCode {
    // reqwest is built without a bundled TLS provider; install ours before any client exists.
    souk_server::install_crypto_provider();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(e, code)) => {
            // One line: the chain of causes joined, never a backtrace.
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(code)
        }
    }
}
