//! `groundrec`: fit, query and serve personalised lists without writing Rust.
//!
//! ```text
//! groundrec demo-data --out demo                       # a catalogue and simulated learners
//! groundrec fit --catalog demo/catalog.jsonl --events demo/events.jsonl --out model --hashing
//! groundrec recommend --artifacts model --history L001,L002 -n 5
//! groundrec import --store sqlite://groundrec.db --catalog demo/catalog.jsonl --events demo/events.jsonl
//! groundrec serve --artifacts model --store sqlite://groundrec.db --listen 127.0.0.1:8080
//! ```
//!
//! Exit status: 0 on success, 1 when the work failed (the message names the file, and the
//! line where one is at fault), 2 for bad usage.

mod commands;
mod input;
mod progress;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Content personalisation from the ground up: fit, query and serve.
#[derive(Debug, Parser)]
#[command(name = "groundrec", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bars or notes on stderr (errors are still printed).
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fit the pipeline and write an artifact folder with report.json.
    Fit(FitArgs),
    /// Print a list for a history, one JSON object per line.
    Recommend(RecommendArgs),
    /// Serve the HTTP API.
    Serve(ServeArgs),
    /// Copy a catalogue (and events) into a store.
    Import(ImportArgs),
    /// Write a store's catalogue and events as JSONL files.
    Export(ExportArgs),
    /// Write the demo catalogue and simulated learners' events as files.
    DemoData(DemoArgs),
}

/// Where a fit reads from and how it embeds.
#[derive(Debug, Args)]
struct FitArgs {
    /// Catalogue, JSONL (one item a line: id, title, description, language, category).
    #[arg(long, requires = "events", conflicts_with = "store")]
    catalog: Option<PathBuf>,
    /// Events, JSONL or CSV (user, item, timestamp, event_type).
    #[arg(long, requires = "catalog", conflicts_with = "store")]
    events: Option<PathBuf>,
    /// Train on a store's catalogue and events instead of files.
    #[arg(long, required_unless_present = "catalog")]
    store: Option<String>,
    /// Artifact folder to write (created; an existing artifact folder is replaced whole).
    #[arg(long)]
    out: PathBuf,
    /// Folder holding multilingual-e5-small and ko-dic (what scripts/setup fills).
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// Feature hashing instead of a transformer model: fast, no model files, lower quality.
    #[arg(long)]
    hashing: bool,
    /// The encoder's precision: auto (the fastest of int8 and bf16 that this CPU runs and
    /// that passes the quality gate, timed at load, else f32), f32, int8 or bf16. The
    /// report's embedder line says which ran.
    #[arg(long, default_value = "auto")]
    precision: groundrec::embed::Precision,
    /// What of each lecture is embedded for its clusters and content features:
    /// title-keywords (the title and its keywords), title-description, keywords, or
    /// keyword-mean (the mean of the keyword phrases' vectors: no second encoder pass, the
    /// fastest fit of a large catalogue).
    #[arg(long, default_value = "title-keywords")]
    item_text: groundrec::ItemText,
    /// SASRec training epochs (the pipeline's default, 60 with early stopping, when not given).
    #[arg(long)]
    epochs: Option<usize>,
    /// Slots at the end of every list kept for new lectures (no events in the training data,
    /// or added to the catalogue since), ranked by their content; 0 turns the rule off.
    #[arg(long, default_value_t = 0)]
    new_item_slots: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Threads for training and embedding.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

/// What to list.
#[derive(Debug, Args)]
struct RecommendArgs {
    /// Artifact folder written by `groundrec fit`.
    #[arg(long)]
    artifacts: PathBuf,
    /// The learner's items, oldest first, comma-separated (empty: popular items).
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    history: Vec<String>,
    /// List length.
    #[arg(short, long, default_value_t = 10)]
    n: usize,
    /// Only these categories (repeat or comma-separate).
    #[arg(long, value_delimiter = ',')]
    category: Vec<String>,
    /// Only items in these languages.
    #[arg(long, value_delimiter = ',')]
    language: Vec<String>,
}

/// How to serve.
#[derive(Debug, Args)]
struct ServeArgs {
    /// Artifact folder, or a folder of versions with a `current` file.
    #[arg(long)]
    artifacts: PathBuf,
    /// sqlite://PATH (created when missing) or postgres://USER@HOST/DB.
    #[arg(long, default_value = "sqlite://groundrec.db")]
    store: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// File holding the bearer token that write and admin routes need.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Reload when the artifact folder under this path changes (a new promoted version).
    #[arg(long)]
    watch: Option<PathBuf>,
    /// Longest list a request may ask for.
    #[arg(long, default_value_t = 100)]
    max_n: usize,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

/// What to import.
#[derive(Debug, Args)]
struct ImportArgs {
    /// sqlite://PATH or postgres://...
    #[arg(long)]
    store: String,
    /// Catalogue, JSONL.
    #[arg(long)]
    catalog: PathBuf,
    /// Events, JSONL or CSV.
    #[arg(long)]
    events: Option<PathBuf>,
}

/// What to export.
#[derive(Debug, Args)]
struct ExportArgs {
    /// sqlite://PATH or postgres://...
    #[arg(long)]
    store: String,
    /// Catalogue file to write (JSONL).
    #[arg(long)]
    catalog: PathBuf,
    /// Events file to write (JSONL, every stored event in arrival order).
    #[arg(long)]
    events: PathBuf,
}

/// The demo data.
#[derive(Debug, Args)]
struct DemoArgs {
    /// Folder to write catalog.jsonl and events.jsonl into.
    #[arg(long)]
    out: PathBuf,
    /// Simulated learners.
    #[arg(long, default_value_t = 800)]
    learners: usize,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn main() {
    let cli = Cli::parse();
    let quiet = cli.quiet;
    let outcome = match cli.command {
        Command::Fit(a) => commands::fit(a, quiet),
        Command::Recommend(a) => commands::recommend(a),
        Command::Serve(a) => commands::serve(a, quiet),
        Command::Import(a) => commands::import(a, quiet),
        Command::Export(a) => commands::export(a, quiet),
        Command::DemoData(a) => commands::demo_data(a, quiet),
    };
    if let Err(e) = outcome {
        eprintln!("groundrec: error: {e}");
        let usage = matches!(e, commands::Failure::Usage(_));
        std::process::exit(if usage { 2 } else { 1 });
    }
}
