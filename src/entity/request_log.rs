//! Answers of calls that carried a `request_id`, kept so that a retry gets the same answer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub caller_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: String,
    /// Method name and a hash of the request, so a reused id with another request is caught.
    pub fingerprint: String,
    /// The first answer, as JSON of the domain result.
    pub response: String,
    pub create_time: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
