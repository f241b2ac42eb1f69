//! The offline report of a fit as HTML: `report.html` beside the artifacts, and the last
//! section of the dashboard. One renderer for both.

use std::fmt::Write;

use groundrec::Report;

use super::svg::{esc, paired_bars};

/// Fonts that carry Hangul first, so Korean keywords never come out as empty boxes.
pub(crate) const FONTS: &str = "\"Noto Sans CJK KR\", \"Noto Sans KR\", \"Apple SD Gothic Neo\", \"Malgun Gothic\", \"Noto Sans\", \"DejaVu Sans\", sans-serif";

/// Styles shared by the report page and the dashboard.
pub(crate) fn style() -> String {
    format!(
        "body {{ font-family: {FONTS}; margin: 24px; color: #111827; max-width: 1000px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 16px; margin-top: 28px; }}
.tick, .legend, .label {{ font-size: 11px; fill: #374151; }} .empty {{ font-size: 13px; fill: #9ca3af; }}
table {{ border-collapse: collapse; font-size: 13px; }} td, th {{ border-bottom: 1px solid #e5e7eb; padding: 4px 10px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
.figures span {{ display: inline-block; margin-right: 28px; font-size: 14px; }} .figures b {{ font-size: 20px; display: block; }}"
    )
}

/// The report's figures, tables and cluster exposure chart (an HTML fragment).
pub(crate) fn report_section(r: &Report) -> String {
    let mut s = String::new();
    if !r.embedder.is_empty() {
        let _ = write!(s, "<p>Embedder: {}</p>", esc(&r.embedder));
    }
    match &r.holdout {
        Some(h) => {
            s.push_str(
                "<table><tr><th>held-out last event</th><th>HR@10</th><th>NDCG@10</th></tr>",
            );
            for (name, m) in [
                ("recommender", h.model),
                ("final lists", h.lists),
                ("popularity", h.popularity),
            ] {
                let _ = write!(
                    s,
                    "<tr><td>{name}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                    m.hr_at_10, m.ndcg_at_10
                );
            }
            let _ = write!(
                s,
                "</table><p>{} users held out; {} of their held-out items were in their history already.</p>",
                h.users, h.repeated_targets
            );
        }
        None => s.push_str("<p>Fitted without a holdout: no held-out figures.</p>"),
    }
    let ari = r
        .category_agreement
        .map_or_else(|| "–".into(), |a| format!("{a:.3}"));
    let _ = write!(
        s,
        "<div class=\"figures\"><span><b>{}</b>items</span><span><b>{}</b>users</span><span><b>{}</b>training events</span>\
         <span><b>{:.3}</b>coverage</span><span><b>{:.3}</b>intra-list diversity</span><span><b>{ari}</b>clusters vs categories (ARI)</span>\
         <span><b>{}/{}</b>cold items listed</span></div>",
        r.items, r.users, r.train_events, r.coverage, r.intra_list_diversity, r.cold_items_recommended, r.cold_items
    );
    let rows: Vec<(String, f64, f64)> = r
        .clusters
        .iter()
        .map(|c| {
            let words: Vec<&str> = c.keywords.iter().take(3).map(String::as_str).collect();
            (
                format!("{}: {}", c.cluster, words.join(", ")),
                c.exposure_share,
                c.catalogue_share,
            )
        })
        .collect();
    s.push_str("<h2>Cluster exposure in the report's lists against catalogue share</h2>");
    s.push_str(&paired_bars(
        &rows,
        "share of list slots",
        "share of catalogue",
    ));
    s.push_str("<h2>Timings</h2><table><tr><th>step</th><th>seconds</th></tr>");
    for t in &r.timings {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:.2}</td></tr>",
            esc(&t.step),
            t.seconds
        );
    }
    let _ = write!(
        s,
        "</table><p>Training: {} epochs, weights of epoch {} kept{}.</p>",
        r.training.len(),
        r.best_epoch,
        r.loss
            .map(|l| format!(", {}", esc(&l.to_string())))
            .unwrap_or_default()
    );
    s
}

/// A whole page for a fit's report (no script, no external asset).
pub fn report_html(report: &Report, model_id: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>groundrec report · {id}</title>\
         <style>{style}</style></head><body><h1>groundrec report · model {id}</h1>{body}</body></html>",
        id = esc(model_id),
        style = style(),
        body = report_section(report)
    )
}
