//! The `groundrec serve` binary as separate processes: two replicas on one PostgreSQL, and a
//! kill -9 in the middle of an ingest loop.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A `groundrec serve` process on an ephemeral port; killed when dropped.
struct Replica {
    child: Child,
    base: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn replica(store: &str) -> Replica {
    replica_of(store, common::artifacts(), false)
}

fn replica_of(store: &str, artifacts: &std::path::Path, watch: bool) -> Replica {
    let mut command = Command::new(env!("CARGO_BIN_EXE_groundrec"));
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--store",
            store,
            "--artifacts",
        ])
        .arg(artifacts);
    if watch {
        command.arg("--watch").arg(artifacts);
    }
    let mut child = command
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start groundrec serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("groundrec serve exited before serving")
            .expect("stderr line");
        if let Some(rest) = line.split(" on http://").nth(1) {
            break format!("http://{}", rest.split(' ').next().expect("address"));
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Replica { child, base }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_see_each_others_events_and_items() {
    let Some(url) = common::postgres_url().await else {
        return;
    };
    let (a, b) = (replica(&url), replica(&url));
    let c = reqwest::Client::new();
    let batch = json!([
        {"user": "lee", "item": "Hi1", "type": "complete", "timestamp": 10},
        {"user": "lee", "item": "Hi2", "type": "complete", "timestamp": 20}
    ]);
    let r = c
        .post(format!("{}/v1/events", a.base))
        .json(&batch)
        .send()
        .await
        .expect("events");
    assert_eq!(r.status(), 200);
    let list = |base: String| {
        let c = c.clone();
        async move {
            let r = c
                .get(format!("{base}/v1/users/lee/recommendations?n=5"))
                .send()
                .await
                .expect("list");
            r.json::<Value>().await.expect("json")
        }
    };
    let (from_a, from_b) = (list(a.base.clone()).await, list(b.base.clone()).await);
    assert_eq!(
        from_b["fallback"], false,
        "b reads the events a stored: {from_b}"
    );
    assert_eq!(common::list_items(&from_a), common::list_items(&from_b));
    assert_ne!(from_a["list_id"], from_b["list_id"]);

    // A lecture added through a serves from b after b's next catalogue sync.
    let lecture = json!({"title": "Joseon dynasty lesson 9", "description": "Joseon dynasty: part 9",
                         "category": "History", "language": "en"});
    let r = c
        .put(format!("{}/v1/items/Hi9", a.base))
        .json(&lecture)
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 201);
    assert!(serves_item(&c, &b, "Hi9").await, "b never saw Hi9");
    let from_b = list(b.base.clone()).await;
    let from_a = list(a.base.clone()).await;
    assert_eq!(common::list_items(&from_a), common::list_items(&from_b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_ingest_loses_no_acknowledged_event() {
    let (_guard, url) = common::sqlite_url();
    let server = replica(&url);
    let c = reqwest::Client::new();
    let base = server.base.clone();
    let mut acked: Vec<String> = Vec::new();
    let loop_until = Instant::now() + Duration::from_millis(1500);
    let mut server = Some(server);
    let mut n = 0usize;
    let mut failed = 0usize;
    while failed < 3 {
        if Instant::now() > loop_until {
            if let Some(mut s) = server.take() {
                // SIGKILL: no shutdown, no flush.
                s.child.kill().expect("kill -9");
                let _ = s.child.wait();
            }
        }
        let ids: Vec<String> = (0..50).map(|i| format!("k{n}-{i}")).collect();
        n += 1;
        let batch: Vec<Value> = ids
            .iter()
            .map(|id| json!({"event_id": id, "user": format!("u{}", n % 7), "item": "Pr1", "type": "view"}))
            .collect();
        match c
            .post(format!("{base}/v1/events"))
            .json(&batch)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => acked.extend(ids),
            Ok(r) => panic!("a live server refused a valid batch: {}", r.status()),
            Err(_) => failed += 1,
        }
    }
    assert!(
        acked.len() >= 500,
        "the loop ran against the live server: {}",
        acked.len()
    );
    // Restart on the same file: every acknowledged event is there.
    let restarted = replica(&url);
    let r = c
        .get(format!("{}/readyz", restarted.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), 200);
    let store = groundrec_server::Store::connect(&url).await.expect("store");
    let stored: std::collections::HashSet<String> = store
        .all_events()
        .await
        .expect("events")
        .iter()
        .filter_map(|e| e["event_id"].as_str().map(String::from))
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
}

/// Versions `a` (as fitted) and `b` (one item more) under a folder of versions, `a` current.
fn two_versions(root: &std::path::Path) {
    let fitted = groundrec::FittedPipeline::load(common::artifacts()).expect("load");
    fitted.save(root.join("versions/a")).expect("save a");
    let mut b = fitted.clone();
    b.upsert_items(&[groundrec::Item::new(
        "Zz1",
        "Rust ownership lesson 9",
        "borrowing",
    )])
    .expect("upsert");
    b.save(root.join("versions/b")).expect("save b");
    groundrec_server::write_atomically(&root.join("current"), b"a\n").expect("current");
}

/// Waits until the replica serves `item`, 15 s at most.
async fn serves_item(c: &reqwest::Client, server: &Replica, item: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = c
            .get(format!("{}/v1/items/{item}", server.base))
            .send()
            .await
            .expect("get");
        if r.status() == 200 {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_watch_and_sighup_pick_up_a_newly_promoted_version() {
    let (guard, url) = common::sqlite_url();
    let c = reqwest::Client::new();
    for watch in [true, false] {
        let root = guard.path().join(format!("versions-{watch}"));
        two_versions(&root);
        let server = replica_of(&url, &root, watch);
        let r = c
            .get(format!("{}/v1/items/Zz1", server.base))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 404, "version a has no Zz1");
        groundrec_server::write_atomically(&root.join("current"), b"b\n").expect("promote b");
        if !watch {
            let hup = Command::new("kill")
                .args(["-HUP", &server.child.id().to_string()])
                .status()
                .expect("kill -HUP");
            assert!(hup.success());
        }
        assert!(
            serves_item(&c, &server, "Zz1").await,
            "watch {watch}: version b was not picked up"
        );
    }
}
