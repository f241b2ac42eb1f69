//! Artifact folders under stress: loads during saves see one whole save or an error, saves
//! refuse to destroy what is not a pipeline, concurrent saves take turns, every byte of every
//! file is checked.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use common::fit;
use groundrec::{FittedPipeline, GroundrecError, Item, RecommendOptions};

/// The shared fit, and a second pipeline that differs in every file but k-means: an item
/// added, one retired.
fn two_pipelines() -> (FittedPipeline, FittedPipeline) {
    let a = fit().fitted.clone();
    let mut b = a.clone();
    b.upsert_items(&[Item::new(
        "L999",
        "Fractions in recipes",
        "Scaling a recipe with fractions.",
    )])
    .expect("adds");
    b.retire("L001").expect("retires");
    (a, b)
}

fn same(x: &FittedPipeline, y: &FittedPipeline) -> bool {
    x.catalog() == y.catalog()
        && x.embeddings() == y.embeddings()
        && x.clusters() == y.clusters()
        && x.keywords() == y.keywords()
        && x.recommender() == y.recommender()
        && x.config() == y.config()
        && (0..x.catalog().len()).all(|p| {
            let id = &x.catalog().items()[p].id;
            x.is_retired(id) == y.is_retired(id)
        })
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect()
}

#[test]
fn loads_during_saves_see_one_whole_save_or_an_error() {
    let (a, b) = two_pipelines();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pipeline");
    a.save(&path).expect("first save");
    let stop = AtomicBool::new(false);
    let (mut ok_a, mut ok_b, mut mixed, mut errors) = (0, 0, 0, 0);
    let saves = std::thread::scope(|s| {
        let saver = s.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let p = if n % 2 == 0 { &b } else { &a };
                p.save(&path).expect("saves");
                n += 1;
            }
            n
        });
        for _ in 0..400 {
            match FittedPipeline::load(&path) {
                Ok(p) if same(&p, &a) => ok_a += 1,
                Ok(p) if same(&p, &b) => ok_b += 1,
                Ok(_) => mixed += 1,
                Err(GroundrecError::Artifact { .. }) => errors += 1,
                Err(e) => panic!("unexpected error {e}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
        saver.join().expect("saver")
    });
    eprintln!("400 loads during {saves} saves: {ok_a} A, {ok_b} B, {mixed} mixed, {errors} errors");
    assert_eq!(mixed, 0, "a load returned parts of two saves");
    assert!(saves >= 10, "the saver ran ({saves} saves)");
    assert!(ok_a + ok_b >= 380, "{errors} of 400 loads failed");
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn saves_replace_only_pipelines() {
    let (a, _) = two_pipelines();
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = |p: &Path| matches!(a.save(p), Err(GroundrecError::WouldOverwrite { .. }));

    // A project folder.
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("src")).expect("mkdir");
    std::fs::write(project.join("notes.txt"), "keep me").expect("write");
    std::fs::write(project.join("src/main.rs"), "fn main() {}").expect("write");
    assert!(refused(&project));
    assert_eq!(
        std::fs::read_to_string(project.join("notes.txt")).expect("kept"),
        "keep me"
    );
    assert!(project.join("src/main.rs").is_file());
    // A regular file and a symbolic link.
    let file = dir.path().join("model.bin");
    std::fs::write(&file, "bytes").expect("write");
    assert!(refused(&file));
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), "bytes");
    #[cfg(unix)]
    {
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&project, &link).expect("symlink");
        assert!(refused(&link));
        assert!(project.join("notes.txt").is_file());
    }
    // A pipeline folder with something else put in it.
    let pipeline = dir.path().join("pipeline");
    a.save(&pipeline).expect("a new folder");
    a.save(&pipeline).expect("over a pipeline");
    std::fs::write(pipeline.join("README.txt"), "mine").expect("write");
    assert!(refused(&pipeline));
    assert!(pipeline.join("README.txt").is_file());
    std::fs::remove_file(pipeline.join("README.txt")).expect("rm");
    // An empty folder is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    a.save(&empty).expect("into an empty folder");
    FittedPipeline::load(&empty).expect("loads");
    // Paths that name no folder; nothing is left behind.
    for p in [".", "..", "/"] {
        assert!(refused(Path::new(p)), "{p}");
    }
    assert!(leftovers(dir.path()).is_empty());
    assert!(leftovers(Path::new(".")).is_empty());
}

