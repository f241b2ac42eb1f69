//! The catalogue: items with text metadata, validated with a report of every dropped row.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::BufRead;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{GroundrecError, Result};

/// One catalogue item (a lecture). Unknown JSON fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Unique id (a JSON string, or an integer, which is read as its decimal text).
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Title (required, non-empty).
    #[serde(default, deserialize_with = "text_or_null")]
    pub title: String,
    /// Description (may be empty or `null`).
    #[serde(default, deserialize_with = "text_or_null")]
    pub description: String,
    /// Language tag, e.g. "ko", "en", "ko+en" (an item in both languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Category or subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Teacher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher: Option<String>,
    /// Any other fields of the input row.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// An id given as a string or as an integer (the events reader takes both, so does this).
fn id_text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "id must be a string or an integer, got {other}"
        ))),
    }
}

/// Text where `null` means empty.
fn text_or_null<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

impl Item {
    /// An item with a title and description only.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            description: description.into(),
            language: None,
            category: None,
            teacher: None,
            extra: BTreeMap::new(),
        }
    }

    /// The same item with a category.
    pub fn with_category(mut self, category: impl Into<String>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// The same item with a language tag.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Whether the item is in `language`: its tag, split at `+` and `,`, names it (so a
    /// `"ko+en"` item is in both `"ko"` and `"en"`); case does not matter.
    pub fn in_language(&self, language: &str) -> bool {
        self.languages().any(|l| l.eq_ignore_ascii_case(language))
    }

    /// The languages of its tag (see [`Item::in_language`]).
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.language
            .as_deref()
            .unwrap_or("")
            .split(['+', ','])
            .map(str::trim)
            .filter(|l| !l.is_empty())
    }

    /// Why the item cannot enter a catalogue, if it cannot.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        if self.id.trim().is_empty() {
            Some("empty id")
        } else if self.title.trim().is_empty() {
            Some("empty title")
        } else {
            None
        }
    }
}

/// A validated catalogue: unique, non-empty ids and titles, in input order. An item's
/// position is its index everywhere in the pipeline. It serialises as the list of its items;
/// reading one back checks it again (any invalid or repeated item is an error).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<Item>", into = "Vec<Item>")]
pub struct Catalog {
    items: Vec<Item>,
    index: HashMap<String, usize>,
}

impl TryFrom<Vec<Item>> for Catalog {
    type Error = String;

    fn try_from(items: Vec<Item>) -> std::result::Result<Self, String> {
        let mut cat = Catalog::default();
        for item in items {
            cat.admit(item)?;
        }
        Ok(cat)
    }
}

impl From<Catalog> for Vec<Item> {
    fn from(c: Catalog) -> Self {
        c.items
    }
}

/// A dropped input row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// 1-based line number (for rows given in memory, their 1-based position).
    pub line: usize,
    /// Why it was dropped.
    pub reason: String,
}

/// What reading and validating did: rows read, kept, and every dropped row with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DataReport {
    /// Rows read (blank lines and a CSV header excluded).
    pub rows: usize,
    /// Rows kept.
    pub kept: usize,
    /// Dropped rows.
    pub dropped: Vec<Dropped>,
}

impl DataReport {
    /// Dropped rows per reason kind (the reason up to its first colon).
    pub fn by_reason(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for d in &self.dropped {
            let kind = d.reason.split(':').next().unwrap_or_default().to_string();
            *out.entry(kind).or_insert(0) += 1;
        }
        out
    }

    pub(crate) fn drop(&mut self, line: usize, reason: impl Into<String>) {
        self.dropped.push(Dropped {
            line,
            reason: reason.into(),
        });
    }
}

impl fmt::Display for DataReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows, {} kept", self.rows, self.kept)?;
        for (reason, n) in self.by_reason() {
            write!(f, ", {n} dropped ({reason})")?;
        }
        Ok(())
    }
}

/// Non-blank lines of a text stream with their 1-based numbers; a byte-order mark at the
/// start is not part of the first line.
pub(crate) fn lines(reader: impl BufRead) -> impl Iterator<Item = Result<(usize, String)>> {
    reader.lines().enumerate().filter_map(|(n, line)| {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                return Some(Err(GroundrecError::Data(format!(
                    "line {}: cannot read: {e}",
                    n + 1
                ))))
            }
        };
        let line = if n == 0 {
            line.trim_start_matches('\u{feff}').to_string()
        } else {
            line
        };
        (!line.trim().is_empty()).then_some(Ok((n + 1, line)))
    })
}

