//! The store on its own: URLs, history order, catalogue changes, on both databases.

mod common;

use groundrec_server::{EventKind, NewEvent, ServerError, Store};

fn event(id: Option<&str>, user: &str, item: &str, kind: EventKind, ts: i64) -> NewEvent {
    NewEvent {
        event_id: id.map(String::from),
        user: user.into(),
        item: item.into(),
        kind,
        timestamp: ts,
        list_id: None,
    }
}

#[tokio::test]
async fn urls_name_a_supported_store_or_are_refused() {
    for url in ["mysql://x/y", "sqlite://x.db?sync=fast", "groundrec.db"] {
        let e = Store::connect(url).await;
        assert!(
            matches!(e, Err(ServerError::StoreUrl { .. })),
            "{url}: {e:?}"
        );
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?sync=normal", tmp.path().join("s.db").display());
    Store::connect(&url).await.expect("sync=normal is taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_in_time_order_without_impressions() {
    let (_g, urls) = common::store_urls().await;
    for url in urls {
        let store = Store::connect(&url).await.expect("store");
        // Arrival order differs from time order; the impression is not history.
        let batch = [
            event(Some("e3"), "u", "c", EventKind::Complete, 30),
            event(Some("e1"), "u", "a", EventKind::View, 10),
            event(None, "u", "x", EventKind::Impression, 15),
            event(Some("e2"), "u", "b", EventKind::Start, 20),
            event(Some("e1"), "u", "a", EventKind::View, 10),
            event(None, "v", "a", EventKind::Click, 5),
        ];
        let stored = store.insert_events(&batch).await.expect("insert");
        assert_eq!(stored, [true, true, true, true, false, true]);
        assert_eq!(
            store.history("u", 10).await.expect("history"),
            ["a", "b", "c"]
        );
        assert_eq!(store.history("u", 2).await.expect("history"), ["b", "c"]);
        assert!(store
            .history("nobody", 5)
            .await
            .expect("history")
            .is_empty());
        // Concurrent batches (one group commit) keep their own answers.
        let retry = [event(Some("e9"), "w", "a", EventKind::View, 1)];
        let (x, y) = tokio::join!(store.insert_events(&retry), store.insert_events(&retry));
        let mut both = [x.expect("x")[0], y.expect("y")[0]];
        both.sort();
        assert_eq!(both, [false, true], "one stored, one duplicate");
        assert_eq!(store.all_events().await.expect("all").len(), 6);

        // Catalogue changes: only each item's newest state after a seq.
        let item = |id: &str, t: &str| groundrec::Item::new(id, t, "");
        let s1 = store
            .put_items(&[item("a", "one"), item("b", "two")])
            .await
            .expect("put");
        store
            .put_items(&[item("a", "one again")])
            .await
            .expect("put");
        store.delete_item("b").await.expect("delete");
        let changes = store.item_changes_since(0).await.expect("changes");
        let seen: Vec<(&str, Option<&str>)> = changes
            .iter()
            .map(|c| {
                (
                    c.item_id.as_str(),
                    c.item.as_ref().map(|i| i.title.as_str()),
                )
            })
            .collect();
        assert_eq!(seen, [("a", Some("one again")), ("b", None)]);
        assert_eq!(
            store
                .item_changes_since(changes[1].seq)
                .await
                .expect("after")
                .len(),
            0
        );
        assert!(s1 < store.last_item_change().await.expect("last"));
    }
}
