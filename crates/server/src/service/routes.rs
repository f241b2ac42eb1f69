//! The HTTP handlers. Bodies are read as bytes and parsed here, so every refusal is a JSON
//! error with a stable code (axum's own extractors answer in plain text).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use groundrec::{EmptyReason, Item, Reason, RecommendList, RecommendOptions, Recommendation};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::state::Service;
use crate::error::{Result, ServerError};
use crate::event::{check_id, parse_row, NewEvent, RowOutcome};
use crate::store::{now_ms, ServedList};

fn body_bytes(body: std::result::Result<Bytes, BytesRejection>) -> Result<Bytes> {
    body.map_err(|e| ServerError::Api {
        status: e.status(),
        code: if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "bad_body"
        },
        message: e.body_text(),
    })
}

fn json_body(body: std::result::Result<Bytes, BytesRejection>) -> Result<serde_json::Value> {
    let bytes = body_bytes(body)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ServerError::bad_request("malformed_json", format!("the body is not JSON: {e}"))
    })
}

fn path_id(
    p: std::result::Result<Path<String>, PathRejection>,
    field: &'static str,
) -> Result<String> {
    let Path(id) = p.map_err(|e| ServerError::bad_request("bad_path", e.body_text()))?;
    check_id(field, &id).map_err(|m| ServerError::unprocessable("invalid_id", m))?;
    Ok(id)
}

/// List filters, from a query string or a JSON body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    n: Option<usize>,
    #[serde(default)]
    category: Vec<String>,
    #[serde(default)]
    language: Vec<String>,
    #[serde(default)]
    cluster: Vec<usize>,
    #[serde(default)]
    exclude: Vec<String>,
}

impl ListQuery {
    fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self> {
        let mut q = ListQuery::default();
        let split = |v: &str| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        for (k, v) in pairs {
            match k.as_str() {
                "n" => {
                    q.n = Some(v.trim().parse().map_err(|_| {
                        ServerError::unprocessable("invalid_n", format!("n must be a whole number, got {v:?}"))
                    })?)
                }
                "category" => q.category.extend(split(&v)),
                "language" => q.language.extend(split(&v)),
                "exclude" => q.exclude.extend(split(&v)),
                "cluster" => {
                    for c in split(&v) {
                        q.cluster.push(c.parse().map_err(|_| {
                            ServerError::unprocessable("invalid_filter", format!("cluster must be a number, got {c:?}"))
                        })?);
                    }
                }
                other => {
                    return Err(ServerError::unprocessable(
                        "unknown_parameter",
                        format!("unknown query parameter {other:?} (n, category, language, cluster, exclude)"),
                    ))
                }
            }
        }
        Ok(q)
    }

    fn options(&self, max_n: usize) -> Result<RecommendOptions> {
        let n = self.n.unwrap_or(10);
        if n == 0 || n > max_n {
            return Err(ServerError::unprocessable(
                "invalid_n",
                format!("n must be from 1 to {max_n}, got {n}"),
            ));
        }
        for id in &self.exclude {
            check_id("exclude", id).map_err(|m| ServerError::unprocessable("invalid_id", m))?;
        }
        Ok(RecommendOptions::new(n)
            .categories(self.category.clone())
            .languages(self.language.clone())
            .clusters(self.cluster.clone())
            .exclude(self.exclude.clone()))
    }
}

/// A served list as the API answers it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ListResponse {
    /// Id to send back with events on its items (`list_id`), for the online hit rate.
    pub list_id: String,
    /// The model version that ranked it.
    pub model: String,
    /// True when the list is popular items (no usable history).
    pub fallback: bool,
    /// Why the list is empty, when it is.
    pub empty: Option<EmptyReason>,
    /// The items, best first.
    pub items: Vec<Recommendation>,
}

fn list_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn serve_list(
    service: &Service,
    user: Option<String>,
    model: &str,
    list: RecommendList,
) -> ListResponse {
    let fallback =
        !list.items.is_empty() && list.items.iter().all(|r| r.reason == Reason::Popularity);
    let id = list_id();
    service.inner.metrics.list(model, fallback);
    service.log_list(ServedList {
        list_id: id.clone(),
        user,
        model_id: model.to_string(),
        items: list.items.iter().map(|r| r.item.clone()).collect(),
        fallback,
        served_ms: now_ms(),
    });
    ListResponse {
        list_id: id,
        model: model.to_string(),
        fallback,
        empty: list.empty,
        items: list.items,
    }
}

