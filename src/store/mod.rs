//! Data access over SeaORM: every operation of the domain as one database transaction. The
//! rules that concurrency could break are held by the database (unique keys, foreign keys, a
//! row lock on the image an operation changes), never by a lock inside this process, because
//! several replicas share one database.

mod image;
mod member;
mod replay;
mod tag;
mod user;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, IsolationLevel, RuntimeErr, SqlErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::domain::DomainError;
use crate::migration::Migrator;

pub use replay::RetryKey;

/// How often a transaction the database aborted for a conflict is tried in all.
const ATTEMPTS: u32 = 5;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule of the domain refused the operation; nothing was changed.
    #[error(transparent)]
    Domain(#[from] DomainError),

    /// The database could not be reached or refused the statement.
    #[error("database error")]
    Database(#[from] DbErr),

    /// The database kept aborting the transaction for conflicts with concurrent ones.
    #[error("transaction aborted by concurrent changes {0} times")]
    Contention(u32),

    /// A stored answer of an earlier call could not be read back.
    #[error("stored answer of request {0} is unreadable")]
    CorruptReplay(String),
}

impl StoreError {
    /// Whether the database is out of reach (as opposed to refusing a statement).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
        )
    }
}

/// Handle on the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Statements run through this pool so far; tests use it to show that an operation costs a
    /// fixed number of statements whatever its size.
    statements: Arc<AtomicU64>,
}

/// Connections of the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: usize,
}

impl Store {
    /// Opens a pool on `url` (`sqlite://…?mode=rwc`, `postgres://…`, `mysql://…`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            // A ping before every use costs a round trip per call; a dead connection is found
            // by the statement itself and the pool replaces it.
            .test_before_acquire(false)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // LIKE matches case-sensitively, as on PostgreSQL and on MariaDB with the
                    // binary collation the migrations choose.
                    .pragma("case_sensitive_like", "ON")
            });
        let mut db = Database::connect(options).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&statements);
        db.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("image_service_db_statements_total", "failed" => info.failed.to_string())
                .increment(1);
            metrics::histogram!("image_service_db_statement_duration_seconds")
                .record(info.elapsed.as_secs_f64());
        });
        Ok(Self { db, statements })
    }

    /// How many statements this pool has run.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// How many connections the pool holds, and how many of them are idle.
    pub fn pool_stats(&self) -> PoolStats {
        match self.backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                PoolStats {
                    open: pool.size(),
                    idle: pool.num_idle(),
                }
            }
            DbBackend::MySql => {
                let pool = self.db.get_mysql_connection_pool();
                PoolStats {
                    open: pool.size(),
                    idle: pool.num_idle(),
                }
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                PoolStats {
                    open: pool.size(),
                    idle: pool.num_idle(),
                }
            }
        }
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.db, None).await
    }

    /// Answers when the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.ping().await
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The connection, for tests and tools that inspect tables directly.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.db.close().await
    }

    /// Runs `attempt` in a write transaction, again when the database aborts it for a
    /// conflict with a concurrent one (bounded). SQLite transactions start `IMMEDIATE`, so
    /// writers queue on the database lock instead of failing to upgrade a read lock; MySQL runs
    /// at READ COMMITTED, like PostgreSQL's default, so that a statement after a row lock sees
    /// the rows committed before the lock was granted.
    async fn write<T, F, Fut>(&self, mut attempt: F) -> Result<T, StoreError>
    where
        F: FnMut(DatabaseTransaction) -> Fut,
        Fut: Future<Output = (DatabaseTransaction, Result<T, StoreError>)>,
    {
        for round in 1..=ATTEMPTS {
            let txn = self.db.begin_with_options(self.write_options()).await?;
            let (txn, result) = attempt(txn).await;
            let outcome = match result {
                Ok(value) => txn.commit().await.map(|()| value).map_err(StoreError::from),
                Err(err) => {
                    // Dropping an open transaction rolls it back; say so explicitly.
                    let _ = txn.rollback().await;
                    Err(err)
                }
            };
            match outcome {
                Err(err) if is_conflict(&err) && round < ATTEMPTS => {
                    tracing::debug!(round, "transaction conflict, retrying");
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(round))).await;
                }
                Err(err) if is_conflict(&err) => return Err(StoreError::Contention(round)),
                other => return other,
            }
        }
        Err(StoreError::Contention(ATTEMPTS))
    }

    fn write_options(&self) -> TransactionOptions {
        let isolation_level = match self.backend() {
            DbBackend::MySql => Some(IsolationLevel::ReadCommitted),
            _ => None,
        };
        TransactionOptions {
            isolation_level,
            access_mode: None,
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        }
    }
}

/// Whether the database aborted a statement for a conflict with a concurrent transaction, so
/// that running the transaction again may succeed.
fn is_conflict(err: &StoreError) -> bool {
    match err {
        StoreError::Database(db) => is_conflict_db(db),
        _ => false,
    }
}

fn is_conflict_db(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db) = e.as_ref() else {
        return false;
    };
    let code = db.code().unwrap_or_default();
    match code.as_ref() {
        // PostgreSQL serialization failure and deadlock; MySQL reports its deadlock
        // (1213) under SQLSTATE 40001 as well.
        "40001" | "40P01" => true,
        // MySQL lock wait timeout.
        "HY000" => db.message().contains("Lock wait timeout"),
        // SQLite: SQLITE_BUSY and SQLITE_LOCKED with their extended codes.
        other => other
            .parse::<i32>()
            .map(|n| matches!(n & 0xff, 5 | 6))
            .unwrap_or(false),
    }
}

/// Whether `err` is a unique-key violation, as classified by SeaORM.
fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Now, in microseconds since the Unix epoch.
fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Records that an image's members or tags changed: its etag and update time move on.
async fn touch_image<C: ConnectionTrait>(txn: &C, image_id: &str) -> Result<(), DbErr> {
    use sea_orm::ColumnTrait;

    touch_images(txn, crate::entity::image::Column::Id.eq(image_id)).await
}

/// Moves on the etag and update time of every image matching `filter`.
async fn touch_images<C: ConnectionTrait>(
    txn: &C,
    filter: impl sea_orm::sea_query::IntoCondition,
) -> Result<(), DbErr> {
    use sea_orm::{EntityTrait, QueryFilter, sea_query::Expr, sea_query::ExprTrait};

    use crate::entity::image;

    image::Entity::update_many()
        .col_expr(
            image::Column::Revision,
            Expr::col(image::Column::Revision).add(1),
        )
        .col_expr(image::Column::UpdateTime, Expr::value(now_micros()))
        .filter(filter)
        .exec(txn)
        .await?;
    Ok(())
}

/// Takes the write lock on one image row for the rest of the transaction, so that checks of
/// its member and tag counts cannot interleave with another transaction changing them.
async fn lock_image<C: ConnectionTrait>(txn: &C, image_id: &str) -> Result<(), DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

    use crate::entity::image;

    image::Entity::update_many()
        .col_expr(image::Column::Revision, Expr::col(image::Column::Revision))
        .filter(image::Column::Id.eq(image_id))
        .exec(txn)
        .await?;
    Ok(())
}
