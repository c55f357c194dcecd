//! The image catalogue.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "images")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// The owner's id, or the empty string for system images. `(name_scope, name)` is unique,
    /// which a nullable `owner_id` alone could not enforce for system images.
    pub name_scope: String,
    pub owner_id: Option<String>,
    pub description: String,
    pub status: i32,
    pub disk_format: i32,
    pub os_type: i32,
    pub os_distro: String,
    pub os_version: String,
    pub architecture: i32,
    pub size_bytes: i64,
    pub min_disk_gb: i32,
    pub min_ram_mb: i32,
    pub checksum_sha256: String,
    pub protected: bool,
    pub source_image_id: Option<String>,
    /// Bumped by every update; the etag is derived from it.
    pub revision: i64,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
