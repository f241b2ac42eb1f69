//! Events: who did what when, read from CSV or JSONL and validated against a catalogue with
//! a report of every dropped row.

use std::collections::HashSet;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::catalog::{lines, Catalog, DataReport};
use crate::error::{GroundrecError, Result};

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

/// Parses a timestamp, the one rule for every input format: integer seconds since the Unix
/// epoch (`1767225600`, `-5`), or RFC 3339 with an offset (`2026-03-01T09:30:00Z`,
/// `2026-03-01T09:30:00.5+09:00`; a space may stand for the `T`; fractional seconds are cut
/// toward the earlier second). Anything else is `None`: impossible dates (`2026-02-31`),
/// offsets out of range (`+25:00`), trailing text, date-times without an offset (they name
/// no instant), and numbers with a fraction or an exponent.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok();
    }
    let mut text = s.to_string();
    if text.as_bytes().get(10) == Some(&b' ') {
        text.replace_range(10..11, "T");
    }
    time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

fn timestamp_of(v: &serde_json::Value) -> Option<i64> {
    match v {
        // Whole numbers only: 1.5 or 1e300 are not a second count.
        serde_json::Value::Number(n) => n.as_i64(),
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
    let mut lines = lines(reader);
    let header = match lines.next() {
        Some(l) => csv_fields(&l?.1),
        None => return Err(GroundrecError::Data("the event file is empty".into())),
    };
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(cu), Some(ci), Some(ct)) = (col("user"), col("item"), col("timestamp")) else {
        return Err(GroundrecError::Data(format!(
            "the CSV header must name user, item and timestamp, got {header:?}"
        )));
    };
    let ce = col("event_type").or_else(|| col("type"));
    let mut rows = Vec::new();
    for line in lines {
        let (n, line) = line?;
        let f = csv_fields(&line);
        let get = |i: usize| f.get(i).cloned().unwrap_or_default();
        let raw = RawEvent {
            user: serde_json::Value::String(get(cu)),
            item: serde_json::Value::String(get(ci)),
            timestamp: serde_json::Value::String(get(ct)),
            event_type: ce.map(get).filter(|s| !s.is_empty()),
        };
        rows.push((n, Ok(raw)));
    }
    validate(rows, catalog)
}

/// Reads events from JSONL (`{"user": .., "item": .., "timestamp": .., "event_type": ..}`;
/// ids may be strings or numbers, timestamps integers or RFC 3339 strings) and validates them.
pub fn read_events_jsonl(
    reader: impl BufRead,
    catalog: &Catalog,
) -> Result<(Vec<Event>, DataReport)> {
    let rows = lines(reader)
        .map(|l| {
            l.map(|(n, text)| {
                (
                    n,
                    serde_json::from_str::<RawEvent>(&text).map_err(|e| e.to_string()),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    validate(rows, catalog)
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
    use crate::catalog::Item;

    fn catalog() -> Catalog {
        Catalog::from_items([Item::new("a", "Fractions", ""), Item::new("b", "분수", "")])
            .expect("valid")
            .0
    }

    #[test]
    fn events_from_csv_and_jsonl_are_checked_against_the_catalogue() {
        let c = catalog();
        let csv = "\u{feff}timestamp,user,item,event_type\n\
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
        let jsonl = "{\"user\": 7, \"item\": \"b\", \"timestamp\": \"1970-01-02 00:00:00Z\"}\n{\"user\": 7}\n";
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
        assert_eq!(
            parse_timestamp("2000-03-01 09:00:00+09:00"),
            Some(951_868_800)
        );
        assert_eq!(parse_timestamp("-5"), Some(-5));
        for bad in [
            "2000-13-01T00:00:00Z",
            "2026-02-31T00:00:00Z",
            "2026-03-01T09:00:00+25:00",
            "2026-03-01T09:00:00+09:99",
            "2026-03-01T09:00:00+09x00",
            "2026-03-01T09:00:00+09:00garbage",
            "2026-03-01T09:00:00+-9:00",
            "2026-03-01T09:00:00",
            "1.5",
            "1e300",
            "99999999999999999999",
            "",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn one_timestamp_rule_for_csv_and_jsonl() {
        let c = catalog();
        let csv = "user,item,timestamp\nu,a,1.5\nu,a,1e300\nu,a,2e300\nu,a,7\n";
        let (ev, r) = read_events_csv(csv.as_bytes(), &c).expect("one usable event");
        assert_eq!(
            (ev.len(), r.by_reason().get("bad timestamp")),
            (1, Some(&3))
        );
        let jsonl = "{\"user\":\"u\",\"item\":\"a\",\"timestamp\":1.5}\n\
                     {\"user\":\"u\",\"item\":\"a\",\"timestamp\":1e300}\n\
                     {\"user\":\"u\",\"item\":\"a\",\"timestamp\":2e300}\n\
                     {\"user\":\"u\",\"item\":\"a\",\"timestamp\":7}\n";
        let (ev, r) = read_events_jsonl(jsonl.as_bytes(), &c).expect("one usable event");
        assert_eq!(
            (ev.len(), r.by_reason().get("bad timestamp")),
            (1, Some(&3))
        );
    }
}
