//! Latency against payload size, one line per system, as an SVG file
//! (drawn by hand: log-scaled axes, lines, markers, a legend).

use crate::stats::Summary;
use std::fmt::Write;

const SIZES: [(u64, &str); 5] =
    [(8, "8 B"), (4096, "4 KiB"), (65536, "64 KiB"), (1 << 20, "1 MiB"), (16 << 20, "16 MiB")];

/// The SVG for the publish-subscribe cases of `all` (round trip p50).
pub fn svg(all: &[(String, Summary)], title: &str) -> String {
    let series: [(&str, &str, &str); 5] = [
        ("icefloe pub-sub {} untouched", "icefloe, untouched", "#1f77b4"),
        ("iceoryx2 pub-sub {} untouched", "iceoryx2, untouched", "#ff7f0e"),
        ("icefloe pub-sub {} touched", "icefloe, touched", "#2ca02c"),
        ("iceoryx2 pub-sub {} touched", "iceoryx2, touched", "#d62728"),
        ("unix socket {}", "Unix socket", "#7f7f7f"),
    ];
    let find = |pattern: &str, size: &str| {
        let name = pattern.replace("{}", size);
        // 8 B has no touched case: the untouched one stands for it.
        let name = if size == "8 B" { name.replace(" touched", " untouched") } else { name };
        all.iter().find(|(n, _)| *n == name).map(|(_, s)| s.p50).filter(|&v| v > 0)
    };
    let points: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|(p, _, _)| {
            SIZES
                .iter()
                .filter_map(|(b, label)| find(p, label).map(|ns| ((*b as f64).log2(), (ns as f64).log10())))
                .collect()
        })
        .collect();
    let ys: Vec<f64> = points.iter().flatten().map(|p| p.1).collect();
    let (ymin, ymax) = (
        ys.iter().copied().fold(f64::MAX, f64::min).floor(),
        ys.iter().copied().fold(f64::MIN, f64::max).ceil().max(1.0),
    );
    let (w, h, left, right, top, bottom) = (760.0, 460.0, 80.0, 200.0, 40.0, 50.0);
    let (xmin, xmax) = (3.0f64, 24.0f64);
    let x = |v: f64| left + (v - xmin) / (xmax - xmin) * (w - left - right);
    let y = |v: f64| top + (ymax - v) / (ymax - ymin).max(1.0) * (h - top - bottom);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{left}" y="22" font-size="14">{title}</text>"#);
    // Axes, grid and labels.
    let _ = writeln!(
        s,
        r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>"#,
        h - bottom,
        w - right,
        h - bottom,
        h - bottom
    );
    for (b, label) in SIZES {
        let px = x((b as f64).log2());
        let _ = writeln!(s, r##"<line x1="{px}" y1="{top}" x2="{px}" y2="{}" stroke="#dddddd"/>"##, h - bottom);
        let _ = writeln!(s, r#"<text x="{px}" y="{}" text-anchor="middle">{label}</text>"#, h - bottom + 18.0);
    }
    let mut e = ymin as i32;
    while f64::from(e) <= ymax {
        let py = y(f64::from(e));
        let label = match e {
            ..=2 => format!("{} ns", 10f64.powi(e)),
            3..=5 => format!("{} µs", 10f64.powi(e - 3)),
            _ => format!("{} ms", 10f64.powi(e - 6)),
        };
        let _ = writeln!(s, r##"<line x1="{left}" y1="{py}" x2="{}" y2="{py}" stroke="#dddddd"/>"##, w - right);
        let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="end">{label}</text>"#, left - 6.0, py + 4.0);
        e += 1;
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">payload size</text>"#,
        (left + w - right) / 2.0,
        h - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{}" transform="rotate(-90 16 {})" text-anchor="middle">round trip, p50</text>"#,
        (top + h - bottom) / 2.0,
        (top + h - bottom) / 2.0
    );
    // Series and legend.
    for (i, ((_, label, color), pts)) in series.iter().zip(&points).enumerate() {
        let path: Vec<String> = pts.iter().map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b))).collect();
        let _ = writeln!(s, r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#, path.join(" "));
        for (a, b) in pts {
            let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#, x(*a), y(*b));
        }
        let ly = top + 20.0 * i as f64 + 10.0;
        let lx = w - right + 16.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"/>"#,
            lx + 24.0
        );
        let _ = writeln!(s, r#"<text x="{}" y="{}">{label}</text>"#, lx + 30.0, ly + 4.0);
    }
    s.push_str("</svg>\n");
    s
}