impl Catalog {
    /// Validates items: empty ids or titles and repeated ids (all but the first) are dropped.
    pub fn from_items(items: impl IntoIterator<Item = Item>) -> Result<(Self, DataReport)> {
        Self::build(items.into_iter().enumerate().map(|(i, it)| (i + 1, Ok(it))))
    }

    /// Reads a JSONL catalogue (one item object per line; blank lines skipped).
    pub fn read_jsonl(reader: impl BufRead) -> Result<(Self, DataReport)> {
        let rows = lines(reader)
            .map(|l| {
                l.map(|(n, text)| {
                    (
                        n,
                        serde_json::from_str::<Item>(&text).map_err(|e| e.to_string()),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Self::build(rows)
    }

    fn build(
        rows: impl IntoIterator<Item = (usize, std::result::Result<Item, String>)>,
    ) -> Result<(Self, DataReport)> {
        let mut report = DataReport::default();
        let mut cat = Catalog::default();
        for (line, row) in rows {
            report.rows += 1;
            match row {
                Err(e) => report.drop(line, format!("bad row: {e}")),
                Ok(item) => {
                    if let Err(reason) = cat.admit(item) {
                        report.drop(line, reason);
                    }
                }
            }
        }
        report.kept = cat.items.len();
        if cat.items.is_empty() {
            let first = report
                .dropped
                .first()
                .map(|d| format!("; line {}: {}", d.line, d.reason))
                .unwrap_or_default();
            return Err(GroundrecError::Data(format!(
                "the catalogue has no usable items ({report}{first})"
            )));
        }
        Ok((cat, report))
    }

    /// The items in input order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the catalogue is empty (never true for a validated one).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Position of an item id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The item with this id.
    pub fn get(&self, id: &str) -> Option<&Item> {
        self.position(id).map(|i| &self.items[i])
    }

    /// Writes the catalogue as JSONL (what [`Catalog::read_jsonl`] reads).
    pub fn to_jsonl(&self) -> Result<String> {
        let mut out = String::new();
        for item in &self.items {
            let line = serde_json::to_string(item)
                .map_err(|e| GroundrecError::Data(format!("item {:?}: {e}", item.id)))?;
            out.push_str(&line);
            out.push('\n');
        }
        Ok(out)
    }

    /// Appends `item` if it is usable and its id new; else why not.
    fn admit(&mut self, item: Item) -> std::result::Result<(), String> {
        if let Some(p) = item.problem() {
            return Err(format!("{p}: item {:?}", item.id));
        }
        if self.index.contains_key(&item.id) {
            return Err(format!("duplicate id: {:?}", item.id));
        }
        self.push(item);
        Ok(())
    }

    /// Appends a new item (the caller checked it and its id).
    pub(crate) fn push(&mut self, item: Item) {
        self.index.insert(item.id.clone(), self.items.len());
        self.items.push(item);
    }

    /// Replaces the item at `position` (same id).
    pub(crate) fn replace(&mut self, position: usize, item: Item) {
        self.items[position] = item;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn catalog() -> Catalog {
        let text = "\u{feff}{\"id\": \"a\", \"title\": \"Fractions\", \"level\": \"beginner\"}
{\"id\": \"b\", \"title\": \"분수\", \"description\": \"분수의 덧셈\", \"language\": \"ko+en\"}
{\"id\": \"a\", \"title\": \"again\"}
{\"id\": \"c\", \"title\": \"\"}
not json
{\"id\": 7, \"title\": \"Numbers\", \"description\": null}
{\"id\": 1.5, \"title\": \"Halves\"}
";
        let (c, r) = Catalog::read_jsonl(text.as_bytes()).expect("usable items");
        assert_eq!((r.rows, r.kept, r.dropped.len()), (7, 3, 4), "{r:?}");
        assert_eq!(r.dropped[0].line, 3);
        assert!(r.by_reason().contains_key("duplicate id"));
        assert!(r.by_reason().contains_key("empty title"));
        assert_eq!(c.get("a").map(|i| i.extra.len()), Some(1));
        c
    }

    #[test]
    fn catalogue_rows_are_validated_with_a_report() {
        let c = catalog();
        // The byte-order mark did not drop the first row; integer ids and a null
        // description are read like the events reader reads them.
        assert_eq!(c.items()[0].id, "a");
        assert_eq!(c.get("7").map(|i| i.description.as_str()), Some(""));
        assert!(Catalog::read_jsonl("\n".as_bytes()).is_err());
        let b = c.get("b").expect("b");
        assert!(b.in_language("ko") && b.in_language("EN") && !b.in_language("k"));
        let back = Catalog::read_jsonl(c.to_jsonl().expect("writes").as_bytes())
            .expect("reads")
            .0;
        assert_eq!(back, c);
    }
}
