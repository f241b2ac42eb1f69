//! What a replica holds: the serving pipeline (swapped whole on reload and on catalogue
//! changes), the store, metrics and the served-list log queue.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use groundrec::{FittedPipeline, Item};
use tokio::sync::{mpsc, Mutex};

use super::metrics::Metrics;
use crate::error::{Result, ServerError};
use crate::store::{ServedList, Store};

/// How a replica serves.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The artifact folder (or a folder of versions with a `current` file) to serve.
    pub artifacts: PathBuf,
    /// Bearer token that write and admin routes need; `None` leaves them open.
    pub token: Option<String>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered with 503.
    pub request_timeout: Duration,
    /// Longest list a request may ask for.
    pub max_n: usize,
    /// Largest event batch.
    pub max_batch: usize,
    /// How often catalogue changes made through other replicas are picked up.
    pub sync_every: Duration,
}

impl ServeConfig {
    /// Defaults for serving `artifacts`: no token, 1 MiB bodies, 10 s timeout, lists of at
    /// most 100, batches of at most 1,000 events, catalogue sync every 2 s.
    pub fn new(artifacts: impl Into<PathBuf>) -> Self {
        Self {
            artifacts: artifacts.into(),
            token: None,
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(10),
            max_n: 100,
            max_batch: 1000,
            sync_every: Duration::from_secs(2),
        }
    }
}

/// The pipeline a replica serves now, with where it came from.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) pipeline: FittedPipeline,
    pub(crate) dir: PathBuf,
    /// The last catalogue change applied (moved forward in place when the changes after it
    /// were all applied already, so an idle sync copies no pipeline).
    pub(crate) item_seq: AtomicI64,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) config: ServeConfig,
    pub(crate) metrics: Metrics,
    live: RwLock<Arc<Live>>,
    /// Held by whoever changes `live` (catalogue changes, reloads), one at a time.
    writer: Mutex<()>,
    lists: mpsc::Sender<LogMessage>,
    hits: mpsc::Sender<Vec<crate::event::NewEvent>>,
}

/// What the list logger is told.
#[derive(Debug)]
enum LogMessage {
    /// Log this list.
    List(ServedList),
    /// Write everything queued before this, then answer.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// A replica of the service: cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct Service {
    pub(crate) inner: Arc<Inner>,
}

/// The artifact folder `dir` names: `dir` itself, or `dir/versions/<name>` when `dir/current`
/// names a promoted version.
pub fn resolve_artifacts(dir: &Path) -> Result<PathBuf> {
    let current = dir.join("current");
    if current.is_file() {
        let name = std::fs::read_to_string(&current).map_err(|e| ServerError::io(&current, e))?;
        let name = name.trim();
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(ServerError::Internal(format!(
                "{}: {name:?} is not a version name",
                current.display()
            )));
        }
        return Ok(dir.join("versions").join(name));
    }
    Ok(dir.to_path_buf())
}

async fn load_blocking(dir: PathBuf) -> Result<FittedPipeline> {
    tokio::task::spawn_blocking(move || FittedPipeline::load(&dir).map_err(ServerError::from))
        .await
        .map_err(|e| ServerError::Internal(format!("the loader stopped: {e}")))?
}

impl Service {
    /// Loads the artifacts, applies the store's catalogue changes and starts the list logger.
    /// Must run inside a tokio runtime.
    pub async fn start(store: Store, config: ServeConfig) -> Result<Self> {
        let dir = resolve_artifacts(&config.artifacts)?;
        let pipeline = load_blocking(dir.clone()).await?;
        let (tx, rx) = mpsc::channel(10_000);
        let (hits_tx, hits_rx) = mpsc::channel(1_000);
        let metrics = Metrics::new();
        metrics.serving(None, pipeline.model_id());
        let inner = Arc::new(Inner {
            store,
            config,
            metrics,
            live: RwLock::new(Arc::new(Live {
                pipeline,
                dir,
                item_seq: AtomicI64::new(0),
            })),
            writer: Mutex::new(()),
            lists: tx,
            hits: hits_tx,
        });
        let service = Self { inner };
        service.sync_items().await?;
        tokio::spawn(log_lists(service.inner.store.clone(), rx));
        tokio::spawn(mark_hits(service.clone(), hits_rx));
        Ok(service)
    }

