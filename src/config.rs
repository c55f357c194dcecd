//! Command line and environment configuration. Every option is also read from an
//! `IMAGE_SERVICE_…` environment variable; its `///` line is its `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::auth::{KeySource, Secret};

/// The image service of the private cloud platform.
#[derive(Debug, Parser)]
#[command(name = "image-service", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,

    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand.
#[derive(Clone, Debug, Args)]
pub struct Common {
    /// Folder for the embedded SQLite database and the development signing key.
    #[arg(
        long,
        global = true,
        env = "IMAGE_SERVICE_DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Database URL (postgres://…, mysql://…, sqlite://…); default: SQLite in the data folder.
    /// DATABASE_URL is read too.
    #[arg(long, global = true, env = "IMAGE_SERVICE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// HS256 secret that verifies bearer tokens.
    #[arg(
        long,
        global = true,
        env = "IMAGE_SERVICE_JWT_SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,

    /// PEM file with the identity service's Ed25519 or RSA public key.
    #[arg(
        long,
        global = true,
        env = "IMAGE_SERVICE_JWT_PUBLIC_KEY",
        conflicts_with = "jwt_secret"
    )]
    pub jwt_public_key: Option<PathBuf>,

    /// Log format: text for people, json for container log collectors.
    #[arg(long, global = true, env = "IMAGE_SERVICE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the schema and serve gRPC.
    Serve(ServeArgs),
    /// Migrate the schema and exit.
    Migrate,
    /// Mint a bearer token with the key that `serve` would verify with.
    Token(TokenArgs),
    /// Manage the user directory.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
}

#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "IMAGE_SERVICE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Most database connections in the pool.
    #[arg(long, env = "IMAGE_SERVICE_MAX_CONNECTIONS", default_value_t = 8)]
    pub max_connections: u32,

    /// How long in-flight calls may run after SIGTERM or SIGINT before the server stops anyway.
    #[arg(long, env = "IMAGE_SERVICE_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,

    /// How often the database is checked for the health service.
    #[arg(long, env = "IMAGE_SERVICE_HEALTH_INTERVAL", default_value = "2s", value_parser = humantime::parse_duration)]
    pub health_interval: Duration,

    /// Address of an HTTP listener serving Prometheus metrics at /metrics; off when unset.
    #[arg(long, env = "IMAGE_SERVICE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Clone, Debug, Args)]
pub struct TokenArgs {
    /// The user id the token speaks for (its `sub`).
    #[arg(long, env = "IMAGE_SERVICE_TOKEN_USER")]
    pub user: String,

    /// Mark the token's user as a platform administrator.
    #[arg(long, env = "IMAGE_SERVICE_TOKEN_ADMIN")]
    pub admin: bool,

    /// How long the token is valid, for example 30m, 12h, 7d.
    #[arg(long, env = "IMAGE_SERVICE_TOKEN_TTL", default_value = "12h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user to the directory.
    Add {
        /// The user's id, as assigned by the platform.
        id: String,
        /// The user's login name, unique ignoring case.
        username: String,
        /// Name shown in consoles.
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// Disable a user: they can no longer call, and lose what was shared with them.
    Disable {
        /// The user's id.
        id: String,
    },
}

impl Common {
    /// The database URL: the option, else DATABASE_URL, else SQLite in the data folder.
    pub fn database_url(&self) -> String {
        if let Some(url) = &self.database_url {
            return url.clone();
        }
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.is_empty()
        {
            return url;
        }
        format!(
            "sqlite://{}?mode=rwc",
            self.data_dir.join("images.db").display()
        )
    }

    /// Where the token-verifying key comes from.
    pub fn key_source(&self) -> KeySource {
        match (&self.jwt_secret, &self.jwt_public_key) {
            (Some(secret), _) => KeySource::Secret(Secret::new(secret.as_bytes())),
            (None, Some(path)) => KeySource::PublicKey(path.clone()),
            (None, None) => KeySource::Development(self.data_dir.clone()),
        }
    }
}
