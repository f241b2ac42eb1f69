//! Catalogue and event input: JSONL catalogues, CSV or JSONL events, validation with a report
//! of every dropped row.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::error::{GroundrecError, Result};

/// One catalogue item (a lecture). Unknown JSON fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Unique id.
    pub id: String,
    /// Title (required, non-empty).
    pub title: String,
    /// Description (may be empty).
    #[serde(default)]
    pub description: String,
    /// Language tag, e.g. "ko", "en", "ko+en".
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
}

/// A validated catalogue: unique, non-empty ids and titles, in input order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Catalog {
    items: Vec<Item>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// One event: `user` interacted with `item` at `timestamp` (seconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// User id.
    pub user: String,
    /// Item id.
    pub item: String,
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
    /// Optional event type ("view", "complete", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
}

/// A dropped input row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// 1-based line number (0 for rows that did not come from a file).
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

    fn drop(&mut self, line: usize, reason: impl Into<String>) {
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

impl Catalog {
    /// Validates items: empty ids or titles and repeated ids (all but the first) are dropped.
    pub fn from_items(items: impl IntoIterator<Item = Item>) -> Result<(Self, DataReport)> {
        Self::build(items.into_iter().map(|i| (0, Ok(i))))
    }

    /// Reads a JSONL catalogue (one item object per line; blank lines skipped).
    pub fn read_jsonl(reader: impl BufRead) -> Result<(Self, DataReport)> {
        Self::build(jsonl_rows(reader)?)
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
                Ok(item) if item.id.trim().is_empty() => report.drop(line, "empty id"),
                Ok(item) if item.title.trim().is_empty() => {
                    report.drop(line, format!("empty title: item {:?}", item.id))
                }
                Ok(item) if cat.index.contains_key(&item.id) => {
                    report.drop(line, format!("duplicate id: {:?}", item.id))
                }
                Ok(item) => {
                    cat.index.insert(item.id.clone(), cat.items.len());
                    cat.items.push(item);
                }
            }
        }
        report.kept = cat.items.len();
        if cat.items.is_empty() {
            return Err(GroundrecError::Data(format!(
                "the catalogue has no usable items ({report})"
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

    pub(crate) fn reindex(&mut self) {
        self.index = self
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.id.clone(), i))
            .collect();
    }
}

/// Non-blank JSONL lines parsed as `T`, each with its 1-based line number; a line that does
/// not parse keeps its error message (it becomes a dropped row).
type Rows<T> = Vec<(usize, std::result::Result<T, String>)>;

fn jsonl_rows<T: serde::de::DeserializeOwned>(reader: impl BufRead) -> Result<Rows<T>> {
    let mut rows = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| GroundrecError::Data(format!("line {}: {e}", n + 1)))?;
        if !line.trim().is_empty() {
            rows.push((
                n + 1,
                serde_json::from_str(&line).map_err(|e| e.to_string()),
            ));
        }
    }
    Ok(rows)
}

#[derive(Deserialize)]
struct RawEvent {
    user: serde_json::Value,
    item: serde_json::Value,
    timestamp: serde_json::Value,
    #[serde(default, alias = "type")]
    event_type: Option<String>,
}

fn id_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a timestamp: integer seconds, or RFC 3339 (`2026-03-01T09:30:00Z`, with an offset,
/// or with a space instead of `T`; fractional seconds are cut).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

fn timestamp_of(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => parse_timestamp(s),
        _ => None,
    }
}

/// Splits one CSV line (commas, double-quoted fields with `""` escapes).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|f| f.trim().to_string()).collect()
}