#[test]
fn concurrent_saves_to_one_path_take_turns() {
    let (a, b) = two_pipelines();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pipeline");
    std::thread::scope(|s| {
        let t1 = s.spawn(|| (0..30).map(|_| a.save(&path)).collect::<Vec<_>>());
        let t2 = s.spawn(|| (0..30).map(|_| b.save(&path)).collect::<Vec<_>>());
        for r in t1
            .join()
            .expect("t1")
            .into_iter()
            .chain(t2.join().expect("t2"))
        {
            r.expect("every save succeeds");
        }
    });
    let loaded = FittedPipeline::load(&path).expect("loads");
    assert!(same(&loaded, &a) || same(&loaded, &b));
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn every_byte_of_every_file_is_checked() {
    let (a, _) = two_pipelines();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pipeline");
    a.save(&path).expect("saves");
    let names: Vec<String> = std::fs::read_dir(&path)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 7, "{names:?}");
    let damaged = || {
        matches!(
            FittedPipeline::load(&path),
            Err(GroundrecError::Artifact { .. })
        )
    };
    for name in &names {
        let file = path.join(name);
        let bytes = std::fs::read(&file).expect("read");
        // One changed byte in the middle (a digit of a centroid, a label, a flag...).
        let mut b = bytes.clone();
        let at = b.len() / 2;
        b[at] = if b[at] == b'1' { b'2' } else { b'1' };
        std::fs::write(&file, &b).expect("write");
        assert!(damaged(), "{name}: one byte changed");
        std::fs::write(&file, &bytes[..bytes.len() - 1]).expect("write");
        assert!(damaged(), "{name}: truncated");
        std::fs::remove_file(&file).expect("rm");
        assert!(damaged(), "{name}: missing");
        std::fs::write(&file, &bytes).expect("restore");
    }
    // Every single-digit edit of the description files is caught, not only the middle one.
    for name in ["config.json", "kmeans.json"] {
        let file = path.join(name);
        let bytes = std::fs::read(&file).expect("read");
        for at in (0..bytes.len())
            .filter(|&i| bytes[i].is_ascii_digit())
            .step_by(97)
        {
            let mut b = bytes.clone();
            b[at] = if b[at] == b'9' { b'8' } else { b[at] + 1 };
            std::fs::write(&file, &b).expect("write");
            assert!(damaged(), "{name}: digit at {at}");
        }
        std::fs::write(&file, &bytes).expect("restore");
    }
    let loaded = FittedPipeline::load(&path).expect("whole again");
    let o = RecommendOptions::new(5);
    assert_eq!(
        loaded.recommend(&["L002"], &o).expect("ok"),
        a.recommend(&["L002"], &o).expect("ok")
    );
    // Another format version says what it is.
    let manifest = path.join("pipeline.json");
    let text = std::fs::read_to_string(&manifest).expect("read");
    std::fs::write(&manifest, text.replace("\"version\":2", "\"version\":1")).expect("write");
    match FittedPipeline::load(&path) {
        Err(GroundrecError::Artifact { reason, .. }) => {
            assert!(reason.contains("version 1"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        FittedPipeline::load(dir.path().join("nothing-here")),
        Err(GroundrecError::Artifact { .. })
    ));
}

#[test]
fn files_saved_beside_the_pipeline_are_checked_and_replaced_with_it() {
    let (a, b) = two_pipelines();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("model");
    let report = b"{\"hr\": 0.5}".to_vec();
    a.save_with_files(&dir, &[("report.json", report.clone())])
        .expect("save with a report");
    assert_eq!(
        std::fs::read(dir.join("report.json")).expect("read"),
        report
    );
    assert!(same(&FittedPipeline::load(&dir).expect("load"), &a));
    // A later save replaces the folder, the file included: it was part of the last save.
    b.save(&dir).expect("replaces");
    assert!(!dir.join("report.json").exists());
    assert!(same(&FittedPipeline::load(&dir).expect("load"), &b));
    // A reserved or unsafe name is refused before anything is written.
    for name in ["config.json", "../x", ".hidden", ""] {
        let e = a.save_with_files(&dir, &[(name, vec![1])]);
        assert!(
            matches!(e, Err(GroundrecError::WouldOverwrite { .. })),
            "{name:?}"
        );
    }
    assert!(same(&FittedPipeline::load(&dir).expect("load"), &b));
    // The extra file is checked like the others.
    a.save_with_files(&dir, &[("report.json", report)])
        .expect("save");
    std::fs::write(dir.join("report.json"), b"{}").expect("alter");
    assert!(matches!(
        FittedPipeline::load(&dir),
        Err(GroundrecError::Artifact { .. })
    ));
}
