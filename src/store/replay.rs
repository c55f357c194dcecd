//! Answers of retriable calls. A call with a `request_id` records its answer in the same
//! transaction as its changes; a repeat finds the record and gets the same answer back.

use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use serde::{Serialize, de::DeserializeOwned};

use super::{StoreError, is_unique_violation, now_micros};
use crate::domain::DomainError;
use crate::entity::request_log;

/// How long answers are kept; the contract promises at least 24 hours.
const KEEP_MICROS: i64 = 7 * 24 * 3600 * 1_000_000;

/// Identifies one retriable call of one caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryKey {
    pub caller_id: String,
    pub request_id: String,
    /// The method and a hash of the request without its `request_id`.
    pub fingerprint: String,
}

/// The recorded answer for `key`, if any. The same id with another request is
/// INVALID_ARGUMENT.
pub(super) async fn find<T, C>(db: &C, key: &RetryKey) -> Result<Option<T>, StoreError>
where
    T: DeserializeOwned,
    C: ConnectionTrait,
{
    let found = request_log::Entity::find_by_id((key.caller_id.clone(), key.request_id.clone()))
        .one(db)
        .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    if found.fingerprint != key.fingerprint {
        return Err(
            DomainError::invalid("request_id", "was already used for a different request").into(),
        );
    }
    serde_json::from_str(&found.response)
        .map(Some)
        .map_err(|_| StoreError::CorruptReplay(key.request_id.clone()))
}

/// Records the answer for `key`. A concurrent call with the same key that committed first
/// makes this a unique violation, reported as a conflict so that the transaction is run again
/// and replays that call's answer.
pub(super) async fn record<T, C>(db: &C, key: &RetryKey, answer: &T) -> Result<(), StoreError>
where
    T: Serialize,
    C: ConnectionTrait,
{
    let response = serde_json::to_string(answer)
        .map_err(|_| StoreError::CorruptReplay(key.request_id.clone()))?;
    let row = request_log::ActiveModel {
        caller_id: Set(key.caller_id.clone()),
        request_id: Set(key.request_id.clone()),
        fingerprint: Set(key.fingerprint.clone()),
        response: Set(response),
        create_time: Set(now_micros()),
    };
    match request_log::Entity::insert(row)
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(()),
        Err(err) if is_unique_violation(&err) => Err(StoreError::Contention(0)),
        Err(err) => Err(err.into()),
    }
}

/// Forgets answers older than the retention period.
pub(super) async fn purge<C: ConnectionTrait>(db: &C) -> Result<u64, StoreError> {
    let cutoff = now_micros() - KEEP_MICROS;
    let result = request_log::Entity::delete_many()
        .filter(Expr::col(request_log::Column::CreateTime).lt(cutoff))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

impl super::Store {
    /// Runs a retriable write: with a key, a recorded answer is replayed, and a new answer is
    /// recorded in the same transaction as the changes.
    pub(super) async fn write_once<T, F, Fut>(
        &self,
        key: Option<&RetryKey>,
        mut operation: F,
    ) -> Result<T, StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(sea_orm::DatabaseTransaction) -> Fut,
        Fut: std::future::Future<Output = (sea_orm::DatabaseTransaction, Result<T, StoreError>)>,
    {
        let Some(key) = key else {
            return self.write(operation).await;
        };
        for _ in 0..super::ATTEMPTS {
            if let Some(answer) = find(&self.db, key).await? {
                return Ok(answer);
            }
            let result = self
                .write(|txn| {
                    let run = operation(txn);
                    async move {
                        let (txn, result) = run.await;
                        let result = match result {
                            Ok(answer) => record(&txn, key, &answer).await.map(|()| answer),
                            Err(err) => Err(err),
                        };
                        (txn, result)
                    }
                })
                .await;
            match result {
                // Another call with this key committed first: replay its answer.
                Err(StoreError::Contention(0)) => continue,
                // The same call may have committed concurrently and made this one clash.
                Err(err) => match find(&self.db, key).await {
                    Ok(Some(answer)) => return Ok(answer),
                    _ => return Err(err),
                },
                ok => return ok,
            }
        }
        Err(StoreError::Contention(super::ATTEMPTS))
    }

    /// Forgets recorded answers past their retention.
    pub async fn purge_replays(&self) -> Result<u64, StoreError> {
        purge(&self.db).await
    }
}
