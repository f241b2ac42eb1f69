//! Inline SVG charts with labelled axes: the dashboard needs no script and no external asset.

use std::fmt::Write;

/// Escapes text for HTML and SVG.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLOURS: [&str; 6] = [
    "#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2",
];
const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// A named series of (time in ms, value) points.
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) points: Vec<(i64, f64)>,
}

fn clock(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (h, m) = (
        secs.div_euclid(3600).rem_euclid(24),
        secs.div_euclid(60).rem_euclid(60),
    );
    format!("{h:02}:{m:02}")
}

/// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

fn tick_label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A line chart of `series` between `from_ms` and `to_ms`; `y_max` fixes the axis (else it
/// fits the data). Axis values: four y ticks and five times of day (UTC) on x.
pub(crate) fn line_chart(
    series: &[Series],
    from_ms: i64,
    to_ms: i64,
    y_max: Option<f64>,
    unit: &str,
) -> String {
    let span = (to_ms - from_ms).max(1) as f64;
    let data_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let top = y_max.unwrap_or_else(|| nice_max(data_max));
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |t: i64| LEFT + (t - from_ms) as f64 / span * pw;
    let y = |v: f64| TOP + ph - (v / top).clamp(0.0, 1.0) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">"#
    );
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            tick_label(v)
        );
    }
    for i in 0..=4 {
        let t = from_ms + (span * f64::from(i) / 4.0) as i64;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"#,
            x(t),
            H - BOTTOM + 16.0,
            clock(t)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end" class="tick">time (UTC) · {}</text>"#,
        W - RIGHT,
        H - 4.0,
        esc(unit)
    );
    for (k, ser) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let pts: Vec<String> = ser
            .points
            .iter()
            .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
            .collect();
        if pts.len() == 1 {
            let _ = write!(
                s,
                r#"<circle cx="{}" r="3" fill="{colour}"/>"#,
                pts[0].replace(',', "\" cy=\"")
            );
        } else if !pts.is_empty() {
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                pts.join(" ")
            );
        }
        let _ = write!(
            s,
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}" class="legend">{}</text>"#,
            LEFT + 8.0 + 150.0 * k as f64,
            TOP,
            LEFT + 22.0 + 150.0 * k as f64,
            TOP + 9.0,
            esc(&ser.name)
        );
    }
    if series.iter().all(|s| s.points.is_empty()) {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" class="empty">no data yet</text>"#,
            W / 2.0,
            H / 2.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Paired horizontal bars: for each row, the served share beside the catalogue share, with
/// a scale along the bottom.
pub(crate) fn paired_bars(rows: &[(String, f64, f64)], left: &str, right: &str) -> String {
    let row_h = 26.0;
    let label_w = 260.0;
    let h = TOP + row_h * rows.len() as f64 + 40.0;
    let top = nice_max(rows.iter().map(|r| r.1.max(r.2)).fold(0.0, f64::max));
    let pw = W + 120.0 - label_w - RIGHT;
    let x = |v: f64| label_w + (v / top).clamp(0.0, 1.0) * pw;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg viewBox="0 0 {} {h}" width="{}" height="{h}" role="img">"#,
        W + 120.0,
        W + 120.0
    );
    for (i, (label, a, b)) in rows.iter().enumerate() {
        let y0 = TOP + row_h * i as f64;
        // About 40 characters fit left of the bars.
        let label = if label.chars().count() > 40 {
            format!("{}…", label.chars().take(39).collect::<String>())
        } else {
            label.clone()
        };
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" text-anchor="end" class="label">{}</text><rect x="{label_w}" y="{:.1}" width="{:.1}" height="9" fill="#2563eb"/><rect x="{label_w}" y="{:.1}" width="{:.1}" height="9" fill="#9ca3af"/>"##,
            label_w - 8.0,
            y0 + 13.0,
            esc(&label),
            y0 + 2.0,
            x(*a) - label_w,
            y0 + 12.0,
            x(*b) - label_w
        );
    }
    let base = TOP + row_h * rows.len() as f64 + 4.0;
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{base}" stroke="#e5e7eb"/><text x="{0:.1}" y="{1}" text-anchor="middle" class="tick">{2:.0}%</text>"##,
            x(v),
            base + 14.0,
            v * 100.0
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{label_w}" y="{0}" width="10" height="10" fill="#2563eb"/><text x="{1}" y="{2}" class="legend">{3}</text><rect x="{4}" y="{0}" width="10" height="10" fill="#9ca3af"/><text x="{5}" y="{2}" class="legend">{6}</text>"##,
        base + 22.0,
        label_w + 14.0,
        base + 31.0,
        esc(left),
        label_w + 200.0,
        label_w + 214.0,
        esc(right)
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_labelled_and_text_is_escaped() {
        let s = line_chart(
            &[Series {
                name: "<a&b>".into(),
                points: vec![(0, 3.0), (60_000, 7.0)],
            }],
            0,
            120_000,
            None,
            "events/min",
        );
        assert!(
            s.contains(">10.0<") && s.contains(">00:02<") && s.contains("&lt;a&amp;b&gt;"),
            "{s}"
        );
        assert!(!s.contains("<a&b>"));
        let empty = line_chart(&[], 0, 1, Some(1.0), "x");
        assert!(empty.contains("no data yet") && empty.contains(">0.25<"));
        let bars = paired_bars(&[("분수".into(), 0.3, 0.2)], "served", "catalogue");
        assert!(bars.contains("분수") && bars.contains(">50%<"), "{bars}");
    }

    #[test]
    fn nice_bounds() {
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(0.3), 0.5);
        assert_eq!(nice_max(120.0), 200.0);
        assert_eq!(nice_max(0.0), 1.0);
    }
}
