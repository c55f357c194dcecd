//! Entry point: parse the configuration, start telemetry, run the subcommand.

use clap::Parser;

use image_service::config::{Cli, Command, UsersCommand};
use image_service::domain::user::NewUser;
use image_service::startup::{self, Settings};
use image_service::{auth, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.common.log_format);
    let common = &cli.common;

    match cli.command {
        Command::Serve(args) => {
            startup::serve_until_signal(Settings {
                listen: args.listen,
                database_url: common.database_url(),
                max_connections: args.max_connections,
                key_source: common.key_source(),
                shutdown_grace: args.shutdown_grace,
                health_interval: args.health_interval,
                metrics_listen: args.metrics_listen,
            })
            .await
        }
        Command::Migrate => {
            startup::open_store(&common.database_url(), 1).await?;
            tracing::info!("schema is up to date");
            Ok(())
        }
        Command::Token(args) => {
            println!(
                "{}",
                auth::mint(&common.key_source(), &args.user, args.admin, args.ttl)?
            );
            Ok(())
        }
        Command::Users {
            command:
                UsersCommand::Add {
                    id,
                    username,
                    display_name,
                },
        } => {
            let new = NewUser::parse(&id, &username, &display_name)?;
            let store = startup::open_store(&common.database_url(), 1).await?;
            let user = store.create_user(&new).await?;
            println!("added user {} ({})", user.id, user.username);
            Ok(())
        }
        Command::Users {
            command: UsersCommand::Disable { id },
        } => {
            let store = startup::open_store(&common.database_url(), 1).await?;
            let user = store.disable_user(&id).await?;
            println!("disabled user {} ({})", user.id, user.username);
            Ok(())
        }
    }
}
