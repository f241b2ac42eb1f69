//! `GET /dashboard`: one self-contained HTML page about the service after launch, from the
//! store (so it covers every replica) and this replica's latencies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::response::Html;

use super::state::Service;
use super::svg::{esc, line_chart, paired_bars, Series};
use crate::error::{Result, ServerError};
use crate::store::now_ms;

/// How many recent lists the exposure and coverage figures are computed from.
const LISTS_SAMPLED: usize = 5000;

fn per_model(
    buckets: &[crate::store::Bucket],
    f: impl Fn(&crate::store::Bucket, &str) -> Option<f64>,
) -> Vec<Series> {
    let models: Vec<String> = buckets
        .iter()
        .flat_map(|b| b.lists.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    models
        .iter()
        .map(|m| Series {
            name: format!("model {m}"),
            points: buckets
                .iter()
                .filter_map(|b| f(b, m).map(|v| (b.start_ms, v)))
                .collect(),
        })
        .collect()
}

/// `buckets` merged into buckets of `width_ms` (a multiple of theirs), oldest first.
fn regroup(buckets: &[crate::store::Bucket], width_ms: i64) -> Vec<crate::store::Bucket> {
    let mut out: BTreeMap<i64, crate::store::Bucket> = BTreeMap::new();
    for b in buckets {
        let start = b.start_ms.div_euclid(width_ms) * width_ms;
        let o = out.entry(start).or_insert_with(|| crate::store::Bucket {
            start_ms: start,
            ..Default::default()
        });
        o.events += b.events;
        for (m, n) in &b.lists {
            *o.lists.entry(m.clone()).or_default() += n;
        }
        for (m, n) in &b.hits {
            *o.hits.entry(m.clone()).or_default() += n;
        }
    }
    out.into_values().collect()
}

/// The offline report of the serving model (its `report.json`).
fn offline_report(dir: &std::path::Path) -> String {
    let Ok(text) = std::fs::read_to_string(dir.join("report.json")) else {
        return "<p>No report.json in the artifact folder (groundrec fit writes one).</p>".into();
    };
    match serde_json::from_str::<groundrec::Report>(&text) {
        Ok(r) => super::report_page::report_section(&r),
        Err(e) => format!("<p>report.json does not parse: {}</p>", esc(&e.to_string())),
    }
}

pub(crate) async fn dashboard(
    State(service): State<Service>,
    query: std::result::Result<
        Query<HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Html<String>> {
    let Query(q) = query.map_err(|e| ServerError::bad_request("bad_query", e.body_text()))?;
    let minutes: i64 = match q.get("minutes") {
        None => 120,
        Some(v) => v
            .parse()
            .ok()
            .filter(|m| (10..=10_080).contains(m))
            .ok_or_else(|| {
                ServerError::unprocessable("invalid_minutes", "minutes must be from 10 to 10080")
            })?,
    };
    let now = now_ms();
    let from = now - minutes * 60_000;
    let store = service.store();
    let per_minute = store.timeline(from, 60_000).await?;
    // About twelve points for the hit rate: the minutes regrouped, not read again.
    let coarse = regroup(&per_minute, (minutes / 12).max(1) * 60_000);
    let recent = store.recent_lists(LISTS_SAMPLED).await?;
    let total_events = store.event_count().await?;
    let live = service.live();
    let p = &live.pipeline;

    let events = vec![Series {
        name: "events".into(),
        points: per_minute
            .iter()
            .map(|b| (b.start_ms, b.events as f64))
            .collect(),
    }];
    let lists = per_model(&per_minute, |b, m| b.lists.get(m).map(|n| *n as f64));
    let hit_rate = per_model(&coarse, |b, m| {
        let n = *b.lists.get(m)?;
        (n > 0).then(|| *b.hits.get(m).unwrap_or(&0) as f64 / n as f64)
    });

    // Exposure: share of served slots per cluster against its share of the live catalogue.
    let n_clusters = p.clusters().iter().copied().max().map_or(0, |m| m + 1);
    let mut catalogue = vec![0usize; n_clusters];
    let mut words: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); n_clusters];
    for (pos, item) in p.catalog().items().iter().enumerate() {
        if p.is_retired(&item.id) {
            continue;
        }
        catalogue[p.clusters()[pos]] += 1;
        for k in p.keywords()[pos].iter().take(2) {
            *words[p.clusters()[pos]].entry(k.clone()).or_default() += 1;
        }
    }
    let mut served = vec![0usize; n_clusters];
    let mut distinct = HashSet::new();
    let mut fallback = 0usize;
    for l in &recent {
        fallback += usize::from(l.fallback);
        for id in &l.items {
            distinct.insert(id.as_str());
            if let Some(pos) = p.catalog().position(id) {
                served[p.clusters()[pos]] += 1;
            }
        }
    }
    let (slots, live_items) = (
        served.iter().sum::<usize>().max(1),
        catalogue.iter().sum::<usize>().max(1),
    );
    let rows: Vec<(String, f64, f64)> = (0..n_clusters)
        .map(|c| {
            let mut top: Vec<(&String, &usize)> = words[c].iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let label = top
                .iter()
                .take(2)
                .map(|(w, _)| w.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!("{c}: {label}"),
                served[c] as f64 / slots as f64,
                catalogue[c] as f64 / live_items as f64,
            )
        })
        .collect();
    let coverage = distinct.len() as f64 / p.live_items().max(1) as f64;
    let fallback_share = fallback as f64 / recent.len().max(1) as f64;

    let mut latency = String::from("<table><tr><th>route</th><th>requests</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th></tr>");
    for (route, n, p50, p90, p99) in service.inner.metrics.percentiles() {
        let _ = write!(
            latency,
            "<tr><td>{}</td><td>{n}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            esc(&route),
            p50 * 1e3,
            p90 * 1e3,
            p99 * 1e3
        );
    }
    latency.push_str("</table>");

    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>groundrec dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{style}</style></head><body>
<h1>groundrec · model {model}</h1>
<p>Last {minutes} minutes, from the store (every replica); latencies from this replica. Generated {clock} UTC.</p>
<div class="figures"><span><b>{total_events}</b>events stored</span><span><b>{items}</b>live items</span>
<span><b>{coverage:.1}%</b>coverage of the last {sampled} lists</span><span><b>{fallback:.1}%</b>fallback lists</span></div>
<h2>Events per minute</h2>{events}
<h2>Lists served per minute, by model version</h2>{lists}
<h2>Online hit rate: share of lists with a click, start or complete on one of their items</h2>{hits}
<h2>Cluster exposure in served lists against catalogue share</h2>{exposure}
<h2>Latency</h2>{latency}
<h2>Offline report of the serving model</h2>{report}
</body></html>"#,
        style = super::report_page::style(),
        model = esc(p.model_id()),
        clock = {
            let s = now / 1000;
            format!("{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60)
        },
        items = p.live_items(),
        coverage = coverage * 100.0,
        sampled = recent.len(),
        fallback = fallback_share * 100.0,
        events = line_chart(&events, from, now, None, "events per minute"),
        lists = line_chart(&lists, from, now, None, "lists per minute"),
        hits = line_chart(&hit_rate, from, now, Some(1.0), "share of lists hit"),
        exposure = paired_bars(&rows, "share of served slots", "share of live catalogue"),
        report = offline_report(&live.dir),
    );
    Ok(Html(html))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Bucket;

    #[test]
    fn regrouped_buckets_add_up() {
        let b = |start_ms, events, lists: u64, hits: u64| Bucket {
            start_ms,
            events,
            lists: [("m".to_string(), lists)].into(),
            hits: [("m".to_string(), hits)].into(),
        };
        let got = regroup(
            &[b(0, 1, 2, 1), b(60_000, 3, 4, 0), b(120_000, 5, 6, 6)],
            120_000,
        );
        assert_eq!(got, [b(0, 4, 6, 1), b(120_000, 5, 6, 6)]);
    }
}
