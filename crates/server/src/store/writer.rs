//! Group commit of events: batches that arrive while a transaction runs are written together
//! in the next one, and each is answered once its transaction is committed.

use std::collections::HashMap;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::{now_ms, Store};
use crate::error::Result;
use crate::event::NewEvent;

/// Rows one transaction takes at most.
const MAX_ROWS: usize = 5000;

/// One request's batch and where its answer goes.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) events: Vec<NewEvent>,
    pub(crate) reply: oneshot::Sender<std::result::Result<Vec<bool>, String>>,
}

/// Takes jobs until every sender is gone.
pub(super) async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut rows = jobs[0].events.len();
        while rows < MAX_ROWS {
            match rx.try_recv() {
                Ok(job) => {
                    rows += job.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let all: Vec<NewEvent> = jobs.iter().flat_map(|j| j.events.iter().cloned()).collect();
        match insert(&store, &all).await {
            Ok(stored) => {
                let mut at = 0;
                for job in jobs {
                    let n = job.events.len();
                    let _ = job.reply.send(Ok(stored[at..at + n].to_vec()));
                    at += n;
                }
            }
            Err(e) => {
                let message = e.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

/// Stores a batch in one transaction and says, row by row, whether it was stored now
/// (`true`) or its `event_id` was already there (`false`, a retry). Either every row is
/// committed or none is. Rows without an `event_id` are always stored.
pub(super) async fn insert(store: &Store, events: &[NewEvent]) -> Result<Vec<bool>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let received = now_ms();
    let mut stored = vec![true; events.len()];
    let _turn = store.write_turn().await;
    let mut tx = store.pool.begin().await?;
    // 7 parameters a row; 100 rows a statement keeps well under every driver's limit.
    for (c, chunk) in events.chunks(100).enumerate() {
        let mut sql = String::from(
            "INSERT INTO events (event_id, user_id, item_id, kind, ts, list_id, received_ms) VALUES ",
        );
        let marks = store.marks(1, chunk.len() * 7);
        for (r, row) in marks.chunks(7).enumerate() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            sql.push_str(&row.join(","));
            sql.push(')');
        }
        sql.push_str(" ON CONFLICT (event_id) DO NOTHING RETURNING event_id");
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(e.event_id.clone())
                .bind(e.user.clone())
                .bind(e.item.clone())
                .bind(e.kind.as_str())
                .bind(e.timestamp)
                .bind(e.list_id.clone())
                .bind(received);
        }
        let rows = q.fetch_all(&mut *tx).await?;
        let mut inserted: HashMap<String, usize> = HashMap::new();
        for row in &rows {
            if let Some(id) = row.try_get::<Option<String>, _>(0)? {
                *inserted.entry(id).or_default() += 1;
            }
        }
        for (r, e) in chunk.iter().enumerate() {
            if let Some(id) = &e.event_id {
                // A row counts as stored once per returned id; later copies are retries.
                let left = inserted.get_mut(id);
                stored[c * 100 + r] = match left {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        true
                    }
                    _ => false,
                };
            }
        }
    }
    tx.commit().await?;
    Ok(stored)
}
