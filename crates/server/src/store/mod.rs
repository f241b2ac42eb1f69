//! The store: events, catalogue changes and served lists, in SQLite or PostgreSQL behind one
//! interface. Both run the same schema (`migrations/sqlite`, `migrations/postgres`) and the
//! same queries through sqlx's `Any` driver, so a query is written once.

mod stats;
mod writer;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use groundrec::Item;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

pub use stats::{Bucket, HIT_WINDOW_MS};

use crate::error::{Result, ServerError};
use crate::event::NewEvent;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (`sqlite://PATH`): one file, WAL, every write committed before the answer.
    Sqlite,
    /// PostgreSQL (`postgres://...`): for several replicas.
    Postgres,
}

/// A catalogue change, in the order it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemChange {
    /// Its place in the order of changes.
    pub seq: i64,
    /// The item.
    pub item_id: String,
    /// The item's new state, or `None` when it was deleted.
    pub item: Option<Item>,
}

/// A list the service served.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedList {
    /// Its id, given to the client.
    pub list_id: String,
    /// The user, or `None` for an anonymous history.
    pub user: Option<String>,
    /// The model version that ranked it.
    pub model_id: String,
    /// The item ids, best first.
    pub items: Vec<String>,
    /// Whether it was a fallback (popular items: no usable history).
    pub fallback: bool,
    /// When it was served, in milliseconds since the Unix epoch.
    pub served_ms: i64,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The events, catalogue changes and served lists of one deployment.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where served lists and hits are written (see [`Store::connect_with`]).
    log_pool: AnyPool,
    backend: Backend,
    /// SQLite takes one writer at a time; writers queue here instead of in SQLite's busy
    /// handler, which sleeps in steps of up to 100 ms.
    writes: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The group-commit writer of events (absent in the writer's own copy).
    events: Option<tokio::sync::mpsc::Sender<writer::Job>>,
}

