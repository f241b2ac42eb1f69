//! What the store says about the service after launch: hits of served lists (the online hit
//! rate per model version) and counts over time for the dashboard.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::Row;

use super::{ServedList, Store, LIST_COLUMNS};
use crate::error::Result;
use crate::event::NewEvent;

/// How long after a list is served an event without a `list_id` still counts as its hit
/// (same user, an item of the list).
pub const HIT_WINDOW_MS: i64 = 30 * 60 * 1000;

/// Counts in one time bucket.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Bucket {
    /// Start of the bucket, milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// Events received.
    pub events: u64,
    /// Lists served, by model version.
    pub lists: BTreeMap<String, u64>,
    /// Of those, lists with a hit, by model version.
    pub hits: BTreeMap<String, u64>,
}

impl Store {
    /// Marks the served lists these events engage with (a click, start or complete on one of
    /// a list's items: the list named by `list_id`, or else the user's latest list with that
    /// item served up to [`HIT_WINDOW_MS`] before). Returns the model version of each list hit
    /// for the first time (every list counts once, whichever replica saw the event). A list
    /// not in the store yet is not hit: write served lists before their events' hits.
    pub async fn mark_hits(&self, events: &[&NewEvent]) -> Result<Vec<String>> {
        let engaged: Vec<&NewEvent> = events
            .iter()
            .copied()
            .filter(|e| e.kind.engages())
            .collect();
        if engaged.is_empty() {
            return Ok(Vec::new());
        }
        let named: Vec<String> = engaged.iter().filter_map(|e| e.list_id.clone()).collect();
        let by_id = self.lists_by_id(&named).await?;
        let users: Vec<String> = engaged
            .iter()
            .filter(|e| e.list_id.is_none())
            .map(|e| e.user.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let since = engaged
            .iter()
            .map(|e| e.timestamp * 1000)
            .min()
            .unwrap_or(0)
            - HIT_WINDOW_MS;
        let by_user = self.lists_of_users(&users, since).await?;
        let mut hit: Vec<&ServedList> = Vec::new();
        for e in engaged {
            let found = match &e.list_id {
                Some(id) => by_id.get(id).filter(|l| {
                    l.items.contains(&e.item) && l.user.as_deref().is_none_or(|u| u == e.user)
                }),
                None => by_user.get(&e.user).and_then(|lists| {
                    let at = e.timestamp * 1000;
                    lists.iter().rev().find(|l| {
                        l.served_ms <= at + 60_000
                            && l.served_ms >= at - HIT_WINDOW_MS
                            && l.items.contains(&e.item)
                    })
                }),
            };
            if let Some(l) = found {
                if !hit.iter().any(|h| h.list_id == l.list_id) {
                    hit.push(l);
                }
            }
        }
        // One statement for all: each list counts once, whichever replica marks it first.
        let mut first = Vec::new();
        let _turn = self.write_turn().await;
        for chunk in hit.chunks(100) {
            let marks = self.marks(1, chunk.len() + 1);
            let sql = format!(
                "UPDATE served_lists SET hit_ms = {} WHERE hit_ms IS NULL AND list_id IN ({}) RETURNING model_id",
                marks[0],
                marks[1..].join(",")
            );
            let mut q = sqlx::query(&sql).bind(super::now_ms());
            for l in chunk {
                q = q.bind(l.list_id.clone());
            }
            for r in q.fetch_all(&self.log_pool).await? {
                first.push(r.try_get::<String, _>(0)?);
            }
        }
        Ok(first)
    }

    /// Lists served to these users since `since_ms`, oldest first, by user.
    async fn lists_of_users(
        &self,
        users: &[String],
        since_ms: i64,
    ) -> Result<HashMap<String, Vec<ServedList>>> {
        let mut out: HashMap<String, Vec<ServedList>> = HashMap::new();
        for chunk in users.chunks(100) {
            let marks = self.marks(1, chunk.len() + 1);
            // The user's three latest lists in the window are the ones an event can hit.
            let sql = format!(
                "SELECT {LIST_COLUMNS} FROM (SELECT {LIST_COLUMNS}, ROW_NUMBER() OVER \
                 (PARTITION BY user_id ORDER BY served_ms DESC) AS latest FROM served_lists \
                 WHERE served_ms >= {} AND user_id IN ({})) recent WHERE latest <= 3 ORDER BY served_ms",
                marks[0],
                marks[1..].join(",")
            );
            let mut q = sqlx::query(&sql).bind(since_ms);
            for u in chunk {
                q = q.bind(u.clone());
            }
            for r in q.fetch_all(&self.pool).await? {
                let l = super::served(&r)?;
                if let Some(u) = l.user.clone() {
                    out.entry(u).or_default().push(l);
                }
            }
        }
        Ok(out)
    }

    /// Events, lists and hits per bucket of `bucket_ms` since `since_ms`.
    pub async fn timeline(&self, since_ms: i64, bucket_ms: i64) -> Result<Vec<Bucket>> {
        let bucket_ms = bucket_ms.max(1000);
        let mut buckets: BTreeMap<i64, Bucket> = BTreeMap::new();
        let rows = sqlx::query(
            "SELECT received_ms / $2, count(*) FROM events WHERE received_ms >= $1 GROUP BY 1",
        )
        .bind(since_ms)
        .bind(bucket_ms)
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let b: i64 = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            buckets.entry(b).or_default().events = n as u64;
        }
        let rows = sqlx::query(
            "SELECT served_ms / $2, model_id, count(*), count(hit_ms) FROM served_lists \
             WHERE served_ms >= $1 GROUP BY 1, 2",
        )
        .bind(since_ms)
        .bind(bucket_ms)
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let b: i64 = r.try_get(0)?;
            let model: String = r.try_get(1)?;
            let lists: i64 = r.try_get(2)?;
            let hits: i64 = r.try_get(3)?;
            let e = buckets.entry(b).or_default();
            e.lists.insert(model.clone(), lists as u64);
            e.hits.insert(model, hits as u64);
        }
        Ok(buckets
            .into_iter()
            .map(|(b, mut v)| {
                v.start_ms = b * bucket_ms;
                v
            })
            .collect())
    }

    /// The `limit` most recent served lists, newest first.
    pub async fn recent_lists(&self, limit: usize) -> Result<Vec<ServedList>> {
        let sql =
            format!("SELECT {LIST_COLUMNS} FROM served_lists ORDER BY served_ms DESC LIMIT $1");
        let rows = sqlx::query(&sql)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(super::served).collect()
    }

    /// Stored events in all.
    pub async fn event_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)? as u64)
    }
}
