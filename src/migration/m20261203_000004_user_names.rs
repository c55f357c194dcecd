//! One namespace for user ids and usernames. Share and revoke calls name users by id or by
//! username, so an id that equals another user's username (ignoring case) would send a share
//! to the wrong person. Every user holds a row per distinct key (its id and its username, both
//! in lower case); the primary key keeps any key from naming two users, under any interleaving
//! of concurrent creations.

use sea_orm_migration::prelude::*;

use super::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserNames {
    Table,
    NameKey,
    UserId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(UserNames::Table)
            .col(
                ColumnDef::new(UserNames::NameKey)
                    .string_len(64)
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new(UserNames::UserId).string_len(64).not_null())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_user_names_user")
                    .from(UserNames::Table, UserNames::UserId)
                    .to(Users::Table, Users::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        create_table(manager, table).await?;

        // Users added before this migration: their usernames, then their ids where different.
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO user_names (name_key, user_id) SELECT username_key, id FROM users",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO user_names (name_key, user_id) SELECT LOWER(id), id FROM users \
             WHERE LOWER(id) <> username_key",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserNames::Table).to_owned())
            .await
    }
}