impl Store {
    /// Opens the store at `url` and brings its schema up to date. `sqlite://PATH` creates the
    /// file when missing (`sqlite::memory:` is a private in-memory store; `?sync=normal` syncs
    /// less: commits survive a crash of the process but maybe not a power loss);
    /// `postgres://` and `postgresql://` need the database to exist.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, 8).await
    }

    /// [`Store::connect`] with a pool of at most `connections`.
    pub async fn connect_with(url: &str, connections: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let bad = |reason: &str| ServerError::StoreUrl {
            url: url.to_string(),
            reason: reason.into(),
        };
        let mut synchronous = "FULL";
        let (backend, url) = if url.starts_with("sqlite:") {
            // Our own option, not SQLite's: `sync=normal` trades durability over a power loss
            // (not over a crash of the process) for fewer fsyncs.
            let (base, query) = url.split_once('?').unwrap_or((url, ""));
            let mut kept = Vec::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair {
                    "sync=full" => synchronous = "FULL",
                    "sync=normal" => synchronous = "NORMAL",
                    p if p.starts_with("sync=") => return Err(bad("sync is full or normal")),
                    p => kept.push(p),
                }
            }
            let url = if kept.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{}", kept.join("&"))
            };
            let url = url.as_str();
            let memory = url.contains(":memory:");
            let url = if memory || url.contains("mode=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(bad("use sqlite://PATH or postgres://USER@HOST/DB"));
        };
        let memory = url.contains(":memory:");
        let options = |synchronous: &'static str, max: u32| {
            let mut options = AnyPoolOptions::new()
                .max_connections(if memory { 1 } else { max.max(1) })
                .acquire_timeout(Duration::from_secs(10));
            if backend == Backend::Sqlite {
                let pragma = format!("PRAGMA synchronous = {synchronous}");
                options = options.after_connect(move |conn, _| {
                    let pragma = pragma.clone();
                    Box::pin(async move {
                        // WAL lets readers run beside the writer; FULL makes a commit durable
                        // (even over a power loss) before the answer that reports it.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute(pragma.as_str()).await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        Ok(())
                    })
                });
                if memory {
                    // One connection that lives as long as the pool: the data lives in it.
                    options = options.idle_timeout(None).max_lifetime(None);
                }
            }
            options
        };
        let pool = options(synchronous, connections).connect(&url).await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        // Served lists and hits are best effort: on SQLite they commit on a connection of
        // their own without an fsync (the next event commit syncs them), so they do not
        // delay the events' commits.
        let log_pool = if backend == Backend::Sqlite && !memory {
            options("NORMAL", 1).connect(&url).await?
        } else {
            pool.clone()
        };
        let mut store = Self {
            pool,
            log_pool,
            backend,
            writes: Default::default(),
            events: None,
        };
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(writer::run(store.clone(), rx));
        store.events = Some(tx);
        Ok(store)
    }

    /// Placeholders for parameters `first..first + n`: `$k` for PostgreSQL; for SQLite plain
    /// `?`, since SQLite looks up numbered ones by a linear search per bind, which made a
    /// batch of 700 parameters cost more than its inserts. A statement takes all its
    /// placeholders from here or none (sqlx counts `?` apart from named ones).
    pub(crate) fn marks(&self, first: usize, n: usize) -> Vec<String> {
        match self.backend {
            Backend::Sqlite => vec!["?".to_string(); n],
            Backend::Postgres => (first..first + n).map(|i| format!("${i}")).collect(),
        }
    }

    /// A turn to write (SQLite only; PostgreSQL takes concurrent writers itself).
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writes.lock().await),
            Backend::Postgres => None,
        }
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stores a batch and says, row by row, whether it was stored now (`true`) or its
    /// `event_id` was already there (`false`, a retry). Batches that arrive together are
    /// committed in one transaction (group commit), before any of them is answered; a
    /// batch is committed whole or not at all. Rows without an `event_id` are always stored.
    pub async fn insert_events(&self, events: &[NewEvent]) -> Result<Vec<bool>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let Some(queue) = &self.events else {
            return writer::insert(self, events).await;
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = writer::Job {
            events: events.to_vec(),
            reply,
        };
        if queue.send(job).await.is_err() {
            return writer::insert(self, events).await;
        }
        match answer.await {
            Ok(r) => r.map_err(|m| ServerError::Store(sqlx::Error::Protocol(m))),
            Err(_) => Err(ServerError::Internal("the event writer stopped".into())),
        }
    }

    /// The user's last `limit` history items (impressions left out), oldest first.
    pub async fn history(&self, user: &str, limit: usize) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT item_id FROM events WHERE user_id = $1 AND kind <> 'impression' \
             ORDER BY ts DESC, seq DESC LIMIT $2",
        )
        .bind(user)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()?;
        items.reverse();
        Ok(items)
    }

    /// Every history event (impressions left out) as the pipeline fits on them, in order.
    pub async fn history_events(&self) -> Result<Vec<groundrec::Event>> {
        let rows = sqlx::query(
            "SELECT user_id, item_id, ts, kind FROM events WHERE kind <> 'impression' \
             ORDER BY user_id, ts, seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(groundrec::Event {
                    user: r.try_get(0)?,
                    item: r.try_get(1)?,
                    timestamp: r.try_get(2)?,
                    event_type: Some(r.try_get(3)?),
                })
            })
            .collect()
    }

    /// Every stored event, in arrival order, as JSON objects of the API's shape.
    pub async fn all_events(&self) -> Result<Vec<serde_json::Value>> {
        let rows = sqlx::query(
            "SELECT event_id, user_id, item_id, kind, ts, list_id FROM events ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                if let Some(id) = r.try_get::<Option<String>, _>(0)? {
                    o.insert("event_id".into(), id.into());
                }
                o.insert("user".into(), r.try_get::<String, _>(1)?.into());
                o.insert("item".into(), r.try_get::<String, _>(2)?.into());
                o.insert("type".into(), r.try_get::<String, _>(3)?.into());
                o.insert("timestamp".into(), r.try_get::<i64, _>(4)?.into());
                if let Some(id) = r.try_get::<Option<String>, _>(5)? {
                    o.insert("list_id".into(), id.into());
                }
                Ok(serde_json::Value::Object(o))
            })
            .collect()
    }

    /// Records new states of items (all in one transaction); returns the last change's seq.
    pub async fn put_items(&self, items: &[Item]) -> Result<i64> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let mut last = 0;
        let now = now_ms();
        for item in items {
            let body = serde_json::to_string(item)
                .map_err(|e| ServerError::Internal(format!("item {}: {e}", item.id)))?;
            let row = sqlx::query(
                "INSERT INTO item_changes (item_id, body, changed_ms) VALUES ($1, $2, $3) RETURNING seq",
            )
            .bind(item.id.clone())
            .bind(body)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            last = row.try_get(0)?;
        }
        tx.commit().await?;
        Ok(last)
    }

    /// Records that an item was deleted; returns the change's seq.
    pub async fn delete_item(&self, id: &str) -> Result<i64> {
        let _turn = self.write_turn().await;
        let row = sqlx::query(
            "INSERT INTO item_changes (item_id, body, changed_ms) VALUES ($1, NULL, $2) RETURNING seq",
        )
        .bind(id)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Catalogue changes after `seq`, oldest first; only each item's newest state.
    pub async fn item_changes_since(&self, seq: i64) -> Result<Vec<ItemChange>> {
        let rows = sqlx::query(
            "SELECT c.seq, c.item_id, c.body FROM item_changes c \
             WHERE c.seq > $1 AND c.seq = (SELECT max(d.seq) FROM item_changes d WHERE d.item_id = c.item_id) \
             ORDER BY c.seq",
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change).collect()
    }

    /// The catalogue the store holds: each item's newest state, deleted ones left out, in
    /// the order of their last change.
    pub async fn catalog_items(&self) -> Result<Vec<Item>> {
        Ok(self
            .item_changes_since(0)
            .await?
            .into_iter()
            .filter_map(|c| c.item)
            .collect())
    }

    /// The newest change's seq (0 when there is none).
    pub async fn last_item_change(&self) -> Result<i64> {
        let row = sqlx::query("SELECT max(seq) FROM item_changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
    }

    /// Logs served lists (one transaction).
    pub async fn log_lists(&self, lists: &[ServedList]) -> Result<()> {
        if lists.is_empty() {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        let mut tx = self.log_pool.begin().await?;
        for l in lists {
            let items = serde_json::to_string(&l.items)
                .map_err(|e| ServerError::Internal(format!("list {}: {e}", l.list_id)))?;
            sqlx::query(&format!(
                "INSERT INTO served_lists ({LIST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (list_id) DO NOTHING"
            ))
            .bind(l.list_id.clone())
            .bind(l.user.clone())
            .bind(l.model_id.clone())
            .bind(items)
            .bind(i64::from(l.fallback))
            .bind(l.served_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The served lists with these ids (unknown ids are left out).
    pub async fn lists_by_id(&self, ids: &[String]) -> Result<HashMap<String, ServedList>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(100) {
            let marks = self.marks(1, chunk.len());
            let sql = format!(
                "SELECT {LIST_COLUMNS} FROM served_lists WHERE list_id IN ({})",
                marks.join(",")
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.clone());
            }
            for r in q.fetch_all(&self.pool).await? {
                let list = served(&r)?;
                out.insert(list.list_id.clone(), list);
            }
        }
        Ok(out)
    }
}

/// The columns of `served_lists`, in the order [`served`] reads them.
const LIST_COLUMNS: &str = "list_id, user_id, model_id, items, fallback, served_ms";

fn served(r: &AnyRow) -> Result<ServedList> {
    let list_id: String = r.try_get(0)?;
    let items: String = r.try_get(3)?;
    let items = serde_json::from_str(&items).map_err(|e| {
        ServerError::Internal(format!("stored list {list_id:?} does not parse: {e}"))
    })?;
    Ok(ServedList {
        list_id,
        user: r.try_get(1)?,
        model_id: r.try_get(2)?,
        items,
        fallback: r.try_get::<i64, _>(4)? != 0,
        served_ms: r.try_get(5)?,
    })
}

fn change(r: &AnyRow) -> Result<ItemChange> {
    let item_id: String = r.try_get(1)?;
    let item = match r.try_get::<Option<String>, _>(2)? {
        None => None,
        Some(body) => Some(serde_json::from_str(&body).map_err(|e| {
            ServerError::Internal(format!("stored item {item_id:?} does not parse: {e}"))
        })?),
    };
    Ok(ItemChange {
        seq: r.try_get(0)?,
        item_id,
        item,
    })
}
