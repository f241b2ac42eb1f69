//! Writes a pipeline [`Report`] as a self-contained HTML page with plots (training curve,
//! cluster sizes, exposure against catalogue share) drawn as inline SVG: open it in any
//! browser, no scripts or network needed.
//!
//! ```text
//! cargo run --release --example pipeline -- --report-json target/report.json
//! cargo run --release --example report_html -- --report target/report.json --out target/report.html
//! cargo run --release --example report_html      # fits a quick demo pipeline first (hashing)
//! ```

mod common;

use std::fmt::Write as _;

use common::arg;
use groundrec::{simulate_learners, DemoLearners, Pipeline, Report};

const W: f64 = 560.0;
const H: f64 = 240.0;
const PAD: f64 = 40.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One plotted series: name, colour and (x, y) points.
type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// A line chart of one or more series over x = 1..n, each scaled to its own maximum.
fn line_chart(title: &str, series: &[Series<'_>]) -> String {
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg width='{W}' height='{H}' viewBox='0 0 {W} {H}'>",
        escape(title)
    );
    let xmax = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let _ = write!(
        svg,
        "<line x1='{PAD}' y1='{y}' x2='{x}' y2='{y}' stroke='#999'/><line x1='{PAD}' y1='{PAD}' x2='{PAD}' y2='{y}' stroke='#999'/>",
        y = H - PAD,
        x = W - PAD / 2.0
    );
    for (i, (name, color, pts)) in series.iter().enumerate() {
        let ymax = pts.iter().map(|p| p.1).fold(f64::MIN_POSITIVE, f64::max);
        let ymin = pts.iter().map(|p| p.1).fold(ymax, f64::min).min(0.0);
        let path: Vec<String> = pts
            .iter()
            .map(|&(x, y)| {
                let px = PAD + (x / xmax) * (W - 1.5 * PAD);
                let py = H - PAD - (y - ymin) / (ymax - ymin).max(1e-12) * (H - 2.0 * PAD);
                format!("{px:.1},{py:.1}")
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline fill='none' stroke='{color}' stroke-width='2' points='{}'/>",
            path.join(" ")
        );
        for p in &path {
            let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(svg, "<circle cx='{x}' cy='{y}' r='2.5' fill='{color}'/>");
        }
        let _ = write!(
            svg,
            "<text x='{}' y='{}' fill='{color}' font-size='12'>{} (max {:.4})</text>",
            PAD + 10.0,
            16.0 + 14.0 * i as f64,
            escape(name),
            ymax
        );
    }
    let _ = write!(
        svg,
        "<text x='{}' y='{}' font-size='11'>epoch</text></svg></figure>",
        W / 2.0,
        H - 8.0
    );
    svg
}

/// Grouped bars: one group per label, one bar per series (values in [0, max]).
fn bar_chart(title: &str, labels: &[String], series: &[(&str, &str, Vec<f64>)]) -> String {
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg width='{W}' height='{H}' viewBox='0 0 {W} {H}'>",
        escape(title)
    );
    let max = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .fold(f64::MIN_POSITIVE, f64::max);
    let group = (W - 1.5 * PAD) / labels.len().max(1) as f64;
    let bar = group * 0.8 / series.len().max(1) as f64;
    for (g, label) in labels.iter().enumerate() {
        for (s, (_, color, values)) in series.iter().enumerate() {
            let v = values.get(g).copied().unwrap_or(0.0);
            let h = v / max * (H - 2.0 * PAD);
            let x = PAD + g as f64 * group + s as f64 * bar;
            let _ = write!(
                svg,
                "<rect x='{x:.1}' y='{:.1}' width='{:.1}' height='{h:.1}' fill='{color}'><title>{}: {v:.4}</title></rect>",
                H - PAD - h,
                bar * 0.95,
                escape(label)
            );
        }
        let _ = write!(
            svg,
            "<text x='{:.1}' y='{}' font-size='11' text-anchor='middle'>{}</text>",
            PAD + g as f64 * group + group * 0.4,
            H - PAD + 14.0,
            escape(label)
        );
    }
    for (i, (name, color, _)) in series.iter().enumerate() {
        let _ = write!(
            svg,
            "<text x='{}' y='{}' fill='{color}' font-size='12'>{}</text>",
            PAD + 10.0,
            16.0 + 14.0 * i as f64,
            escape(name)
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

fn html(report: &Report) -> String {
    let loss: Vec<(f64, f64)> = report
        .training
        .iter()
        .map(|e| (e.epoch as f64, e.loss))
        .collect();
    let valid: Vec<(f64, f64)> = report
        .training
        .iter()
        .filter_map(|e| {
            let v = e.valid.as_ref()?.full?;
            Some((e.epoch as f64, v.ndcg))
        })
        .collect();
    let labels: Vec<String> = report
        .clusters
        .iter()
        .map(|c| c.cluster.to_string())
        .collect();
    let mut page = String::from(
        "<!doctype html><html><head><meta charset='utf-8'><title>groundrec report</title>\
         <style>body{font-family:'Noto Sans CJK KR','Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif;max-width:60em;margin:2em auto}figure{display:inline-block;margin:1em}\
         table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
         td.l{text-align:left}</style></head><body><h1>groundrec pipeline report</h1>",
    );
    let _ = write!(
        page,
        "<p>{} items, {} users, {} training events, {} clusters; coverage {:.3}, intra-list diversity {:.3}, \
         cold items recommended {}/{}.</p>",
        report.items,
        report.users,
        report.train_events,
        report.clusters.len(),
        report.coverage,
        report.intra_list_diversity,
        report.cold_items_recommended,
        report.cold_items
    );
    if let Some(h) = &report.holdout {
        let _ = write!(
            page,
            "<h2>Held-out last events ({} users, full ranking)</h2><table><tr><th></th><th>HR@10</th><th>NDCG@10</th></tr>",
            h.users
        );
        for (name, m) in [
            ("recommender", h.model),
            ("final lists (fair)", h.lists),
            ("popularity", h.popularity),
        ] {
            let _ = write!(
                page,
                "<tr><td class='l'>{name}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                m.hr_at_10, m.ndcg_at_10
            );
        }
        page.push_str("</table>");
    }
    page.push_str("<h2>Training</h2>");
    page.push_str(&line_chart(
        "training loss and validation NDCG@10 per epoch",
        &[
            ("loss", "#c0392b", loss),
            ("validation NDCG@10 (full)", "#2874a6", valid),
        ],
    ));
    page.push_str("<h2>Clusters</h2>");
    page.push_str(&bar_chart(
        "cluster sizes (items)",
        &labels,
        &[(
            "items",
            "#7d3c98",
            report.clusters.iter().map(|c| c.items as f64).collect(),
        )],
    ));
    page.push_str(&bar_chart(
        "exposure share of list slots vs share of the catalogue",
        &labels,
        &[
            (
                "exposure",
                "#d35400",
                report.clusters.iter().map(|c| c.exposure_share).collect(),
            ),
            (
                "catalogue",
                "#229954",
                report.clusters.iter().map(|c| c.catalogue_share).collect(),
            ),
        ],
    ));
    page.push_str("<table><tr><th>cluster</th><th>items</th><th>keywords</th></tr>");
    for c in &report.clusters {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td class='l'>{}</td></tr>",
            c.cluster,
            c.items,
            escape(&c.keywords.join(", "))
        );
    }
    page.push_str("</table><h2>Timings</h2><table>");
    for t in &report.timings {
        let _ = write!(
            page,
            "<tr><td class='l'>{}</td><td>{:.2} s</td></tr>",
            escape(&t.step),
            t.seconds
        );
    }
    page.push_str("</table></body></html>\n");
    page
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let report: Report = match arg("--report") {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => {
            let catalog = common::demo_catalog()?;
            let log = simulate_learners(&catalog, &DemoLearners::default());
            let pipeline = Pipeline::builder()
                .hashing(256)
                .sasrec(Pipeline::sasrec_defaults().epochs(30))
                .check()?;
            pipeline.fit(&catalog, &log.events)?.1
        }
    };
    let out = arg("--out").unwrap_or_else(|| "target/report.html".into());
    std::fs::write(&out, html(&report))?;
    println!("wrote {out}");
    Ok(())
}
