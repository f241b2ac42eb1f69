//! The `groundrec` command: the whole file path (demo data, fit, recommend, import, export),
//! exit statuses and error messages.

use std::path::Path;
use std::process::{Command, Output};

fn groundrec(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_groundrec"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run groundrec")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn demo_data_fit_recommend_import_export() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let o = groundrec(&["demo-data", "--out", "demo", "--learners", "150"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = groundrec(
        &[
            "fit",
            "--catalog",
            "demo/catalog.jsonl",
            "--events",
            "demo/events.jsonl",
            "--out",
            "model",
            "--hashing",
            "--epochs",
            "1",
            "--new-item-slots",
            "2",
            "--quiet",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).is_empty(),
        "--quiet prints nothing: {}",
        stderr(&o)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("model/report.json")).expect("report.json"))
            .expect("JSON");
    assert!(report["holdout"].is_object(), "{report}");
    // The pipeline's SASRec defaults: on 288 lectures its loss is the full softmax.
    assert_eq!(report["loss"], "FullSoftmax", "{report}");

    let o = groundrec(
        &[
            "recommend",
            "--artifacts",
            "model",
            "--history",
            "L001,L002",
            "-n",
            "4",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(lines
        .iter()
        .all(|l| l["item"] != "L001" && l["item"] != "L002" && l["title"].is_string()));
    // --new-item-slots 2: two places go to lectures without training events, the last one
    // among them.
    let reasons: Vec<&str> = lines.iter().filter_map(|l| l["reason"].as_str()).collect();
    assert!(
        reasons.iter().filter(|r| **r == "ContentOnly").count() >= 2
            && reasons.last() == Some(&"ContentOnly"),
        "{lines:?}"
    );

    let store = format!("sqlite://{}", d.join("s.db").display());
    let o = groundrec(
        &[
            "import",
            "--store",
            &store,
            "--catalog",
            "demo/catalog.jsonl",
            "--events",
            "demo/events.jsonl",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Importing again stores the events again (they carry no ids), the catalogue is unchanged.
    let o = groundrec(
        &[
            "export",
            "--store",
            &store,
            "--catalog",
            "out/c.jsonl",
            "--events",
            "out/e.jsonl",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let count = |p: &str| {
        std::fs::read_to_string(d.join(p))
            .expect("file")
            .lines()
            .count()
    };
    assert_eq!(count("out/c.jsonl"), count("demo/catalog.jsonl"));
    assert_eq!(count("out/e.jsonl"), count("demo/events.jsonl"));
    // And a fit from the store works like one from files.
    let o = groundrec(
        &[
            "fit",
            "--store",
            &store,
            "--out",
            "model2",
            "--hashing",
            "--epochs",
            "1",
            "--quiet",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // From a store, --out is a folder of versions; the first one is promoted and served.
    let current = std::fs::read_to_string(d.join("model2/current")).expect("current");
    let version = d.join("model2/versions").join(current.trim());
    let promotion: serde_json::Value = serde_json::from_slice(
        &std::fs::read(version.join("promotion.json")).expect("promotion.json"),
    )
    .expect("JSON");
    assert_eq!(promotion["promoted"], true, "{promotion}");
    assert!(version.join("report.html").is_file());
    let o = groundrec(
        &[
            "recommend",
            "--artifacts",
            "model2",
            "--history",
            "L001",
            "-n",
            "2",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 2);
    let html = std::fs::read_to_string(d.join("model/report.html")).expect("report.html");
    assert!(html.contains("<svg") && html.contains("NDCG@10") && !html.contains("src="));
}

#[test]
fn bad_usage_is_status_2_and_bad_files_name_the_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    for args in [
        &["fit", "--out", "x", "--catalog", "c.jsonl"][..],
        &["recommend"][..],
        &["serve", "--artifacts", "m", "--listen", "not-an-address"][..],
        &["no-such-command"][..],
    ] {
        let o = groundrec(args, d);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    std::fs::write(d.join("bad.jsonl"), "{\"id\": \"a\", \"title\": \"\"}\n").expect("write");
    std::fs::write(d.join("ev.jsonl"), "").expect("write");
    let o = groundrec(
        &[
            "fit",
            "--catalog",
            "bad.jsonl",
            "--events",
            "ev.jsonl",
            "--out",
            "m",
            "--hashing",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bad.jsonl: ") && stderr(&o).contains("line 1: empty title"),
        "{}",
        stderr(&o)
    );
    let o = groundrec(
        &[
            "fit",
            "--catalog",
            "missing.jsonl",
            "--events",
            "ev.jsonl",
            "--out",
            "m",
            "--hashing",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.jsonl"), "{}", stderr(&o));
    let o = groundrec(
        &[
            "fit",
            "--catalog",
            "bad.jsonl",
            "--events",
            "ev.jsonl",
            "--out",
            "m",
            "--models",
            "nowhere",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