pub(crate) async fn user_recommendations(
    State(service): State<Service>,
    user: std::result::Result<Path<String>, PathRejection>,
    query: std::result::Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<ListResponse>> {
    let user = path_id(user, "user")?;
    let Query(pairs) = query.map_err(|e| ServerError::bad_request("bad_query", e.body_text()))?;
    let q = ListQuery::from_pairs(pairs)?;
    let options = q
        .options(service.inner.config.max_n)?
        .skip_unknown_history(true);
    let live = service.live();
    let keep = live.pipeline.recommender().config().max_len;
    let history = service.store().history(&user, keep).await?;
    let refs: Vec<&str> = history.iter().map(String::as_str).collect();
    let list = live.pipeline.recommend(&refs, &options)?;
    Ok(Json(serve_list(
        &service,
        Some(user),
        live.pipeline.model_id(),
        list,
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnonymousRequest {
    history: Vec<String>,
    #[serde(flatten)]
    query: ListQuery,
}

pub(crate) async fn anonymous_recommendations(
    State(service): State<Service>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Json<ListResponse>> {
    let value = json_body(body)?;
    let req: AnonymousRequest = serde_json::from_value(value)
        .map_err(|e| ServerError::unprocessable("invalid_request", e.to_string()))?;
    for id in &req.history {
        check_id("history", id).map_err(|m| ServerError::unprocessable("invalid_id", m))?;
    }
    let options = req.query.options(service.inner.config.max_n)?;
    let live = service.live();
    let refs: Vec<&str> = req.history.iter().map(String::as_str).collect();
    let list = live.pipeline.recommend(&refs, &options)?;
    Ok(Json(serve_list(
        &service,
        None,
        live.pipeline.model_id(),
        list,
    )))
}

pub(crate) async fn similar(
    State(service): State<Service>,
    item: std::result::Result<Path<String>, PathRejection>,
    query: std::result::Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<serde_json::Value>> {
    let item = path_id(item, "item")?;
    let Query(pairs) = query.map_err(|e| ServerError::bad_request("bad_query", e.body_text()))?;
    let options = ListQuery::from_pairs(pairs)?.options(service.inner.config.max_n)?;
    let live = service.live();
    if live.pipeline.catalog().get(&item).is_none() {
        return Err(ServerError::not_found(
            "unknown_item",
            format!("item {item:?} is not in the catalogue"),
        ));
    }
    let list = live.pipeline.similar(&item, &options)?;
    Ok(Json(
        json!({ "item": item, "model": live.pipeline.model_id(), "items": list.items, "empty": list.empty }),
    ))
}

fn item_view(service: &Service, id: &str) -> Result<serde_json::Value> {
    let live = service.live();
    let p = &live.pipeline;
    let pos = p.catalog().position(id).ok_or_else(|| {
        ServerError::not_found(
            "unknown_item",
            format!("item {id:?} is not in the catalogue"),
        )
    })?;
    Ok(json!({
        "item": p.catalog().items()[pos],
        "cluster": p.clusters()[pos],
        "keywords": p.keywords()[pos],
        "retired": p.is_retired(id),
        "model": p.model_id(),
    }))
}

pub(crate) async fn get_item(
    State(service): State<Service>,
    item: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>> {
    let id = path_id(item, "item")?;
    item_view(&service, &id).map(Json)
}

pub(crate) async fn put_item(
    State(service): State<Service>,
    item: std::result::Result<Path<String>, PathRejection>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let id = path_id(item, "item")?;
    let mut value = json_body(body)?;
    let Some(obj) = value.as_object_mut() else {
        return Err(ServerError::unprocessable(
            "invalid_item",
            "the body must be a JSON object",
        ));
    };
    match obj.get("id") {
        None => {
            obj.insert("id".into(), id.clone().into());
        }
        Some(serde_json::Value::String(s)) if *s == id => {}
        Some(other) => {
            return Err(ServerError::unprocessable(
                "invalid_item",
                format!("the body's id {other} is not the path's {id:?}"),
            ))
        }
    }
    let item: Item = serde_json::from_value(value)
        .map_err(|e| ServerError::unprocessable("invalid_item", e.to_string()))?;
    let existed = service.live().pipeline.catalog().get(&id).is_some();
    service.put_items(vec![item]).await?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(item_view(&service, &id)?)).into_response())
}

pub(crate) async fn delete_item(
    State(service): State<Service>,
    item: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>> {
    let id = path_id(item, "item")?;
    service.delete_item(&id).await?;
    Ok(Json(json!({ "item": id, "deleted": true })))
}

pub(crate) async fn post_events(
    State(service): State<Service>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let value = json_body(body)?;
    let rows = match value {
        serde_json::Value::Array(rows) => rows,
        serde_json::Value::Object(mut o) if o.len() == 1 && o.contains_key("events") => {
            match o.remove("events") {
                Some(serde_json::Value::Array(rows)) => rows,
                _ => {
                    return Err(ServerError::unprocessable(
                        "invalid_batch",
                        "events must be an array",
                    ))
                }
            }
        }
        _ => {
            return Err(ServerError::unprocessable(
                "invalid_batch",
                "the body must be an array of events (or {\"events\": [...]})",
            ))
        }
    };
    let max = service.inner.config.max_batch;
    if rows.is_empty() || rows.len() > max {
        return Err(ServerError::unprocessable(
            "invalid_batch",
            format!("a batch holds 1 to {max} events, got {}", rows.len()),
        ));
    }
    let live = service.live();
    let catalog = live.pipeline.catalog();
    let now = now_ms() / 1000;
    let mut outcomes: Vec<Option<RowOutcome>> = Vec::with_capacity(rows.len());
    let mut valid: Vec<NewEvent> = Vec::new();
    for row in &rows {
        match parse_row(row, now, |id| catalog.get(id).is_some()) {
            Ok(e) => {
                valid.push(e);
                outcomes.push(None);
            }
            Err(o) => outcomes.push(Some(o)),
        }
    }
    drop(live);
    let stored = service.store().insert_events(&valid).await?;
    let mut it = stored.iter();
    let outcomes: Vec<RowOutcome> = outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| match it.next() {
                Some(true) => RowOutcome::Stored,
                _ => RowOutcome::Duplicate,
            })
        })
        .collect();
    let count = |f: fn(&RowOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let (n_stored, n_dup) = (
        count(|o| *o == RowOutcome::Stored),
        count(|o| *o == RowOutcome::Duplicate),
    );
    let n_rejected = outcomes.len() - n_stored - n_dup;
    let m = &service.inner.metrics;
    m.events("stored", n_stored as u64);
    m.events("duplicate", n_dup as u64);
    m.events("rejected", n_rejected as u64);
    // Hits are marked off the request path.
    service.queue_hits(
        valid
            .into_iter()
            .zip(&stored)
            .filter(|(e, s)| **s && e.kind.engages())
            .map(|(e, _)| e)
            .collect(),
    );
    let body = json!({ "stored": n_stored, "duplicate": n_dup, "rejected": n_rejected, "results": outcomes });
    if n_rejected == outcomes.len() {
        let mut body = body;
        body["error"] = json!({ "code": "no_valid_events", "message": "every event of the batch was rejected; see results" });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    Ok(Json(body).into_response())
}

pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub(crate) async fn readyz(State(service): State<Service>) -> Response {
    let live = service.live();
    let store = service.store().ping().await;
    let body = json!({
        "status": if store.is_ok() { "ready" } else { "unavailable" },
        "model": live.pipeline.model_id(),
        "items": live.pipeline.live_items(),
        "artifacts": live.dir.display().to_string(),
        "store": format!("{:?}", service.store().backend()).to_lowercase(),
        "store_error": store.as_ref().err().map(ToString::to_string),
    });
    let status = if store.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

pub(crate) async fn metrics(State(service): State<Service>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        service.inner.metrics.render(),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReloadRequest {
    artifacts: Option<std::path::PathBuf>,
}

pub(crate) async fn reload(
    State(service): State<Service>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>> {
    let bytes = body_bytes(body)?;
    let req: ReloadRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        ReloadRequest { artifacts: None }
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ServerError::unprocessable("invalid_request", e.to_string()))?
    };
    let previous = service.model_id();
    let model = service.reload(req.artifacts).await.map_err(|e| match e {
        ServerError::Api { .. } => e,
        other => ServerError::unprocessable(
            "reload_failed",
            format!("the old model keeps serving: {other}"),
        ),
    })?;
    Ok(Json(json!({ "model": model, "previous": previous })))
}

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../../openapi.json");

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub(crate) async fn not_found() -> ServerError {
    ServerError::not_found("not_found", "no such route")
}

pub(crate) async fn method_not_allowed() -> ServerError {
    ServerError::Api {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "this route does not take that method".into(),
    }
}
