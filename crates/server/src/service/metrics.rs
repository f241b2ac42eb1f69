//! Prometheus metrics of one replica (prometheus-client: the Prometheus project's own Rust
//! client, no global registry, so several services can run in one test process).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

fn latency_histogram() -> Histogram {
    // 0.1 ms to ~1.6 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

/// The service's counters, histograms and gauges.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    events: Family<Labels, Counter>,
    lists: Family<Labels, Counter>,
    hits: Family<Labels, Counter>,
    model: Family<Labels, Gauge>,
    lists_dropped: Counter,
    hits_dropped: Counter,
    /// The last [`RECENT`] latencies of each route, for the dashboard's percentiles.
    recent: Mutex<HashMap<String, VecDeque<f64>>>,
}

/// How many latencies per route the dashboard's percentiles are computed from.
const RECENT: usize = 4096;

/// p50, p90 and p99 of a route's recent latencies, in seconds, and how many there were.
pub(crate) type Percentiles = (String, usize, f64, f64, f64);

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("groundrec");
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let events = Family::<Labels, Counter>::default();
        let lists = Family::<Labels, Counter>::default();
        let hits = Family::<Labels, Counter>::default();
        let model = Family::<Labels, Gauge>::default();
        let lists_dropped = Counter::default();
        let hits_dropped = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and method",
            latency.clone(),
        );
        registry.register(
            "events",
            "Event rows by outcome (stored, duplicate, rejected)",
            events.clone(),
        );
        registry.register(
            "lists_served",
            "Lists served by model version and kind (personal or fallback)",
            lists.clone(),
        );
        registry.register(
            "list_hits",
            "Served lists with a click, start or complete on one of their items (each list once), by model version; divided by lists_served: the online hit rate",
            hits.clone(),
        );
        registry.register(
            "model_info",
            "The model version serving (value 1)",
            model.clone(),
        );
        registry.register(
            "list_log_dropped",
            "Served lists not logged because the log queue was full",
            lists_dropped.clone(),
        );
        registry.register(
            "hit_queue_dropped",
            "Event batches not checked for hits because the queue was full",
            hits_dropped.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            events,
            lists,
            hits,
            model,
            lists_dropped,
            hits_dropped,
            recent: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("method", method.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("method", method.to_string()),
            ])
            .observe(seconds);
        if let Ok(mut recent) = self.recent.lock() {
            let q = recent.entry(route.to_string()).or_default();
            if q.len() == RECENT {
                q.pop_front();
            }
            q.push_back(seconds);
        }
    }

    /// Latency percentiles of each route's recent requests, by route.
    pub(crate) fn percentiles(&self) -> Vec<Percentiles> {
        let Ok(recent) = self.recent.lock() else {
            return Vec::new();
        };
        let mut out: Vec<Percentiles> = recent
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(route, q)| {
                let mut v: Vec<f64> = q.iter().copied().collect();
                v.sort_by(f64::total_cmp);
                let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
                (route.clone(), v.len(), at(0.5), at(0.9), at(0.99))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    pub(crate) fn events(&self, outcome: &'static str, n: u64) {
        if n > 0 {
            self.events
                .get_or_create(&vec![("outcome", outcome.to_string())])
                .inc_by(n);
        }
    }

    pub(crate) fn list(&self, model: &str, fallback: bool) {
        let kind = if fallback { "fallback" } else { "personal" };
        self.lists
            .get_or_create(&vec![
                ("model", model.to_string()),
                ("kind", kind.to_string()),
            ])
            .inc();
    }

    pub(crate) fn hits(&self, model: &str, n: u64) {
        self.hits
            .get_or_create(&vec![("model", model.to_string())])
            .inc_by(n);
    }

    pub(crate) fn hits_dropped(&self) {
        self.hits_dropped.inc();
    }

    pub(crate) fn list_dropped(&self) {
        self.lists_dropped.inc();
    }

    pub(crate) fn serving(&self, old: Option<&str>, new: &str) {
        if let Some(old) = old {
            self.model
                .get_or_create(&vec![("model", old.to_string())])
                .set(0);
        }
        self.model
            .get_or_create(&vec![("model", new.to_string())])
            .set(1);
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
