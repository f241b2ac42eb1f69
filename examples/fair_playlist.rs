//! groundrec-shuffle on its own: a course playlist spread by subject, and a ranked list
//! re-ranked so that no subject takes more than two of any four slots.
//!
//! ```text
//! cargo run --example fair_playlist
//! ```

use groundrec::shuffle::{metrics, spread, FairRanker, SpreadValidParams};

fn main() -> Result<(), groundrec::shuffle::ShuffleError> {
    let lectures: Vec<(&str, &str)> = [
        ("Mathematics", "Fractions"),
        ("Mathematics", "Linear equations"),
        ("Mathematics", "Probability"),
        ("Mathematics", "Derivatives"),
        ("Music", "Scales and keys"),
        ("Music", "Chords and harmony"),
        ("Cooking", "Kimchi"),
        ("Korean history", "Joseon and Hangul"),
    ]
    .into_iter()
    .collect();
    let playlist = spread(lectures.clone(), |l| l.0, SpreadValidParams::default(), 7);
    println!("spread playlist:");
    for (subject, title) in &playlist {
        println!("  {subject:<15} {title}");
    }
    println!(
        "adjacent same-subject pairs: {}",
        metrics::adjacent_same_group(&playlist, |l| l.0)
    );

    // A recommender's ranked list: the first four are all mathematics.
    let scored: Vec<((&str, &str), f64)> = lectures
        .into_iter()
        .zip([0.95, 0.93, 0.9, 0.88, 0.7, 0.6, 0.5, 0.4])
        .collect();
    let ranker = FairRanker::params().window(4, 2).check()?;
    let fair = ranker.rerank(scored, |s| s.1, |s| s.0 .0)?;
    println!("\nre-ranked (at most 2 of a subject in any 4 slots):");
    for ((subject, title), score) in &fair.items {
        println!("  {score:.2} {subject:<15} {title}");
    }
    println!("{:?}", fair.report);
    Ok(())
}
