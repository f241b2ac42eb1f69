//! Shared by the service's tests: a small fitted pipeline, fresh stores of both kinds, and
//! servers on ephemeral ports.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use groundrec::sasrec::SasRec;
use groundrec::{simulate_learners, Catalog, Clusters, DemoLearners, Item, Pipeline};
use groundrec_server::{ServeConfig, Service, Store};

/// Four subjects of eight lessons, in English or Korean.
pub fn catalog() -> Catalog {
    let subjects = [
        ("Mathematics", "Fractions", "분수"),
        ("History", "Joseon dynasty", "조선 왕조"),
        ("Music", "Scales and chords", "음계와 화음"),
        ("Programming", "Rust ownership", "러스트 소유권"),
    ];
    let items = subjects.iter().flat_map(|(cat, en, ko)| {
        (1..=8).map(move |l| {
            // Mathematics entirely in Korean, the others alternating.
            let korean = *cat == "Mathematics" || l % 2 == 0;
            let (title, description, lang) = if korean {
                (format!("{ko} {l}강"), format!("{ko} 강좌의 {l}부"), "ko")
            } else {
                (
                    format!("{en} lesson {l}"),
                    format!("{en}: part {l} of the course"),
                    "en",
                )
            };
            Item::new(format!("{}{l}", &cat[..2]), title, description)
                .with_category(*cat)
                .with_language(lang)
        })
    });
    Catalog::from_items(items).expect("valid catalogue").0
}

/// A pipeline fitted once per test binary (hashing embedder, a few epochs), saved to a
/// folder that lives as long as the process.
pub fn artifacts() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let catalog = catalog();
        let log = simulate_learners(
            &catalog,
            &DemoLearners {
                learners: 120,
                new_items: 0.0,
                ..Default::default()
            },
        );
        let (fitted, _) = Pipeline::builder()
            .hashing(64)
            .clusters(Clusters::Fixed(4))
            .sasrec(SasRec::params().hidden(16).epochs(2).early_stopping(None))
            .check()
            .expect("valid params")
            .fit(&catalog, &log.events)
            .expect("fit");
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("model");
        fitted.save(&dir).expect("save");
        (tmp, dir)
    })
    .1
}

/// A fresh SQLite store in a temporary folder (kept alive by the returned guard).
pub fn sqlite_url() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", tmp.path().join("store.db").display());
    (tmp, url)
}

/// The PostgreSQL server the tests use (scripts/postgres makes it).
pub fn postgres_admin_url() -> String {
    std::env::var("GROUNDREC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://groundrec:groundrec@127.0.0.1:5432/groundrec".into())
}

/// A fresh, empty PostgreSQL database for one test, or `None` (with a note) when no server
/// answers. Under `CI=true` a missing server fails the test instead.
pub async fn postgres_url() -> Option<String> {
    use sqlx::Connection;
    let admin = postgres_admin_url();
    let conn = sqlx::PgConnection::connect(&admin).await;
    let mut conn = match conn {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL at {admin} is needed under CI=true (scripts/postgres starts it): {e}");
            }
            eprintln!("skipping the PostgreSQL half: {admin}: {e} (run scripts/postgres)");
            return None;
        }
    };
    let name = format!("groundrec_test_{:016x}", rand::random::<u64>());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

/// The stores a test runs on: SQLite always, PostgreSQL when it answers.
pub async fn store_urls() -> (Vec<tempfile::TempDir>, Vec<String>) {
    let (guard, sqlite) = sqlite_url();
    let mut urls = vec![sqlite];
    if let Some(pg) = postgres_url().await {
        urls.push(pg);
    }
    (vec![guard], urls)
}

/// A running server.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The service behind it.
    pub service: Service,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts a server on an ephemeral port over `url` with `config`.
pub async fn start(url: &str, config: ServeConfig) -> Running {
    let store = Store::connect(url).await.expect("store");
    let service = Service::start(store, config).await.expect("service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s = service.clone();
    let task = tokio::spawn(async move {
        groundrec_server::serve(s, listener, async {
            let _ = rx.await;
        })
        .await
        .expect("serve");
    });
    Running {
        base,
        service,
        stop: Some(tx),
        task,
    }
}

/// The default configuration over the shared artifacts.
pub fn config() -> ServeConfig {
    ServeConfig::new(artifacts())
}

/// The item ids of a list answer, in order.
pub fn list_items(list: &serde_json::Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["item"].as_str().expect("id").to_string())
        .collect()
}