/// Reads events from CSV with a header naming `user`, `item`, `timestamp` and optionally
/// `event_type` (any order, other columns ignored), and validates them against `catalog`.
pub fn read_events_csv(
    reader: impl BufRead,
    catalog: &Catalog,
) -> Result<(Vec<Event>, DataReport)> {
    let mut lines = reader.lines().enumerate();
    let header = loop {
        match lines.next() {
            Some((_, Ok(l))) if l.trim().is_empty() => continue,
            Some((_, Ok(l))) => break csv_fields(&l),
            Some((n, Err(e))) => return Err(GroundrecError::Data(format!("line {}: {e}", n + 1))),
            None => return Err(GroundrecError::Data("the event file is empty".into())),
        }
    };
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(cu), Some(ci), Some(ct)) = (col("user"), col("item"), col("timestamp")) else {
        return Err(GroundrecError::Data(format!(
            "the CSV header must name user, item and timestamp, got {header:?}"
        )));
    };
    let ce = col("event_type").or_else(|| col("type"));
    let mut rows = Vec::new();
    for (n, line) in lines {
        let line = line.map_err(|e| GroundrecError::Data(format!("line {}: {e}", n + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let f = csv_fields(&line);
        let get = |i: usize| f.get(i).cloned().unwrap_or_default();
        let raw = RawEvent {
            user: serde_json::Value::String(get(cu)),
            item: serde_json::Value::String(get(ci)),
            timestamp: serde_json::Value::String(get(ct)),
            event_type: ce.map(get).filter(|s| !s.is_empty()),
        };
        rows.push((n + 1, Ok(raw)));
    }
    validate(rows, catalog)
}

/// Reads events from JSONL (`{"user": .., "item": .., "timestamp": .., "event_type": ..}`;
/// ids may be strings or numbers, timestamps integers or RFC 3339 strings) and validates them.
pub fn read_events_jsonl(
    reader: impl BufRead,
    catalog: &Catalog,
) -> Result<(Vec<Event>, DataReport)> {
    validate(jsonl_rows(reader)?, catalog)
}

/// Validates events given in memory (line numbers in the report are 1-based positions).
pub fn validate_events(
    events: impl IntoIterator<Item = Event>,
    catalog: &Catalog,
) -> Result<(Vec<Event>, DataReport)> {
    let rows = events.into_iter().enumerate().map(|(i, e)| {
        let raw = RawEvent {
            user: serde_json::Value::String(e.user),
            item: serde_json::Value::String(e.item),
            timestamp: serde_json::Value::from(e.timestamp),
            event_type: e.event_type,
        };
        (i + 1, Ok(raw))
    });
    validate(rows, catalog)
}

fn validate(
    rows: impl IntoIterator<Item = (usize, std::result::Result<RawEvent, String>)>,
    catalog: &Catalog,
) -> Result<(Vec<Event>, DataReport)> {
    let mut report = DataReport::default();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (line, row) in rows {
        report.rows += 1;
        let raw = match row {
            Ok(r) => r,
            Err(e) => {
                report.drop(line, format!("bad row: {e}"));
                continue;
            }
        };
        let (Some(user), Some(item)) = (id_of(&raw.user), id_of(&raw.item)) else {
            report.drop(line, "missing user or item");
            continue;
        };
        let Some(timestamp) = timestamp_of(&raw.timestamp) else {
            report.drop(line, format!("bad timestamp: {}", raw.timestamp));
            continue;
        };
        if catalog.position(&item).is_none() {
            report.drop(line, format!("unknown item: {item:?}"));
            continue;
        }
        if !seen.insert((user.clone(), item.clone(), timestamp)) {
            report.drop(
                line,
                format!("duplicate event: {user:?} {item:?} at {timestamp}"),
            );
            continue;
        }
        out.push(Event {
            user,
            item,
            timestamp,
            event_type: raw.event_type,
        });
    }
    report.kept = out.len();
    if out.is_empty() {
        return Err(GroundrecError::Data(format!("no usable events ({report})")));
    }
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let text = r#"{"id": "a", "title": "Fractions", "level": "beginner"}
{"id": "b", "title": "분수", "description": "분수의 덧셈"}
{"id": "a", "title": "again"}
{"id": "c", "title": ""}
not json
"#;
        let (c, r) = Catalog::read_jsonl(text.as_bytes()).expect("two usable items");
        assert_eq!((r.rows, r.kept, r.dropped.len()), (5, 2, 3));
        assert_eq!(r.dropped[0].line, 3);
        assert!(r.by_reason().contains_key("duplicate id"));
        assert_eq!(c.get("a").map(|i| i.extra.len()), Some(1));
        c
    }

    #[test]
    fn catalogue_rows_are_validated_with_a_report() {
        let c = catalog();
        assert_eq!(c.len(), 2);
        assert!(Catalog::read_jsonl("\n".as_bytes()).is_err());
    }

    #[test]
    fn events_from_csv_and_jsonl_are_checked_against_the_catalogue() {
        let c = catalog();
        let csv = "timestamp,user,item,event_type\n\
                   100,u1,a,view\n\
                   2026-03-01T09:00:00+09:00,u1,b,\n\
                   yesterday,u1,a,view\n\
                   101,u2,zzz,view\n\
                   100,u1,a,view\n";
        let (ev, r) = read_events_csv(csv.as_bytes(), &c).expect("valid");
        assert_eq!(ev.len(), 2);
        assert_eq!(
            ev[1].timestamp,
            parse_timestamp("2026-03-01T00:00:00Z").expect("ts")
        );
        let kinds = r.by_reason();
        assert_eq!(kinds.get("bad timestamp"), Some(&1));
        assert_eq!(kinds.get("unknown item"), Some(&1));
        assert_eq!(kinds.get("duplicate event"), Some(&1));
        let jsonl = "{\"user\": 7, \"item\": \"b\", \"timestamp\": \"1970-01-02 00:00:00\"}\n{\"user\": 7}\n";
        let (ev, r) = read_events_jsonl(jsonl.as_bytes(), &c).expect("valid");
        assert_eq!((ev[0].user.as_str(), ev[0].timestamp), ("7", 86_400));
        assert_eq!(r.dropped.len(), 1);
        assert!(read_events_csv("user,item\nu,a\n".as_bytes(), &c).is_err());
    }

    #[test]
    fn timestamps_parse_like_rfc3339() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            parse_timestamp("2000-03-01T09:00:00.123+09:00"),
            Some(951_868_800)
        );
        assert_eq!(parse_timestamp("2000-13-01T00:00:00Z"), None);
        assert_eq!(parse_timestamp("-5"), Some(-5));
    }
}
