//! The user directory, the image catalogue and the log of answered retriable requests.

use sea_orm_migration::prelude::*;

use super::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    UsernameKey,
    DisplayName,
    Disabled,
    CreateTime,
}

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
    Name,
    NameScope,
    OwnerId,
    Description,
    Status,
    DiskFormat,
    OsType,
    OsDistro,
    OsVersion,
    Architecture,
    SizeBytes,
    MinDiskGb,
    MinRamMb,
    ChecksumSha256,
    Protected,
    SourceImageId,
    Revision,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum RequestLog {
    Table,
    CallerId,
    RequestId,
    Fingerprint,
    Response,
    CreateTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, users()).await?;
        create_table(manager, images(manager.get_database_backend())).await?;
        create_table(manager, request_log()).await?;

        let indexes = [
            Index::create()
                .name("ux_images_scope_name")
                .table(Images::Table)
                .col(Images::NameScope)
                .col(Images::Name)
                .unique()
                .to_owned(),
            Index::create()
                .name("ix_images_owner_time")
                .table(Images::Table)
                .col(Images::OwnerId)
                .col(Images::CreateTime)
                .col(Images::Id)
                .to_owned(),
            Index::create()
                .name("ix_images_time")
                .table(Images::Table)
                .col(Images::CreateTime)
                .col(Images::Id)
                .to_owned(),
            Index::create()
                .name("ix_images_scope_time")
                .table(Images::Table)
                .col(Images::NameScope)
                .col(Images::CreateTime)
                .col(Images::Id)
                .to_owned(),
            Index::create()
                .name("ix_request_log_time")
                .table(RequestLog::Table)
                .col(RequestLog::CreateTime)
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RequestLog::Table.into_iden(),
            Images::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn users() -> TableCreateStatement {
    Table::create()
        .table(Users::Table)
        .col(
            ColumnDef::new(Users::Id)
                .string_len(64)
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new(Users::Username).string_len(64).not_null())
        .col(
            ColumnDef::new(Users::UsernameKey)
                .string_len(64)
                .not_null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(Users::DisplayName)
                .string_len(128)
                .not_null(),
        )
        .col(ColumnDef::new(Users::Disabled).boolean().not_null())
        .col(ColumnDef::new(Users::CreateTime).big_integer().not_null())
        .to_owned()
}

/// Names sort bytewise on every backend (SQLite's and MariaDB's binary collations,
/// PostgreSQL's "C"), so that listings merged from several queries keep one order.
fn images(backend: sea_orm::DbBackend) -> TableCreateStatement {
    let mut name = ColumnDef::new(Images::Name);
    name.string_len(128).not_null();
    if backend == sea_orm::DbBackend::Postgres {
        name.extra("COLLATE \"C\"");
    }
    Table::create()
        .table(Images::Table)
        .col(
            ColumnDef::new(Images::Id)
                .string_len(36)
                .not_null()
                .primary_key(),
        )
        .col(name)
        .col(ColumnDef::new(Images::NameScope).string_len(64).not_null())
        .col(ColumnDef::new(Images::OwnerId).string_len(64).null())
        .col(
            ColumnDef::new(Images::Description)
                .string_len(1024)
                .not_null(),
        )
        .col(ColumnDef::new(Images::Status).integer().not_null())
        .col(ColumnDef::new(Images::DiskFormat).integer().not_null())
        .col(ColumnDef::new(Images::OsType).integer().not_null())
        .col(ColumnDef::new(Images::OsDistro).string_len(64).not_null())
        .col(ColumnDef::new(Images::OsVersion).string_len(64).not_null())
        .col(ColumnDef::new(Images::Architecture).integer().not_null())
        .col(ColumnDef::new(Images::SizeBytes).big_integer().not_null())
        .col(ColumnDef::new(Images::MinDiskGb).integer().not_null())
        .col(ColumnDef::new(Images::MinRamMb).integer().not_null())
        .col(
            ColumnDef::new(Images::ChecksumSha256)
                .string_len(64)
                .not_null(),
        )
        .col(ColumnDef::new(Images::Protected).boolean().not_null())
        .col(ColumnDef::new(Images::SourceImageId).string_len(36).null())
        .col(ColumnDef::new(Images::Revision).big_integer().not_null())
        .col(ColumnDef::new(Images::CreateTime).big_integer().not_null())
        .col(ColumnDef::new(Images::UpdateTime).big_integer().not_null())
        .foreign_key(
            ForeignKey::create()
                .name("fk_images_owner")
                .from(Images::Table, Images::OwnerId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

fn request_log() -> TableCreateStatement {
    Table::create()
        .table(RequestLog::Table)
        .col(
            ColumnDef::new(RequestLog::CallerId)
                .string_len(64)
                .not_null(),
        )
        .col(
            ColumnDef::new(RequestLog::RequestId)
                .string_len(36)
                .not_null(),
        )
        .col(
            ColumnDef::new(RequestLog::Fingerprint)
                .string_len(128)
                .not_null(),
        )
        .col(ColumnDef::new(RequestLog::Response).text().not_null())
        .col(
            ColumnDef::new(RequestLog::CreateTime)
                .big_integer()
                .not_null(),
        )
        .primary_key(
            Index::create()
                .col(RequestLog::CallerId)
                .col(RequestLog::RequestId),
        )
        .to_owned()
}
