//! groundrec-kmeans with groundrec-embed, no libtorch model needed: lecture titles embedded by
//! feature hashing, clustered with spherical k-means, k chosen by silhouette.
//!
//! ```text
//! cargo run --release --example cluster_titles
//! ```

mod common;

use groundrec::embed::{Embedder, HashingEmbedder};
use groundrec::kmeans::{choose_k, KMeans, Metric};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = common::demo_catalog()?;
    let titles: Vec<&str> = catalog.items().iter().map(|i| i.title.as_str()).collect();
    let x = HashingEmbedder::new(512)?.embed(&titles)?;
    let params = KMeans::params(2).metric(Metric::Cosine).seed(1).n_init(3);
    let pick = choose_k(&x.view(), &[4, 6, 8, 10, 12], &params, 288)?;
    for s in &pick.scores {
        println!(
            "k {:>2}: inertia {:>8.2}  silhouette {:.3}",
            s.k, s.inertia, s.silhouette
        );
    }
    println!("elbow {} / silhouette {}", pick.elbow, pick.silhouette);
    let model = params.k(pick.silhouette).fit(&x.view())?;
    for c in 0..model.k() {
        let members: Vec<&str> = titles
            .iter()
            .zip(model.labels())
            .filter(|(_, &l)| l == c)
            .map(|(t, _)| *t)
            .take(4)
            .collect();
        println!("cluster {c}: {}", members.join(" | "));
    }
    Ok(())
}
