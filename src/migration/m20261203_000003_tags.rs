//! Tags of users and their bindings to images.

use sea_orm_migration::prelude::*;

use super::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    OwnerId,
    TagKey,
    TagValue,
    CreateTime,
}

#[derive(DeriveIden)]
enum ImageTags {
    Table,
    ImageId,
    TagId,
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
        create_table(manager, tags()).await?;
        create_table(manager, image_tags()).await?;

        let indexes = [
            Index::create()
                .name("ux_tags_owner_key_value")
                .table(Tags::Table)
                .col(Tags::OwnerId)
                .col(Tags::TagKey)
                .col(Tags::TagValue)
                .unique()
                .to_owned(),
            Index::create()
                .name("ix_image_tags_tag")
                .table(ImageTags::Table)
                .col(ImageTags::TagId)
                .col(ImageTags::ImageId)
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [ImageTags::Table.into_iden(), Tags::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn tags() -> TableCreateStatement {
    Table::create()
        .table(Tags::Table)
        .col(
            ColumnDef::new(Tags::Id)
                .string_len(36)
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new(Tags::OwnerId).string_len(64).not_null())
        .col(ColumnDef::new(Tags::TagKey).string_len(64).not_null())
        .col(ColumnDef::new(Tags::TagValue).string_len(128).not_null())
        .col(ColumnDef::new(Tags::CreateTime).big_integer().not_null())
        .foreign_key(
            ForeignKey::create()
                .name("fk_tags_owner")
                .from(Tags::Table, Tags::OwnerId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn image_tags() -> TableCreateStatement {
    Table::create()
        .table(ImageTags::Table)
        .col(ColumnDef::new(ImageTags::ImageId).string_len(36).not_null())
        .col(ColumnDef::new(ImageTags::TagId).string_len(36).not_null())
        .col(
            ColumnDef::new(ImageTags::CreateTime)
                .big_integer()
                .not_null(),
        )
        .primary_key(
            Index::create()
                .col(ImageTags::ImageId)
                .col(ImageTags::TagId),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_image_tags_image")
                .from(ImageTags::Table, ImageTags::ImageId)
                .to(Images::Table, Images::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_image_tags_tag")
                .from(ImageTags::Table, ImageTags::TagId)
                .to(Tags::Table, Tags::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}