    /// The pipeline serving now. Requests hold their own `Arc`, so a swap never disturbs
    /// one in flight.
    pub(crate) fn live(&self) -> Arc<Live> {
        match self.inner.live.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn swap(&self, new: Arc<Live>) {
        let old = self.live();
        if old.pipeline.model_id() != new.pipeline.model_id() {
            self.inner
                .metrics
                .serving(Some(old.pipeline.model_id()), new.pipeline.model_id());
        }
        match self.inner.live.write() {
            Ok(mut g) => *g = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }

    /// The store behind this replica.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The model version serving now.
    pub fn model_id(&self) -> String {
        self.live().pipeline.model_id().to_string()
    }

    /// Applies catalogue changes stored since the last ones applied (by any replica).
    /// Returns how many items changed here.
    pub async fn sync_items(&self) -> Result<usize> {
        let _w = self.inner.writer.lock().await;
        self.sync_locked(None).await
    }

    /// With the writer lock held. `prepared` holds items already prepared for this pipeline.
    async fn sync_locked(&self, prepared: Option<Prepared>) -> Result<usize> {
        let live = self.live();
        let (next, changed) = advance(&self.inner.store, &live, prepared).await?;
        if let Some(next) = next {
            self.swap(Arc::new(next));
        }
        Ok(changed)
    }

    /// Checks and prepares `items` (keywords, embedding, cluster), stores them, then serves
    /// them. Nothing is stored when an item is refused.
    pub async fn put_items(&self, items: Vec<Item>) -> Result<()> {
        let _w = self.inner.writer.lock().await;
        let live = self.live();
        let ready = prepare(live, items.clone()).await?;
        self.inner.store.put_items(&items).await?;
        self.sync_locked(Some((items, ready))).await?;
        Ok(())
    }

    /// Deletes an item: stored, then kept out of every list. Unknown ids are 404.
    pub async fn delete_item(&self, id: &str) -> Result<()> {
        let _w = self.inner.writer.lock().await;
        let live = self.live();
        if live.pipeline.catalog().get(id).is_none() || live.pipeline.is_retired(id) {
            return Err(ServerError::not_found(
                "unknown_item",
                format!("item {id:?} is not in the catalogue"),
            ));
        }
        self.inner.store.delete_item(id).await?;
        self.sync_locked(None).await?;
        Ok(())
    }

    /// Loads the artifacts at `dir` (the configured folder when `None`) and serves them once
    /// the store's catalogue changes are applied. On any failure the old model keeps serving
    /// and the error says why. Returns the new model version.
    pub async fn reload(&self, dir: Option<PathBuf>) -> Result<String> {
        let root = dir.unwrap_or_else(|| self.inner.config.artifacts.clone());
        let dir = resolve_artifacts(&root)?;
        let pipeline = load_blocking(dir.clone()).await?;
        let _w = self.inner.writer.lock().await;
        // Every catalogue change since the beginning is applied before it serves; items it
        // already holds as they are stored are skipped.
        let fresh = Live {
            pipeline,
            dir,
            item_seq: AtomicI64::new(0),
        };
        let fresh = Arc::new(fresh);
        let (next, _) = advance(&self.inner.store, &fresh, None).await?;
        let next = next.map_or(fresh, Arc::new);
        let id = next.pipeline.model_id().to_string();
        self.swap(next);
        Ok(id)
    }

    /// Queues a served list for the log (dropped, and counted, when the queue is full).
    pub(crate) fn log_list(&self, list: ServedList) {
        if self.inner.lists.try_send(LogMessage::List(list)).is_err() {
            self.inner.metrics.list_dropped();
        }
    }

    /// Queues stored engaging events for hit marking (dropped, and counted, when the queue
    /// is full: hit counts are best effort, the events themselves are stored).
    pub(crate) fn queue_hits(&self, events: Vec<crate::event::NewEvent>) {
        if !events.is_empty() && self.inner.hits.try_send(events).is_err() {
            self.inner.metrics.hits_dropped();
        }
    }

    /// Waits until every list queued so far is written (or the writer failed).
    pub(crate) async fn flush_lists(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.inner.lists.send(LogMessage::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

type Prepared = (Vec<Item>, groundrec::PreparedItems);

/// Keywords, embeddings and clusters of `items` for `live`'s pipeline, on the blocking pool
/// (a transformer embedder runs there); the pipeline is shared, not copied.
async fn prepare(live: Arc<Live>, items: Vec<Item>) -> Result<groundrec::PreparedItems> {
    tokio::task::spawn_blocking(move || live.pipeline.prepare_upsert(&items))
        .await
        .map_err(|e| ServerError::Internal(format!("item preparation stopped: {e}")))?
        .map_err(ServerError::from)
}

/// `live` with the catalogue changes stored after `live.item_seq` applied (`None` when there
/// are none), and how many items changed.
async fn advance(
    store: &Store,
    live: &Arc<Live>,
    prepared: Option<Prepared>,
) -> Result<(Option<Live>, usize)> {
    let changes = store
        .item_changes_since(live.item_seq.load(Ordering::Acquire))
        .await?;
    let Some(last) = changes.last().map(|c| c.seq) else {
        return Ok((None, 0));
    };
    let catalog = live.pipeline.catalog();
    let mut upserts = Vec::new();
    let mut retire = Vec::new();
    for c in changes {
        match c.item {
            Some(item) => {
                let same = catalog.get(&item.id) == Some(&item);
                if !same || live.pipeline.is_retired(&item.id) {
                    upserts.push(item);
                }
            }
            None => {
                if catalog.get(&c.item_id).is_some() && !live.pipeline.is_retired(&c.item_id) {
                    retire.push(c.item_id);
                }
            }
        }
    }
    let changed = upserts.len() + retire.len();
    if changed == 0 {
        // Already served as stored (this replica made them, or a reload applied them).
        live.item_seq.store(last, Ordering::Release);
        return Ok((None, 0));
    }
    let mut pipeline = live.pipeline.clone();
    if !upserts.is_empty() {
        let ready = match prepared {
            Some((items, ready)) if items == upserts => ready,
            _ => prepare(live.clone(), upserts).await?,
        };
        pipeline.apply_upsert(ready)?;
    }
    for id in &retire {
        pipeline.retire(id)?;
    }
    Ok((
        Some(Live {
            pipeline,
            dir: live.dir.clone(),
            item_seq: AtomicI64::new(last),
        }),
        changed,
    ))
}

/// Marks the lists that queued events hit, a few batches at a time. Lists served here in
/// the last 100 ms may still sit in the log queue, so it is flushed first.
async fn mark_hits(service: Service, mut rx: mpsc::Receiver<Vec<crate::event::NewEvent>>) {
    while let Some(mut events) = rx.recv().await {
        while events.len() < 2000 {
            match rx.try_recv() {
                Ok(more) => events.extend(more),
                Err(_) => break,
            }
        }
        service.flush_lists().await;
        let refs: Vec<&crate::event::NewEvent> = events.iter().collect();
        // A failure loses these hit counts only.
        if let Ok(first) = service.inner.store.mark_hits(&refs).await {
            for m in first {
                service.inner.metrics.hits(&m, 1);
            }
        }
    }
}

/// Writes served lists in batches: every 100 ms or 500 lists, whichever comes first, and at
/// once when asked to flush.
async fn log_lists(store: Store, mut rx: mpsc::Receiver<LogMessage>) {
    let mut batch = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut waiting = Vec::new();
        match first {
            LogMessage::List(l) => batch.push(l),
            LogMessage::Flush(ack) => waiting.push(ack),
        }
        let deadline = tokio::time::sleep(Duration::from_millis(100));
        tokio::pin!(deadline);
        while batch.len() < 500 && waiting.is_empty() {
            tokio::select! {
                next = rx.recv() => match next {
                    Some(LogMessage::List(l)) => batch.push(l),
                    Some(LogMessage::Flush(ack)) => waiting.push(ack),
                    None => break,
                },
                () = &mut deadline => break,
            }
        }
        // A failed write loses these log rows only; events are never written here.
        let _ = store.log_lists(&batch).await;
        batch.clear();
        for ack in waiting {
            let _ = ack.send(());
        }
    }
}
