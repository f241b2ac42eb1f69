//! The HTTP API against real servers on ephemeral ports, on SQLite and on PostgreSQL.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};

const TOKEN: &str = "t0ken";

async fn events(c: &reqwest::Client, base: &str, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(format!("{base}/v1/events"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect("send");
    (r.status(), r.json().await.expect("JSON answer"))
}

async fn get(c: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let r = c.get(url).send().await.expect("send");
    (r.status(), r.json().await.expect("JSON answer"))
}

/// POSTs `body` over a plain TCP connection, writing and reading at once, and returns the
/// status and JSON body of the answer (which may come before the upload ends).
async fn raw_post(base: &str, path: &str, body: &[u8]) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let body = body.to_vec();
    let writer = tokio::spawn(async move {
        // The server may stop reading early; a broken pipe here is expected.
        let _ = wr.write_all(head.as_bytes()).await;
        let _ = wr.write_all(&body).await;
    });
    let mut answer = Vec::new();
    let _ = rd.read_to_end(&mut answer).await;
    writer.abort();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let json = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_count_at_once_and_retries_are_idempotent() {
    let (_g, urls) = common::store_urls().await;
    for url in urls {
        let mut config = common::config();
        config.token = Some(TOKEN.into());
        let s = common::start(&url, config).await;
        let c = reqwest::Client::new();
        let b = &s.base;

        // No history: popular items, marked as a fallback.
        let (st, cold) = get(&c, format!("{b}/v1/users/ana/recommendations?n=4")).await;
        assert_eq!(st, StatusCode::OK, "{cold}");
        assert_eq!(cold["fallback"], true);
        assert_eq!(common::list_items(&cold).len(), 4);

        // Three events, one retried and one on an unknown item.
        let batch = json!([
            {"event_id": "a-1", "user": "ana", "item": "Ma1", "type": "complete", "timestamp": 100},
            {"event_id": "a-2", "user": "ana", "item": "Ma2", "type": "complete", "timestamp": 200},
            {"event_id": "a-1", "user": "ana", "item": "Ma1", "type": "complete", "timestamp": 100},
            {"user": "ana", "item": "Zz9", "type": "view"},
            {"user": "ana", "item": "Ma3", "type": "impression", "list_id": cold["list_id"]}
        ]);
        let (st, answer) = events(&c, b, batch.clone()).await;
        assert_eq!(st, StatusCode::OK, "{answer}");
        let statuses: Vec<&str> = answer["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["status"].as_str().expect("status"))
            .collect();
        assert_eq!(
            statuses,
            ["stored", "stored", "duplicate", "rejected", "stored"]
        );
        assert_eq!(answer["results"][3]["code"], "unknown_item");
        // The same batch again: the rows with ids are duplicates, the others are new events.
        let (_, again) = events(&c, b, batch).await;
        assert_eq!(
            (again["stored"].as_u64(), again["duplicate"].as_u64()),
            (Some(1), Some(3))
        );
        let stored = s.service.store().all_events().await.expect("events");
        assert_eq!(stored.len(), 4, "{stored:?}");

        // The history is read at request time: a personal list, without what ana did.
        let (st, warm) = get(
            &c,
            format!("{b}/v1/users/ana/recommendations?n=4&category=Mathematics"),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{warm}");
        assert_eq!(warm["fallback"], false);
        let warm_ids = common::list_items(&warm);
        assert!(
            warm_ids
                .iter()
                .all(|i| i.starts_with("Ma") && i != "Ma1" && i != "Ma2"),
            "{warm_ids:?}"
        );
        assert!(warm["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["reason"] == "Model"));

        // Lists are logged for the online hit rate; a click on a listed item is a hit.
        let list_id = warm["list_id"].as_str().expect("list id").to_string();
        let mut logged = std::collections::HashMap::new();
        for _ in 0..50 {
            logged = s
                .service
                .store()
                .lists_by_id(std::slice::from_ref(&list_id))
                .await
                .expect("lists");
            if !logged.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let list = logged.get(&list_id).expect("the served list is logged");
        assert_eq!(list.items, warm_ids);
        assert_eq!(list.user.as_deref(), Some("ana"));
        let click =
            json!([{"user": "ana", "item": warm_ids[0], "type": "click", "list_id": list_id}]);
        assert_eq!(events(&c, b, click.clone()).await.0, StatusCode::OK);
        // A list is hit once however many events engage with it.
        assert_eq!(events(&c, b, click).await.0, StatusCode::OK);
        // Without a list_id: the user's latest list holding the item, within the window.
        let (_, other) = get(
            &c,
            format!("{b}/v1/users/ana/recommendations?n=3&category=Music"),
        )
        .await;
        let first = common::list_items(&other)[0].clone();
        let engaged = json!([{"user": "ana", "item": first, "type": "start"}]);
        assert_eq!(events(&c, b, engaged).await.0, StatusCode::OK);
        // Hits are marked off the request path: wait for them (5 s at most).
        let model = s.service.model_id();
        let want = format!("groundrec_list_hits_total{{model=\"{model}\"}} 2");
        let mut metrics = String::new();
        for _ in 0..100 {
            let r = c.get(format!("{b}/metrics")).send().await.expect("metrics");
            metrics = r.text().await.expect("text");
            if metrics.contains(&want) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(metrics.contains(&want), "{metrics}");
        assert!(
            metrics.contains("groundrec_events_total{outcome=\"stored\"} 7"),
            "{metrics}"
        );
        let hit = s.service.store().recent_lists(10).await.expect("lists");
        assert_eq!(hit.len(), 3);

        // The dashboard: one page, no external asset, axis values, the catalogue's Korean.
        let r = c
            .get(format!("{b}/dashboard"))
            .send()
            .await
            .expect("dashboard");
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html"));
        let html = r.text().await.expect("html");
        assert_eq!(html.matches("<svg").count(), 4, "{html}");
        assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("@import"));
        assert!(
            html.contains("Noto Sans CJK KR")
                && html.contains(">0<")
                && html.contains("time (UTC)")
        );
        assert!(
            html.contains("분수") || html.contains("조선") || html.contains("음계"),
            "{html}"
        );
        let (st, v) = get(&c, format!("{b}/dashboard?minutes=5")).await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_minutes")
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_changes_are_served_at_once_and_survive_a_restart() {
    let (_g, urls) = common::store_urls().await;
    for url in urls {
        let s = common::start(&url, common::config()).await;
        let c = reqwest::Client::new();
        let b = s.base.clone();
        let lecture = json!({"title": "Fractions lesson 9", "description": "Fractions: part 9 of the course",
                             "category": "Mathematics", "language": "en"});
        let r = c
            .put(format!("{b}/v1/items/Ma9"))
            .json(&lecture)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["item"]["id"], "Ma9");
        let r = c
            .put(format!("{b}/v1/items/Ma9"))
            .json(&lecture)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), StatusCode::OK, "a second PUT updates");

        // Recommendable without retraining, by its content.
        let (_, list) = get(
            &c,
            format!("{b}/v1/users/nobody/recommendations?n=20&category=Mathematics"),
        )
        .await;
        assert!(
            common::list_items(&list).contains(&"Ma9".to_string()),
            "{list}"
        );
        let r = c
            .delete(format!("{b}/v1/items/Ma3"))
            .send()
            .await
            .expect("delete");
        assert_eq!(r.status(), StatusCode::OK);
        let (_, list) = get(
            &c,
            format!("{b}/v1/users/nobody/recommendations?n=20&category=Mathematics"),
        )
        .await;
        assert!(
            !common::list_items(&list).contains(&"Ma3".to_string()),
            "{list}"
        );
        s.stop().await;

        // A new server over the same store and the same (old) artifacts serves the changes.
        let s = common::start(&url, common::config()).await;
        let (_, list) = get(
            &c,
            format!(
                "{}/v1/users/nobody/recommendations?n=20&category=Mathematics",
                s.base
            ),
        )
        .await;
        let listed = common::list_items(&list);
        assert!(
            listed.contains(&"Ma9".to_string()) && !listed.contains(&"Ma3".to_string()),
            "{listed:?}"
        );
        let (st, item) = get(&c, format!("{}/v1/items/Ma3", s.base)).await;
        assert_eq!((st, &item["retired"]), (StatusCode::OK, &json!(true)));
        let (st, near) = get(&c, format!("{}/v1/items/Ma9/similar?n=3", s.base)).await;
        assert_eq!(st, StatusCode::OK, "{near}");
        assert_eq!(common::list_items(&near).len(), 3);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_4xx_and_nothing_is_stored() {
    let (_g, urls) = common::store_urls().await;
    for url in urls {
        let mut config = common::config();
        config.token = Some(TOKEN.into());
        let s = common::start(&url, config).await;
        let c = reqwest::Client::new();
        let b = &s.base;
        let post = |body: Vec<u8>, token: Option<&str>| {
            let mut r = c
                .post(format!("{b}/v1/events"))
                .body(body)
                .header("content-type", "application/json");
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send()
        };
        let cases: Vec<(Vec<u8>, Option<&str>, StatusCode, &str)> = vec![
            (
                b"[{\"user\": \"u\"".to_vec(),
                Some(TOKEN),
                StatusCode::BAD_REQUEST,
                "malformed_json",
            ),
            (
                b"{\"user\": 1}".to_vec(),
                Some(TOKEN),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_batch",
            ),
            (
                b"[]".to_vec(),
                Some(TOKEN),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_batch",
            ),
            (
                br#"[{"user": ["u"], "item": "Ma1", "type": "view"}]"#.to_vec(),
                Some(TOKEN),
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_valid_events",
            ),
            (
                br#"[{"user": "u", "item": "nope", "type": "view"}]"#.to_vec(),
                Some(TOKEN),
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_valid_events",
            ),
            (
                br#"[{"user": "u", "item": "Ma1", "type": "view"}]"#.to_vec(),
                None,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                br#"[{"user": "u", "item": "Ma1", "type": "view"}]"#.to_vec(),
                Some("wrong"),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
        ];
        for (body, token, status, expected) in cases {
            let r = post(body, token).await.expect("send");
            assert_eq!(r.status(), status);
            let v: Value = r.json().await.expect("JSON error");
            assert_eq!(code(&v), expected, "{v}");
        }
        // 10 MB: answered before the upload ends (hyper's client stops at the broken pipe, so
        // this one is sent by hand).
        let (st, v) = raw_post(b, "/v1/events", &vec![b'['; 10 << 20]).await;
        assert_eq!((st, code(&v)), (413, "body_too_large"), "{v}");
        assert!(s
            .service
            .store()
            .all_events()
            .await
            .expect("events")
            .is_empty());

        // SQL metacharacters are data: stored and read back as they are.
        let odd = "u'; DROP TABLE events; --";
        let (st, _) = events(&c, b, json!([{"user": odd, "item": "Ma1", "type": "view"}])).await;
        assert_eq!(st, StatusCode::OK);
        let user = odd
            .replace(' ', "%20")
            .replace(';', "%3B")
            .replace('\'', "%27");
        let (st, list) = get(&c, format!("{b}/v1/users/{user}/recommendations?n=3")).await;
        assert_eq!(
            (st, &list["fallback"]),
            (StatusCode::OK, &json!(false)),
            "{list}"
        );
        assert_eq!(
            s.service.store().history(odd, 10).await.expect("history"),
            ["Ma1"]
        );

        // Lists: n out of range, unknown filters and items, unknown parameters.
        for (query, status, expected) in [
            ("n=1000000", StatusCode::UNPROCESSABLE_ENTITY, "invalid_n"),
            ("n=0", StatusCode::UNPROCESSABLE_ENTITY, "invalid_n"),
            ("n=ten", StatusCode::UNPROCESSABLE_ENTITY, "invalid_n"),
            (
                "category=Cooking",
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_filter",
            ),
            (
                "exclude=nope",
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_item",
            ),
            (
                "sort=asc",
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_parameter",
            ),
        ] {
            let (st, v) = get(&c, format!("{b}/v1/users/u/recommendations?{query}")).await;
            assert_eq!((st, code(&v)), (status, expected), "{query}: {v}");
        }
        let r = c
            .post(format!("{b}/v1/recommendations"))
            .json(&json!({"history": ["nope"]}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = c
            .post(format!("{b}/v1/recommendations"))
            .json(&json!({"history": "Ma1"}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let (st, v) = get(&c, format!("{b}/v1/items/nope/similar")).await;
        assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "unknown_item"));
        // Items: no title, a body id that is not the path's, unknown deletes; nothing stored.
        for (body, status) in [
            (json!({"title": ""}), StatusCode::UNPROCESSABLE_ENTITY),
            (
                json!({"id": "Ma7", "title": "x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (json!(["x"]), StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let r = c
                .put(format!("{b}/v1/items/New1"))
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .expect("put");
            assert_eq!(r.status(), status, "{body}");
        }
        let r = c
            .delete(format!("{b}/v1/items/nope"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("delete");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            s.service.store().last_item_change().await.expect("changes"),
            0
        );
        // Still serving.
        let (st, _) = get(&c, format!("{b}/readyz")).await;
        assert_eq!(st, StatusCode::OK);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_fails_leaves_the_old_model_serving() {
    let (guard, url) = common::sqlite_url();
    let s = common::start(&url, common::config()).await;
    let c = reqwest::Client::new();
    let b = &s.base;
    let before = s.service.model_id();
    // A truncated copy of the artifacts: one file cut short.
    let broken = guard.path().join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    for entry in std::fs::read_dir(common::artifacts()).expect("artifacts") {
        let p = entry.expect("entry").path();
        let bytes = std::fs::read(&p).expect("read");
        let keep = if p.ends_with("sasrec.safetensors") {
            bytes.len() / 2
        } else {
            bytes.len()
        };
        std::fs::write(broken.join(p.file_name().expect("name")), &bytes[..keep]).expect("write");
    }
    let r = c
        .post(format!("{b}/v1/admin/reload"))
        .json(&json!({"artifacts": broken}))
        .send()
        .await
        .expect("reload");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.expect("json");
    assert_eq!(code(&v), "reload_failed", "{v}");
    assert_eq!(s.service.model_id(), before);
    let (st, list) = get(&c, format!("{b}/v1/users/x/recommendations?n=2")).await;
    assert_eq!(
        (st, list["model"].as_str()),
        (StatusCode::OK, Some(before.as_str()))
    );
    // A good folder swaps in.
    let r = c
        .post(format!("{b}/v1/admin/reload"))
        .send()
        .await
        .expect("reload");
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_openapi_document_is_served() {
    let (_guard, url) = common::sqlite_url();
    let s = common::start(&url, common::config()).await;
    let c = reqwest::Client::new();
    let (st, doc) = get(&c, format!("{}/v1/openapi.json", s.base)).await;
    assert_eq!(st, StatusCode::OK);
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 10);
    for (path, methods) in paths {
        let concrete = path.replace("{user}", "u").replace("{id}", "Ma1");
        for method in methods.as_object().expect("methods").keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = c
                .request(m, format!("{}{concrete}", s.base))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("send");
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            assert!(
                !body.contains("\"no such route\"") && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status} {body}"
            );
        }
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_load_answer_every_request() {
    let (_guard, url) = common::sqlite_url();
    let s = common::start(&url, common::config()).await;
    let c = reqwest::Client::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for k in 0..4 {
        let (c, base, stop) = (c.clone(), s.base.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = c
                    .get(format!("{base}/v1/users/u{k}-{i}/recommendations?n=5"))
                    .send()
                    .await
                    .expect("send");
                statuses.push(r.status());
                i += 1;
            }
            statuses
        }));
    }
    for _ in 0..5 {
        let r = c
            .post(format!("{}/v1/admin/reload", s.base))
            .send()
            .await
            .expect("reload");
        assert_eq!(r.status(), StatusCode::OK);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut n = 0;
    for client in clients {
        let statuses = client.await.expect("client");
        n += statuses.len();
        assert!(statuses.iter().all(|s| s.is_success()), "{statuses:?}");
    }
    assert!(n >= 20, "the clients ran during the reloads: {n} requests");
    s.stop().await;
}
