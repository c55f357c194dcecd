//! Versioned schema migrations. The schema enforces what it can on every backend: unique
//! names per owner, unique usernames ignoring case, foreign keys with cascades.

use sea_orm_migration::prelude::*;

mod m20261203_000001_users_and_images;
mod m20261203_000002_image_members;
mod m20261203_000003_tags;
mod m20261203_000004_user_names;

/// Runs the migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261203_000001_users_and_images::Migration),
            Box::new(m20261203_000002_image_members::Migration),
            Box::new(m20261203_000003_tags::Migration),
            Box::new(m20261203_000004_user_names::Migration),
        ]
    }
}

/// Creates a table. On MySQL and MariaDB the table is `utf8mb4` with a binary collation, so
/// that any Unicode text (emoji included) is stored, and names compare exactly as on the other
/// backends instead of ignoring case and accents.
async fn create_table(
    manager: &SchemaManager<'_>,
    mut table: TableCreateStatement,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == sea_orm::DbBackend::MySql {
        table
            .engine("InnoDB")
            .character_set("utf8mb4")
            .collate("utf8mb4_bin");
    }
    manager.create_table(table).await
}
