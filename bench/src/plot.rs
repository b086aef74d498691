//! Latency against payload size, one line per system and case, drawn with
//! `plotters` to `latest.svg` and `latest.png` (log-log: payload size
//! against the round trip's median).
//!
//! Text is laid out with a TrueType font read at run time (plotters'
//! pure-Rust `ab_glyph` renderer, so no fontconfig or freetype is linked):
//! `ICEFLOE_BENCH_FONT`, else DejaVu Sans or Liberation Sans where Debian,
//! Fedora and Arch put them. `ci/bench` installs `fonts-dejavu-core` when
//! none is there.

use crate::stats::Summary;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const SIZES: [(u64, &str); 5] =
    [(8, "8 B"), (4096, "4 KiB"), (65536, "64 KiB"), (1 << 20, "1 MiB"), (16 << 20, "16 MiB")];

/// Case name pattern (`{}` = size), legend label, colour, whether dashed.
const SERIES: [(&str, &str, RGBColor, bool); 7] = [
    ("icefloe pub-sub {} untouched", "icefloe pub-sub, untouched", RGBColor(31, 119, 180), false),
    ("iceoryx2 pub-sub {} untouched", "iceoryx2 pub-sub, untouched", RGBColor(255, 127, 14), false),
    ("icefloe pub-sub {} touched", "icefloe pub-sub, touched", RGBColor(31, 119, 180), true),
    ("iceoryx2 pub-sub {} touched", "iceoryx2 pub-sub, touched", RGBColor(255, 127, 14), true),
    ("icefloe request-response {}", "icefloe request-response", RGBColor(44, 160, 44), false),
    ("iceoryx2 request-response {}", "iceoryx2 request-response", RGBColor(214, 39, 40), false),
    ("unix socket {}", "Unix socket", RGBColor(127, 127, 127), false),
];

const FONT_PATHS: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers the first font found as plotters' "sans-serif".
fn register_font() -> Result<(), String> {
    let chosen = std::env::var("ICEFLOE_BENCH_FONT").ok();
    let paths = chosen.iter().map(String::as_str).chain(FONT_PATHS);
    for path in paths {
        if let Ok(bytes) = std::fs::read(path) {
            // plotters keeps fonts for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            return plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| format!("{path} is not a TrueType font"));
        }
    }
    Err(format!(
        "no TrueType font found (set ICEFLOE_BENCH_FONT, or install fonts-dejavu-core); looked in {}",
        FONT_PATHS.join(", ")
    ))
}

/// The points of one series: (payload bytes, round trip p50 in ns).
fn points(all: &[(String, Summary)], pattern: &str) -> Vec<(f64, f64)> {
    SIZES
        .iter()
        .filter_map(|&(bytes, label)| {
            let name = pattern.replace("{}", label);
            // 8 B has no touched case (the sequence number is the payload):
            // the untouched one stands for it.
            let name = if label == "8 B" { name.replace(" touched", " untouched") } else { name };
            let s = all.iter().find(|(n, _)| *n == name).map(|(_, s)| s)?;
            (s.p50 > 0).then_some((bytes as f64, s.p50 as f64))
        })
        .collect()
}

fn size_label(bytes: f64) -> String {
    let b = bytes.round() as u64;
    match b {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

fn time_label(ns: f64) -> String {
    match ns {
        v if v >= 1e6 => format!("{} ms", v / 1e6),
        v if v >= 1e3 => format!("{} µs", v / 1e3),
        v => format!("{v} ns"),
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    all: &[(String, Summary)],
    title: &str,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let series: Vec<_> = SERIES.iter().map(|s| (s, points(all, s.0))).filter(|(_, p)| !p.is_empty()).collect();
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|&(_, y)| y));
    let (lo, hi) = ys.fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    if lo > hi {
        return Err("no payload-size cases in this run".into());
    }
    // Whole decades, so that the grid lines fall on 100 ns, 1 µs, …
    let (y0, y1) = (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil()));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(42)
        .y_label_area_size(72)
        .build_cartesian_2d(
            // Grid lines and labels at the measured sizes.
            (5f64..(26u64 << 20) as f64).log_scale().with_key_points(SIZES.iter().map(|s| s.0 as f64).collect()),
            (y0..y1).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("payload size")
        .y_desc("round trip, median")
        .x_label_formatter(&|v| size_label(*v))
        .y_label_formatter(&|v| time_label(*v))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for ((_, label, color, dashed), pts) in series {
        let style = color.stroke_width(2);
        let drawn = if *dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style)).map_err(err)?
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style)).map_err(err)?
        };
        let dashed = *dashed;
        drawn.label(*label).legend(move |(x, y)| {
            let end = if dashed { x + 8 } else { x + 22 };
            PathElement::new(vec![(x, y), (end, y)], color.stroke_width(2))
        });
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Writes `latest.svg` and `latest.png` into `dir`.
pub fn write(all: &[(String, Summary)], title: &str, dir: &Path) -> Result<(), String> {
    register_font()?;
    let size = (960, 600);
    draw(SVGBackend::new(&dir.join("latest.svg"), size).into_drawing_area(), all, title)?;
    draw(BitMapBackend::new(&dir.join("latest.png"), size).into_drawing_area(), all, title)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(p50: u64) -> Summary {
        Summary { p50, p99: p50 * 2, n: 10, heap: None }
    }

    #[test]
    fn writes_both_files_with_every_series() {
        // `ci/test` and `ci/bench` install fonts-dejavu-core when missing.
        register_font().unwrap();
        let mut all = Vec::new();
        for (k, (_, label)) in SIZES.iter().enumerate() {
            for (i, (pattern, ..)) in SERIES.iter().enumerate() {
                all.push((pattern.replace("{}", label), summary(300 * (i as u64 + 1) * (k as u64 + 1))));
            }
        }
        let dir = std::env::temp_dir().join(format!("icefloe-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write(&all, "test plot", &dir).unwrap();
        let svg = std::fs::read_to_string(dir.join("latest.svg")).unwrap();
        for (_, label, ..) in SERIES {
            assert!(svg.contains(label), "legend lacks {label}");
        }
        assert!(svg.contains("16 MiB") && svg.contains("µs"), "axis labels missing");
        let png = std::fs::read(dir.join("latest.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png.len() > 10_000, "a {} byte PNG is too small for the plot", png.len());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
