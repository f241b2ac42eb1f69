//! The subcommands.

use std::io::Write;
use std::path::Path;

use groundrec::{Catalog, DemoLearners, FittedPipeline, Observer, Pipeline, RecommendOptions};
use groundrec_server::{
    now_ms, parse_row, publish, resolve_artifacts, save_fit, serve as serve_http, write_atomically,
    ServeConfig, ServerError, Service, Store,
};

use crate::progress::Progress;
use crate::{input, DemoArgs, ExportArgs, FitArgs, ImportArgs, RecommendArgs, ServeArgs};

/// Why a command failed: bad usage (exit status 2) or failed work (1).
#[derive(Debug)]
pub enum Failure {
    /// Arguments that cannot work together or name nothing.
    Usage(String),
    /// The work failed.
    Work(ServerError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) => write!(f, "{m}"),
            Failure::Work(e) => write!(f, "{e}"),
        }
    }
}

impl<E: Into<ServerError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Work(e.into())
    }
}

type Outcome = Result<(), Failure>;

fn runtime(workers: usize) -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .map_err(|e| Failure::Work(ServerError::Internal(format!("tokio runtime: {e}"))))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Failure + '_ {
    move |e| Failure::Work(ServerError::io(path, e))
}

fn write_file(path: &Path, text: &str) -> Outcome {
    Ok(write_atomically(path, text.as_bytes())?)
}

pub fn fit(a: FitArgs, quiet: bool) -> Outcome {
    if a.threads == 0 {
        return Err(Failure::Usage("--threads must be at least 1".into()));
    }
    groundrec::set_threads(a.threads)?;
    let mut sasrec = Pipeline::sasrec_defaults().seed(a.seed);
    if let Some(e) = a.epochs {
        sasrec = sasrec.epochs(e);
    }
    let mut params = Pipeline::builder()
        .sasrec(sasrec)
        .seed(a.seed)
        .fair(groundrec::FairSettings {
            new_item_slots: a.new_item_slots,
            ..groundrec::FairSettings::default()
        })
        .item_text(a.item_text);
    params = if a.hashing {
        params.hashing(256)
    } else {
        let model = a.models.join("multilingual-e5-small");
        if !model.is_dir() {
            return Err(Failure::Usage(format!(
                "{} is not a folder: run scripts/setup, pass --models DIR, or use --hashing",
                model.display()
            )));
        }
        params
            .model(model, "query: ")
            .precision(a.precision)
            .korean_dictionary(a.models.join("ko-dic"))
    };
    let (catalog, events) = match (&a.catalog, &a.events, &a.store) {
        (Some(c), Some(e), None) => {
            let catalog = input::catalog(c, quiet)?;
            let events = input::events(e, &catalog, quiet)?;
            (catalog, events)
        }
        (None, None, Some(url)) => runtime(1)?.block_on(async {
            let store = Store::connect(url).await?;
            let items = store.catalog_items().await?;
            if items.is_empty() {
                return Err(Failure::Usage(format!(
                    "the store {url} holds no catalogue: run groundrec import first"
                )));
            }
            let (catalog, _) = Catalog::from_items(items)?;
            let (events, _) = groundrec::validate_events(store.history_events().await?, &catalog)?;
            Ok((catalog, events))
        })?,
        _ => {
            return Err(Failure::Usage(
                "give --catalog and --events, or --store".into(),
            ))
        }
    };
    let progress = Progress::default();
    let observer: &dyn Observer = if quiet { &() } else { &progress };
    let (fitted, report) = params.check()?.fit_observed(&catalog, &events, observer)?;
    if a.store.is_some() {
        // A folder of versions: the new one is served only if the promotion rule allows.
        let cases = groundrec::holdout_cases(&catalog, &events)?;
        let p = publish(&a.out, &fitted, &report, &cases)?;
        if !quiet {
            eprintln!("{report}");
            let verdict = if p.promoted {
                "promoted"
            } else {
                "not promoted"
            };
            eprintln!("groundrec: version {} {verdict}: {}", p.version, p.reason);
        }
    } else {
        save_fit(&a.out, &fitted, &report)?;
        if !quiet {
            eprintln!("{report}");
            eprintln!(
                "groundrec: wrote {} (model {})",
                a.out.display(),
                fitted.model_id()
            );
        }
    }
    Ok(())
}

pub fn recommend(a: RecommendArgs) -> Outcome {
    let fitted = FittedPipeline::load(resolve_artifacts(&a.artifacts)?)?;
    let history: Vec<&str> = a
        .history
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let options = RecommendOptions::new(a.n)
        .categories(a.category)
        .languages(a.language);
    let list = match fitted.recommend(&history, &options) {
        Err(
            e @ (groundrec::GroundrecError::UnknownItem(_) | groundrec::GroundrecError::ZeroLength),
        ) => return Err(Failure::Usage(e.to_string())),
        other => other?,
    };
    let mut out = std::io::stdout().lock();
    for r in &list.items {
        let line = serde_json::to_string(r).map_err(|e| ServerError::Internal(e.to_string()))?;
        writeln!(out, "{line}").map_err(io(Path::new("stdout")))?;
    }
    if let Some(why) = list.empty {
        eprintln!("groundrec: the list is empty: {why:?}");
    }
    Ok(())
}

