//! groundrec-server: the groundrec service, as a library and as the `groundrec` command.
//!
//! A [`Store`] keeps every event (append-only: sequences are what SASRec learns from), the
//! catalogue changes made while serving and the lists served, in SQLite (`sqlite://PATH`, the
//! embedded default) or PostgreSQL (`postgres://...`, for several replicas), one schema and
//! one set of queries for both. A [`Service`] serves a fitted pipeline's artifact folder over
//! HTTP ([`router`], [`serve`]): events in, personal lists out, with the user's history read
//! from the store at request time so that an event counts at once, similar items, catalogue
//! changes without retraining, Prometheus metrics and reloads that never drop a request. A
//! replica keeps no state besides the store: replicas on one PostgreSQL see each other's
//! events and catalogue changes.
//!
//! Why these crates: axum and tokio (the most used Rust HTTP stack; graceful shutdown and
//! middleware built in), sqlx (async, migrations, one `Any` driver over SQLite and
//! PostgreSQL), prometheus-client (the Prometheus project's client, no global registry), clap
//! for the command line. Like every program on groundrec, the service links libtorch: see the
//! README for `LIBTORCH` and the loader path.
//!
//! # Example
//!
//! ```no_run
//! use groundrec_server::{serve, ServeConfig, Service, Store};
//!
//! # async fn run() -> Result<(), groundrec_server::ServerError> {
//! let store = Store::connect("sqlite://groundrec.db").await?;
//! let service = Service::start(store, ServeConfig::new("artifacts")).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080")
//!     .await
//!     .map_err(|e| groundrec_server::ServerError::Internal(e.to_string()))?;
//! serve(service, listener, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! # }
//! ```
#![deny(missing_docs)]

mod error;
mod event;
mod service;
mod store;
mod versions;

pub use error::{Result, ServerError};
pub use event::{check_id, parse_row, EventKind, NewEvent, RowOutcome, MAX_ID_BYTES};
pub use service::{
    report_html, resolve_artifacts, router, serve, ListResponse, ServeConfig, Service, OPENAPI,
};
pub use store::{now_ms, Backend, Bucket, ItemChange, ServedList, Store, HIT_WINDOW_MS};
pub use versions::{current_version, publish, save_fit, write_atomically, Promotion};
