//! Bar charts as inline SVG, laid out here so templates only place rectangles: no script, no
//! chart library, readable by screen readers (each bar has a title; each chart has a table).

/// The drawing's size (the SVG scales to its box).
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
/// Room above the tallest bar.
const HEADROOM: f64 = 0.9;

/// One bar.
pub struct Bar {
    /// Left edge.
    pub x: String,
    /// Top edge.
    pub y: String,
    /// Width.
    pub w: String,
    /// Height.
    pub h: String,
    /// What the bar shows, e.g. `Dec 3: 12.00 USD`.
    pub label: String,
}

/// A bar chart.
pub struct Chart {
    /// Heading and accessible name.
    pub title: String,
    /// `0 0 600 160`.
    pub view_box: String,
    /// Bars, left to right.
    pub bars: Vec<Bar>,
    /// The largest value, formatted (the axis note).
    pub max_label: String,
}

/// A chart of `values` (labelled by `labels`), formatting each value with `format`.
pub fn bars(title: &str, labels: &[String], values: &[i64], format: impl Fn(i64) -> String) -> Chart {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let slot = WIDTH / values.len().max(1) as f64;
    let width = (slot * 0.8).max(1.0);
    let bars = values
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (&value, label))| {
            let height = (value.max(0) as f64 / max as f64) * HEIGHT * HEADROOM;
            Bar {
                x: format!("{:.1}", i as f64 * slot + (slot - width) / 2.0),
                y: format!("{:.1}", HEIGHT - height),
                w: format!("{width:.1}"),
                h: format!("{height:.1}"),
                label: format!("{label}: {}", format(value)),
            }
        })
        .collect();
    Chart {
        title: title.to_string(),
        view_box: format!("0 0 {WIDTH} {HEIGHT}"),
        bars,
        max_label: format(values.iter().copied().max().unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tallest_bar_fills_most_of_the_height() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let chart = super::bars("t", &labels, &[5, 10], |v| v.to_string());
        assert_eq!(chart.bars[1].h, "144.0");
        assert_eq!(chart.bars[0].h, "72.0");
        assert_eq!(chart.bars[1].label, "b: 10");
        let empty = super::bars("t", &[], &[], |v| v.to_string());
        assert!(empty.bars.is_empty());
    }
}