pub fn serve(a: ServeArgs, quiet: bool) -> Outcome {
    let token = match &a.token_file {
        None => None,
        Some(f) => {
            let t = std::fs::read_to_string(f)
                .map_err(io(f))?
                .trim()
                .to_string();
            if t.is_empty() {
                return Err(Failure::Usage(format!(
                    "{}: the token file is empty",
                    f.display()
                )));
            }
            Some(t)
        }
    };
    // Scoring is pure Rust; libtorch only embeds new items. One torch thread keeps it from
    // spinning against the request workers for the two cores.
    groundrec::set_threads(1)?;
    let mut config = ServeConfig::new(&a.artifacts);
    config.token = token;
    config.max_n = a.max_n;
    runtime(a.workers)?.block_on(async move {
        let store = Store::connect(&a.store).await?;
        let service = Service::start(store, config).await?;
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .map_err(|e| ServerError::Internal(format!("cannot listen on {}: {e}", a.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        if !quiet {
            eprintln!(
                "groundrec: serving model {} on http://{addr} (store: {})",
                service.model_id(),
                a.store
            );
        }
        if let Some(dir) = a.watch.clone() {
            tokio::spawn(watch(service.clone(), dir, quiet));
        }
        serve_http(service, listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Reloads when the manifest of the folder `dir` resolves to changes (a new version promoted,
/// or the folder rewritten).
async fn watch(service: Service, dir: std::path::PathBuf, quiet: bool) {
    let stamp = |dir: &Path| {
        resolve_artifacts(dir)
            .ok()
            .and_then(|d| std::fs::read(d.join("pipeline.json")).ok())
    };
    let mut last = stamp(&dir);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        tick.tick().await;
        let now = stamp(&dir);
        if now.is_some() && now != last {
            match service.reload(Some(dir.clone())).await {
                Ok(id) if !quiet => eprintln!("groundrec: now serving model {id}"),
                Ok(_) => {}
                Err(e) => eprintln!(
                    "groundrec: reload of {} failed, the old model keeps serving: {e}",
                    dir.display()
                ),
            }
            last = now;
        }
    }
}

pub fn import(a: ImportArgs, quiet: bool) -> Outcome {
    let catalog = input::catalog(&a.catalog, quiet)?;
    let events = match &a.events {
        Some(p) => input::events(p, &catalog, quiet)?,
        None => Vec::new(),
    };
    runtime(1)?.block_on(async {
        let store = Store::connect(&a.store).await?;
        for chunk in catalog.items().chunks(500) {
            store.put_items(chunk).await?;
        }
        let (mut stored, mut duplicate) = (0usize, 0usize);
        let now = now_ms() / 1000;
        let bar = if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::new(events.len() as u64)
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template("      events {wide_bar} {pos}/{len} {eta}") {
            bar.set_style(style);
        }
        for (c, chunk) in events.chunks(500).enumerate() {
            let mut rows = Vec::with_capacity(chunk.len());
            for (r, e) in chunk.iter().enumerate() {
                let kind = e.event_type.as_deref().unwrap_or("view");
                let v = serde_json::json!({"user": e.user, "item": e.item, "type": kind, "timestamp": e.timestamp});
                match parse_row(&v, now, |_| true) {
                    Ok(row) => rows.push(row),
                    Err(why) => {
                        let path = a.events.as_deref().unwrap_or(Path::new("events"));
                        return Err(Failure::Work(ServerError::Input {
                            path: path.display().to_string(),
                            line: None,
                            reason: format!("event {} (user {:?}, type {kind:?}): {why:?}", c * 500 + r + 1, e.user),
                        }));
                    }
                }
            }
            for s in store.insert_events(&rows).await? {
                if s {
                    stored += 1;
                } else {
                    duplicate += 1;
                }
            }
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        if !quiet {
            eprintln!(
                "groundrec: imported {} items and {stored} events ({duplicate} already there) into {}",
                catalog.len(),
                a.store
            );
        }
        Ok(())
    })
}

pub fn export(a: ExportArgs, quiet: bool) -> Outcome {
    runtime(1)?.block_on(async {
        let store = Store::connect(&a.store).await?;
        let items = store.catalog_items().await?;
        let (catalog, _) = Catalog::from_items(items)?;
        write_file(&a.catalog, &catalog.to_jsonl()?)?;
        let events = store.all_events().await?;
        let mut text = String::new();
        for e in &events {
            text.push_str(&e.to_string());
            text.push('\n');
        }
        write_file(&a.events, &text)?;
        if !quiet {
            eprintln!(
                "groundrec: wrote {} items to {} and {} events to {}",
                catalog.len(),
                a.catalog.display(),
                events.len(),
                a.events.display()
            );
        }
        Ok(())
    })
}

/// The demo catalogue, compiled into the command so that it works outside the repository.
const DEMO_CATALOG: &str = include_str!("../../../../../data/demo/catalog.jsonl");

pub fn demo_data(a: DemoArgs, quiet: bool) -> Outcome {
    let (catalog, _) = Catalog::read_jsonl(DEMO_CATALOG.as_bytes())?;
    let log = groundrec::simulate_learners(
        &catalog,
        &DemoLearners {
            learners: a.learners,
            seed: a.seed,
            ..Default::default()
        },
    );
    write_file(&a.out.join("catalog.jsonl"), DEMO_CATALOG)?;
    let mut text = String::new();
    for e in &log.events {
        let line = serde_json::to_string(e).map_err(|e| ServerError::Internal(e.to_string()))?;
        text.push_str(&line);
        text.push('\n');
    }
    write_file(&a.out.join("events.jsonl"), &text)?;
    if !quiet {
        eprintln!(
            "groundrec: wrote {} lectures and {} events of {} learners to {}",
            catalog.len(),
            log.events.len(),
            a.learners,
            a.out.display()
        );
    }
    Ok(())
}
