//! Shares of images with users.

use sea_orm_migration::prelude::*;

use super::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImageMembers {
    Table,
    ImageId,
    UserId,
    CreateTime,
}

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
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
            .table(ImageMembers::Table)
            .col(
                ColumnDef::new(ImageMembers::ImageId)
                    .string_len(36)
                    .not_null(),
            )
            .col(
                ColumnDef::new(ImageMembers::UserId)
                    .string_len(64)
                    .not_null(),
            )
            .col(
                ColumnDef::new(ImageMembers::CreateTime)
                    .big_integer()
                    .not_null(),
            )
            .primary_key(
                Index::create()
                    .col(ImageMembers::ImageId)
                    .col(ImageMembers::UserId),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_image_members_image")
                    .from(ImageMembers::Table, ImageMembers::ImageId)
                    .to(Images::Table, Images::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_image_members_user")
                    .from(ImageMembers::Table, ImageMembers::UserId)
                    .to(Users::Table, Users::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        create_table(manager, table).await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_image_members_user")
                    .table(ImageMembers::Table)
                    .col(ImageMembers::UserId)
                    .col(ImageMembers::ImageId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImageMembers::Table).to_owned())
            .await
    }
}
