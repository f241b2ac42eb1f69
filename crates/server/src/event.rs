//! Events as the API takes them: checked row by row, so one bad row is rejected with its
//! reason while the others are stored.

use serde::{Deserialize, Serialize};

/// The longest id (user, item, event or list) the service takes, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// What a learner did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// Opened the lecture's page.
    View,
    /// Started the lecture.
    Start,
    /// Finished it.
    Complete,
    /// Clicked it in a list.
    Click,
    /// Saw it in a list without acting on it (not part of the history).
    Impression,
}

impl EventKind {
    /// Every kind, in a fixed order.
    pub const ALL: [EventKind; 5] = [
        EventKind::View,
        EventKind::Start,
        EventKind::Complete,
        EventKind::Click,
        EventKind::Impression,
    ];

    /// The name used in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::View => "view",
            EventKind::Start => "start",
            EventKind::Complete => "complete",
            EventKind::Click => "click",
            EventKind::Impression => "impression",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the event engages with an item (click, start, complete): a hit for a list
    /// that served it.
    pub fn engages(self) -> bool {
        matches!(
            self,
            EventKind::Click | EventKind::Start | EventKind::Complete
        )
    }

    /// Whether the event is part of the user's history (what SASRec reads and learns from).
    pub fn in_history(self) -> bool {
        self != EventKind::Impression
    }
}

/// A checked event, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Client-chosen id that makes a retry idempotent.
    pub event_id: Option<String>,
    /// User id.
    pub user: String,
    /// Item id.
    pub item: String,
    /// What happened.
    pub kind: EventKind,
    /// Seconds since the Unix epoch (the time of arrival when the client gave none).
    pub timestamp: i64,
    /// The served list the event came from, if any.
    pub list_id: Option<String>,
}

/// What happened to one row of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum RowOutcome {
    /// Stored now.
    Stored,
    /// Its `event_id` was stored before (a retry): nothing changed.
    Duplicate,
    /// Not stored, and why.
    Rejected {
        /// Stable code, e.g. `unknown_item`.
        code: String,
        /// What was wrong.
        message: String,
    },
}

impl RowOutcome {
    pub(crate) fn rejected(code: &str, message: impl Into<String>) -> Self {
        Self::Rejected {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Checks an id: non-empty after trimming, at most [`MAX_ID_BYTES`], no control characters.
pub fn check_id(field: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err(format!("{field} is empty"));
    }
    if v.len() > MAX_ID_BYTES {
        return Err(format!("{field} is longer than {MAX_ID_BYTES} bytes"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} holds a control character"));
    }
    Ok(())
}

fn id_field(
    row: &serde_json::Map<String, serde_json::Value>,
    field: &str,
) -> Result<Option<String>, String> {
    match row.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => check_id(field, s).map(|()| Some(s.clone())),
        Some(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(other) => Err(format!(
            "{field} must be a string or an integer, got {other}"
        )),
    }
}

/// Reads one row of an event batch. `now` stands in for a missing timestamp;
/// `known_item` says whether the catalogue holds an id.
pub fn parse_row(
    row: &serde_json::Value,
    now: i64,
    known_item: impl Fn(&str) -> bool,
) -> Result<NewEvent, RowOutcome> {
    let bad = |code: &str, m: String| RowOutcome::rejected(code, m);
    let Some(obj) = row.as_object() else {
        return Err(bad(
            "invalid_event",
            format!("an event must be an object, got {row}"),
        ));
    };
    for key in obj.keys() {
        if !["event_id", "user", "item", "type", "timestamp", "list_id"].contains(&key.as_str()) {
            return Err(bad("invalid_event", format!("unknown field {key:?}")));
        }
    }
    let field = |f: &str| id_field(obj, f).map_err(|m| bad("invalid_event", m));
    let event_id = field("event_id")?;
    let list_id = field("list_id")?;
    let user = field("user")?.ok_or_else(|| bad("invalid_event", "user is missing".into()))?;
    let item = field("item")?.ok_or_else(|| bad("invalid_event", "item is missing".into()))?;
    let kind = match obj.get("type") {
        Some(serde_json::Value::String(s)) => EventKind::parse(s).ok_or_else(|| {
            bad(
                "invalid_event",
                format!("type {s:?} is none of view, start, complete, click, impression"),
            )
        })?,
        None | Some(serde_json::Value::Null) => {
            return Err(bad("invalid_event", "type is missing".into()))
        }
        Some(other) => {
            return Err(bad(
                "invalid_event",
                format!("type must be a string, got {other}"),
            ))
        }
    };
    let timestamp = match obj.get("timestamp") {
        None | Some(serde_json::Value::Null) => now,
        Some(serde_json::Value::Number(n)) => n.as_i64().ok_or_else(|| {
            bad(
                "invalid_event",
                format!("timestamp {n} is not whole seconds"),
            )
        })?,
        Some(serde_json::Value::String(s)) => groundrec::parse_timestamp(s).ok_or_else(|| {
            bad(
                "invalid_event",
                format!("timestamp {s:?} is neither seconds since 1970 nor RFC 3339"),
            )
        })?,
        Some(other) => {
            return Err(bad(
                "invalid_event",
                format!("timestamp must be a number or a string, got {other}"),
            ))
        }
    };
    if !known_item(&item) {
        return Err(bad(
            "unknown_item",
            format!("item {item:?} is not in the catalogue"),
        ));
    }
    Ok(NewEvent {
        event_id,
        user,
        item,
        kind,
        timestamp,
        list_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<NewEvent, RowOutcome> {
        parse_row(&v, 100, |i| i.starts_with('L'))
    }

    #[test]
    fn rows_are_checked_field_by_field() {
        let e = parse(json!({"user": 7, "item": "L1", "type": "complete", "timestamp": "1970-01-01T00:00:05Z"}))
            .expect("valid");
        assert_eq!(
            (e.user.as_str(), e.kind, e.timestamp),
            ("7", EventKind::Complete, 5)
        );
        assert_eq!(
            parse(json!({"user": "u", "item": "L1", "type": "view"})).map(|e| e.timestamp),
            Ok(100)
        );
        let code = |v| match parse(v) {
            Err(RowOutcome::Rejected { code, .. }) => code,
            other => panic!("expected a rejection, got {other:?}"),
        };
        assert_eq!(
            code(json!({"user": "u", "item": "X9", "type": "view"})),
            "unknown_item"
        );
        assert_eq!(
            code(json!({"user": "u", "item": "L1", "type": "liked"})),
            "invalid_event"
        );
        assert_eq!(
            code(json!({"user": "", "item": "L1", "type": "view"})),
            "invalid_event"
        );
        assert_eq!(
            code(json!({"user": "u", "item": "L1", "type": "view", "timestamp": 1.5})),
            "invalid_event"
        );
        assert_eq!(
            code(json!({"user": "u", "item": "L1", "type": "view", "extra": 1})),
            "invalid_event"
        );
        assert_eq!(
            code(json!({"user": ["u"], "item": "L1", "type": "view"})),
            "invalid_event"
        );
        assert_eq!(code(json!("view")), "invalid_event");
        assert_eq!(
            code(json!({"user": "x".repeat(300), "item": "L1", "type": "view"})),
            "invalid_event"
        );
    }

    #[test]
    fn impressions_are_not_history() {
        assert!(EventKind::ALL
            .iter()
            .filter(|k| !k.in_history())
            .eq([&EventKind::Impression]));
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
    }
}
