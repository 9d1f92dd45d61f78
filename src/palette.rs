//! One palette for every chart, so a channel has the same colour everywhere and the
//! RAG colours mean the same thing on the page and in the charts.

use plotters::style::RGBColor;

/// The demo's channels and the usual CRM channel names, each with a fixed colour.
/// Unknown channel and series names get a colour from `CATEGORICAL` by a stable hash
/// of the name, so they too keep their colour across charts and runs.
const CHANNELS: &[(&str, RGBColor)] = &[
    ("organic_search", RGBColor(31, 119, 180)),
    ("paid_search", RGBColor(255, 127, 14)),
    ("content", RGBColor(44, 160, 44)),
    ("email", RGBColor(214, 39, 40)),
    ("programmatic", RGBColor(148, 103, 189)),
    ("social", RGBColor(140, 86, 75)),
    ("events", RGBColor(227, 119, 194)),
    ("webinar", RGBColor(188, 189, 34)),
    ("partner", RGBColor(23, 190, 207)),
    ("referral", RGBColor(255, 187, 120)),
    ("direct", RGBColor(152, 223, 138)),
    ("sales_outreach", RGBColor(127, 127, 127)),
    ("(none)", RGBColor(199, 199, 199)),
    ("all", RGBColor(60, 60, 60)),
];

/// Attribution models, one colour each (the rule models in their DESIGN order, then
/// the data-driven one).
const MODELS: &[(&str, RGBColor)] = &[
    ("first_touch", RGBColor(0, 114, 178)),
    ("lead_creation", RGBColor(86, 180, 233)),
    ("last_touch", RGBColor(213, 94, 0)),
    ("linear", RGBColor(153, 153, 153)),
    ("time_decay", RGBColor(204, 121, 167)),
    ("position_based", RGBColor(0, 158, 115)),
    ("w_shaped", RGBColor(230, 159, 0)),
    ("full_path", RGBColor(117, 112, 179)),
    ("markov", RGBColor(33, 37, 41)),
];

/// Colour-blind-safe categorical colours (Okabe-Ito, then Tableau extras).
pub const CATEGORICAL: &[RGBColor] = &[
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
    RGBColor(118, 183, 178),
    RGBColor(156, 117, 95),
];

pub const GREEN: RGBColor = RGBColor(46, 139, 87);
pub const AMBER: RGBColor = RGBColor(230, 159, 0);
pub const RED: RGBColor = RGBColor(200, 50, 50);
pub const GREY: RGBColor = RGBColor(150, 150, 150);
pub const INK: RGBColor = RGBColor(33, 37, 41);
pub const MUTED: RGBColor = RGBColor(108, 117, 125);
pub const GRID: RGBColor = RGBColor(225, 228, 232);
/// Increases and decreases (MRR bridge) and the single-series default.
pub const POSITIVE: RGBColor = RGBColor(0, 114, 178);
pub const NEGATIVE: RGBColor = RGBColor(213, 94, 0);

/// The colour of a channel, attribution model or other series name.
pub fn colour(name: &str) -> RGBColor {
    if let Some((_, c)) = CHANNELS.iter().chain(MODELS).find(|(n, _)| *n == name) {
        return *c;
    }
    // FNV-1a: stable across runs and platforms.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    CATEGORICAL[(hash % CATEGORICAL.len() as u64) as usize]
}

/// The colour of a RAG status.
pub fn status(status: &str) -> RGBColor {
    match status {
        "green" => GREEN,
        "amber" => AMBER,
        "red" => RED,
        _ => GREY,
    }
}

/// CSS `#rrggbb` of a colour, for the HTML report.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// A sequential blue scale for heatmaps, t in [0, 1].
pub fn sequential(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    RGBColor(lerp(239, 8), lerp(243, 69), lerp(255, 148))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_keep_their_colour_and_unknown_names_are_stable() {
        assert_eq!(colour("email"), RGBColor(214, 39, 40));
        assert_eq!(colour("my_channel"), colour("my_channel"));
        assert_eq!(css(RGBColor(255, 0, 16)), "#ff0010");
        assert_eq!(sequential(0.0), RGBColor(239, 243, 255));
        assert_eq!(sequential(1.0), RGBColor(8, 69, 148));
    }
}
