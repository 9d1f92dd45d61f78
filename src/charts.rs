//! Charts of the monthly report, drawn with plotters as SVG and PNG.
//!
//! What to chart lives in `reports/charts.toml` (embedded; `--reports DIR` reads
//! `DIR/charts.toml`): per chart a kind, a SQL query over the run's tables returning
//! the columns that kind draws, axis labels with units, the report section and a short
//! "how to read this". An analyst adds a chart by editing TOML. Text is drawn with the
//! DejaVu Sans font compiled into the binary, so no system font is needed; colours come
//! from [`crate::palette`]. A chart whose table is empty or skipped renders an explicit
//! "no data" panel.
//!
//! Kinds and the columns their SQL returns (in the order the rows should appear):
//! - `bars`: `x` (category), `y`, optional `series` (grouped bars) and `label` (text
//!   above the bar);
//! - `hbars`: the same, horizontal (long category names);
//! - `lines`: `x` (category, e.g. a month), `y`, optional `series`; `marks` in the
//!   TOML draws vertical guides at those x values;
//! - `waterfall`: `x` (step), `y` (signed change; for `total` rows the level), `total`
//!   (boolean: a bar from zero);
//! - `heatmap`: `row`, `x` (column), `y` (value in [0, 1] for the colour scale);
//! - `tiles`: `label`, `y` (actual), `target`, `unit`, `status` (RAG).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::palette;
use crate::query::sql_identifiers;
use crate::scorecard::{format_value, Section, Unit};

/// Pixel size of every chart (PNG; the SVG has the same view box).
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 520;
const FONT: &str = "sans-serif";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bars,
    Hbars,
    Lines,
    Waterfall,
    Heatmap,
    Tiles,
}

/// One chart of `reports/charts.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    pub key: String,
    pub title: String,
    /// Where the chart appears: marketing | sales | customer_success | shared (an
    /// unknown section is a load error, not a chart silently left off the page).
    pub section: Section,
    pub kind: Kind,
    pub sql: String,
    #[serde(default)]
    pub x_label: String,
    #[serde(default)]
    pub y_label: String,
    /// Unit of `y`: count | currency | ratio | multiple | days | months.
    #[serde(default = "default_unit")]
    pub unit: Unit,
    /// `lines`: x values to mark with a vertical guide.
    #[serde(default)]
    pub marks: Vec<String>,
    /// Facts of `coverage` the chart needs; unmet, it shows why instead of data.
    #[serde(default)]
    pub needs: Vec<String>,
    pub how_to_read: String,
}

fn default_unit() -> Unit {
    Unit::Count
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartCatalogue {
    #[serde(rename = "chart")]
    pub charts: Vec<ChartSpec>,
    /// The file the catalogue was read from (named in chart errors).
    #[serde(skip)]
    pub source: PathBuf,
}

impl ChartCatalogue {
    /// `DIR/charts.toml` when given and present, else the embedded catalogue.
    pub fn load(dir: Option<&Path>) -> Result<(PathBuf, ChartCatalogue)> {
        let (path, text) = crate::catalog::report_file(dir, "charts.toml")?;
        let mut catalogue: ChartCatalogue = toml::from_str(&text).map_err(|e| Error::Config {
            file: path.clone(),
            message: e.to_string(),
        })?;
        catalogue.source = path.clone();
        let mut seen = std::collections::BTreeSet::new();
        for c in &catalogue.charts {
            // The key names the chart's files (charts/<key>.png): no path may hide in it.
            if !crate::query::is_safe_name(&c.key) {
                return Err(Error::Config {
                    file: path.clone(),
                    message: format!(
                        "chart key `{}` must match ^[a-z0-9_]+$ (it names the chart's files)",
                        c.key
                    ),
                });
            }
            crate::coverage::check_needs(&c.needs).map_err(|m| Error::Config {
                file: path.clone(),
                message: format!("chart `{}`: {m}", c.key),
            })?;
            if !seen.insert(c.key.as_str()) {
                return Err(Error::Config {
                    file: path.clone(),
                    message: format!("chart key `{}` appears twice", c.key),
                });
            }
        }
        Ok((path, catalogue))
    }
}

/// A rendered chart.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub spec: ChartSpec,
    pub svg: String,
    pub png: Vec<u8>,
    /// Why the chart shows a "no data" panel, if it does.
    pub no_data: Option<String>,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are valid TrueType; a failure here is a build defect.
        plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../assets/fonts/DejaVuSans.ttf"),
        )
        .map_err(|_| ())
        .expect("embedded DejaVu Sans");
        plotters::style::register_font(
            FONT,
            FontStyle::Bold,
            include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf"),
        )
        .map_err(|_| ())
        .expect("embedded DejaVu Sans Bold");
    });
}

/// Run every chart's SQL in `ctx` and draw it. A chart whose needs `coverage` does not
/// meet, or that reads a table in `skipped` (table -> why it was skipped), shows why
/// it has no data instead.
pub async fn render_all(
    ctx: &SessionContext,
    catalogue: &ChartCatalogue,
    coverage: &crate::coverage::Coverage,
    skipped: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<Rendered>> {
    register_font();
    let mut out = Vec::with_capacity(catalogue.charts.len());
    for spec in &catalogue.charts {
        let mut missing = coverage.unmet(&spec.needs);
        for why in sql_identifiers(&spec.sql)
            .iter()
            .filter_map(|t| skipped.get(t.as_str()))
            .flatten()
        {
            if !missing.contains(why) {
                missing.push(why.clone());
            }
        }
        let data = if missing.is_empty() {
            // Chart SQL comes from a user-editable catalogue: read-only.
            let sql_error = |e: datafusion::error::DataFusionError| {
                Error::Report(format!(
                    "chart `{}` ({}): {e}",
                    spec.key,
                    catalogue.source.display()
                ))
            };
            let batches = crate::engine::read_only_sql(ctx, &spec.sql)
                .await
                .map_err(sql_error)?
                .collect()
                .await
                .map_err(sql_error)?;
            Some(match batches.first() {
                Some(first) => concat_batches(&first.schema(), &batches)?,
                None => RecordBatch::new_empty(std::sync::Arc::new(
                    datafusion::arrow::datatypes::Schema::empty(),
                )),
            })
        } else {
            None
        };
        let no_data = match &data {
            None => Some(crate::coverage::not_measurable(&missing)),
            Some(b) if b.num_rows() == 0 => Some("no data for this month".to_string()),
            Some(_) => None,
        };
        let table = match (&data, &no_data) {
            (Some(b), None) => Some(Table::from_batch(spec, b)?),
            _ => None,
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            draw(&root, spec, table.as_ref(), no_data.as_deref())
                .map_err(|e| chart_error(spec, e))?;
            root.present().map_err(|e| chart_error(spec, e))?;
        }
        let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
            draw(&root, spec, table.as_ref(), no_data.as_deref())
                .map_err(|e| chart_error(spec, e))?;
            root.present().map_err(|e| chart_error(spec, e))?;
        }
        out.push(Rendered {
            spec: spec.clone(),
            svg,
            png: encode_png(&rgb)?,
            no_data,
        });
    }
    Ok(out)
}

fn chart_error(spec: &ChartSpec, e: impl std::fmt::Display) -> Error {
    Error::Report(format!("chart `{}`: {e}", spec.key))
}

fn encode_png(rgb: &[u8]) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| Error::Report(format!("png: {e}")))?;
        writer
            .write_image_data(rgb)
            .map_err(|e| Error::Report(format!("png: {e}")))?;
    }
    Ok(bytes)
}

/// The columns a chart draws, read from its query result.
struct Table {
    x: Vec<String>,
    y: Vec<Option<f64>>,
    series: Option<Vec<String>>,
    label: Option<Vec<String>>,
    total: Option<Vec<bool>>,
    row: Option<Vec<String>>,
    target: Option<Vec<Option<f64>>>,
    unit: Option<Vec<String>>,
    status: Option<Vec<String>>,
}

fn numbers(batch: &RecordBatch, name: &str) -> Result<Option<Vec<Option<f64>>>> {
    let Some(col) = batch.column_by_name(name) else {
        return Ok(None);
    };
    let f = cast(col, &DataType::Float64)?;
    let f = f.as_primitive::<Float64Type>();
    Ok(Some(
        (0..f.len())
            .map(|i| f.is_valid(i).then(|| f.value(i)).filter(|v| v.is_finite()))
            .collect(),
    ))
}

fn strings(batch: &RecordBatch, name: &str) -> Result<Option<Vec<String>>> {
    let Some(col) = batch.column_by_name(name) else {
        return Ok(None);
    };
    let s = cast(col, &DataType::Utf8)?;
    let s = s.as_string::<i32>();
    Ok(Some(
        (0..s.len())
            .map(|i| {
                if s.is_valid(i) {
                    s.value(i).to_string()
                } else {
                    String::new()
                }
            })
            .collect(),
    ))
}

impl Table {
    fn from_batch(spec: &ChartSpec, b: &RecordBatch) -> Result<Table> {
        let need = |name: &str| -> Result<()> {
            if b.column_by_name(name).is_none() {
                return Err(chart_error(
                    spec,
                    format!("the query returns no column `{name}`"),
                ));
            }
            Ok(())
        };
        let y = numbers(b, "y")?.unwrap_or_else(|| vec![None; b.num_rows()]);
        match spec.kind {
            Kind::Tiles => {
                for c in ["label", "y", "target", "unit", "status"] {
                    need(c)?;
                }
            }
            Kind::Heatmap => {
                for c in ["row", "x", "y"] {
                    need(c)?;
                }
            }
            Kind::Waterfall => {
                for c in ["x", "y", "total"] {
                    need(c)?;
                }
            }
            _ => {
                need("x")?;
                need("y")?;
            }
        }
        let total = match b.column_by_name("total") {
            Some(col) => {
                let t = cast(col, &DataType::Boolean)?;
                let t = t.as_boolean();
                Some((0..t.len()).map(|i| t.is_valid(i) && t.value(i)).collect())
            }
            None => None,
        };
        Ok(Table {
            x: strings(b, "x")?.unwrap_or_default(),
            y,
            series: strings(b, "series")?,
            label: strings(b, "label")?,
            total,
            row: strings(b, "row")?,
            target: numbers(b, "target")?,
            unit: strings(b, "unit")?,
            status: strings(b, "status")?,
        })
    }
}

/// Categories in first-appearance order.
fn distinct(values: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
}

type Area<DB> = DrawingArea<DB, Shift>;
type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn font(size: u32) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size as f64, FontStyle::Normal)
}

fn bold(size: u32) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size as f64, FontStyle::Bold)
}

fn text_style(size: u32, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    font(size).color(&colour).pos(Pos::new(h, v))
}

/// Compact axis numbers: 1.2M, 350k, 45%, 2.1x.
fn axis_value(v: f64, unit: &str) -> String {
    let compact = |v: f64| {
        let a = v.abs();
        if a >= 1e9 {
            format!("{:.1}B", v / 1e9)
        } else if a >= 1e6 {
            format!("{:.1}M", v / 1e6)
        } else if a >= 1e4 {
            format!("{:.0}k", v / 1e3)
        } else if a >= 1e3 {
            format!("{:.1}k", v / 1e3)
        } else if a >= 10.0 || a == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    match unit {
        "ratio" => format!("{:.0}%", v * 100.0),
        "multiple" => format!("{v:.1}x"),
        _ => compact(v),
    }
}

/// Text over a bar: the full formatted value.
fn bar_value(v: f64, unit: &str) -> String {
    match unit {
        "count" if v.fract() != 0.0 => format!("{v:.1}"),
        "currency" | "count" => axis_value(v, unit),
        _ => format_value(v, unit),
    }
}

/// Draw one chart on `root`: title, then the kind's plot or a "no data" panel.
fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    spec: &ChartSpec,
    table: Option<&Table>,
    no_data: Option<&str>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (title_area, body) = root.split_vertically(44);
    title_area.draw(&Text::new(
        spec.title.clone(),
        (16, 12),
        bold(20)
            .color(&palette::INK)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    match (table, no_data) {
        (Some(t), None) => match spec.kind {
            Kind::Bars => bars(&body, spec, t, false),
            Kind::Hbars => bars(&body, spec, t, true),
            Kind::Lines => lines(&body, spec, t),
            Kind::Waterfall => waterfall(&body, spec, t),
            Kind::Heatmap => heatmap(&body, spec, t),
            Kind::Tiles => tiles(&body, t),
        },
        _ => {
            let (w, h) = body.dim_in_pixel();
            body.draw(&Rectangle::new(
                [(16, 8), (w as i32 - 16, h as i32 - 16)],
                ShapeStyle::from(&palette::GRID).stroke_width(2),
            ))?;
            body.draw(&Text::new(
                no_data.unwrap_or("no data").to_string(),
                (w as i32 / 2, h as i32 / 2),
                text_style(22, palette::MUTED, HPos::Center, VPos::Center),
            ))
        }
    }
}

/// A horizontal legend band; returns the area below it.
fn legend<DB: DrawingBackend>(
    area: &Area<DB>,
    names: &[String],
) -> std::result::Result<Area<DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    if names.len() <= 1 {
        return Ok(area.clone());
    }
    let (w, _) = area.dim_in_pixel();
    let mut x = 16i32;
    let mut y = 4i32;
    let f: TextStyle = font(13).into();
    for name in names {
        let (tw, _) = area.estimate_text_size(name, &f)?;
        let item = 18 + tw as i32 + 18;
        if x + item > w as i32 - 8 {
            x = 16;
            y += 20;
        }
        area.draw(&Rectangle::new(
            [(x, y + 2), (x + 12, y + 14)],
            palette::colour(name).filled(),
        ))?;
        area.draw(&Text::new(
            name.clone(),
            (x + 17, y + 1),
            text_style(13, palette::INK, HPos::Left, VPos::Top),
        ))?;
        x += item;
    }
    Ok(area.split_vertically(y + 24).1)
}

fn y_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi == lo {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.12;
    (
        if lo < 0.0 { lo - pad } else { 0.0 },
        if hi > 0.0 { hi + pad } else { 0.0 },
    )
}

/// Category labels along the x axis at integer positions, rotated when crowded.
fn x_category_labels<DB: DrawingBackend>(
    root: &Area<DB>,
    chart: &Plot<DB>,
    categories: &[String],
    y_at: f64,
) -> DrawResult<DB> {
    let n = categories.len().max(1);
    let (x0, _) = chart.backend_coord(&(0.0, y_at));
    let (x1, _) = chart.backend_coord(&(1.0, y_at));
    let slot = (x1 - x0).abs().max(1);
    let f: TextStyle = font(12).into();
    let widest = categories
        .iter()
        .map(|c| {
            root.estimate_text_size(c, &f)
                .map(|s| s.0 as i32)
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    let every = ((widest + 8) as f64 / slot as f64).ceil().max(1.0) as usize;
    let rotate = every > 1 && n <= 40;
    let every = if rotate {
        ((16 / slot.max(1)) as usize).max(1)
    } else {
        every
    };
    let (ox, oy) = root.get_base_pixel();
    for (i, c) in categories.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let (px, py) = chart.backend_coord(&(i as f64, y_at));
        let (px, py) = (px - ox, py - oy + 6);
        let style = if rotate {
            font(12)
                .transform(FontTransform::Rotate270)
                .color(&palette::INK)
                .pos(Pos::new(HPos::Right, VPos::Center))
        } else {
            text_style(12, palette::INK, HPos::Center, VPos::Top)
        };
        let label = if rotate && c.chars().count() > 22 {
            format!("{}…", c.chars().take(21).collect::<String>())
        } else {
            c.clone()
        };
        root.draw(&Text::new(label, (px, py), style))?;
    }
    Ok(())
}

fn grouped(
    t: &Table,
) -> (
    Vec<String>,
    Vec<String>,
    BTreeMap<(usize, usize), (f64, String)>,
) {
    let categories = distinct(&t.x);
    let series = t
        .series
        .as_ref()
        .map(|s| distinct(s))
        .unwrap_or_else(|| vec![String::new()]);
    let mut cells = BTreeMap::new();
    for i in 0..t.x.len() {
        let Some(y) = t.y[i] else { continue };
        let c = categories.iter().position(|v| *v == t.x[i]).unwrap_or(0);
        let s = t
            .series
            .as_ref()
            .and_then(|s| series.iter().position(|v| *v == s[i]))
            .unwrap_or(0);
        let label = t.label.as_ref().map(|l| l[i].clone()).unwrap_or_default();
        cells.insert((c, s), (y, label));
    }
    (categories, series, cells)
}

fn series_colour(series: &[String], s: usize, single: RGBColor) -> RGBColor {
    if series.len() <= 1 && series.first().map_or(true, |n| n.is_empty()) {
        single
    } else {
        palette::colour(&series[s])
    }
}

fn bars<DB: DrawingBackend>(
    area: &Area<DB>,
    spec: &ChartSpec,
    t: &Table,
    horizontal: bool,
) -> DrawResult<DB> {
    let (categories, series, cells) = grouped(t);
    let plot = legend(area, if series.len() > 1 { &series } else { &[] })?;
    let (lo, hi) = y_range(cells.values().map(|v| v.0));
    let n = categories.len() as f64;
    let group = 0.8;
    let width = group / series.len() as f64;
    if horizontal {
        let f: TextStyle = font(12).into();
        let widest = categories
            .iter()
            .map(|c| plot.estimate_text_size(c, &f).map(|s| s.0).unwrap_or(0))
            .max()
            .unwrap_or(0);
        let mut chart = ChartBuilder::on(&plot)
            .margin_left(16)
            .margin_right(40)
            .margin_bottom(8)
            .x_label_area_size(48)
            .y_label_area_size(widest.min(360) + 16)
            .build_cartesian_2d(lo..hi, (n - 0.5)..-0.5)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(TRANSPARENT)
            .bold_line_style(palette::GRID)
            .x_desc(spec.y_label.as_str())
            .axis_desc_style(font(14).color(&palette::INK))
            .label_style(font(12).color(&palette::INK))
            .x_label_formatter(&|v| axis_value(*v, spec.unit.as_str()))
            .draw()?;
        let (ox, oy) = plot.get_base_pixel();
        for (i, c) in categories.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(lo, i as f64));
            plot.draw(&Text::new(
                c.clone(),
                (px - ox - 8, py - oy),
                text_style(12, palette::INK, HPos::Right, VPos::Center),
            ))?;
        }
        for ((c, s), (y, label)) in &cells {
            let top = *c as f64 - group / 2.0 + *s as f64 * width;
            let colour = series_colour(&series, *s, palette::POSITIVE);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, top), (*y, top + width * 0.92)],
                colour.filled(),
            )))?;
            let text = if label.is_empty() {
                bar_value(*y, spec.unit.as_str())
            } else {
                label.clone()
            };
            if series.len() <= 2 {
                let (px, py) = chart.backend_coord(&(*y, top + width * 0.46));
                let h = if *y >= 0.0 { HPos::Left } else { HPos::Right };
                let dx = if *y >= 0.0 { 4 } else { -4 };
                plot.draw(&Text::new(
                    text,
                    (px - ox + dx, py - oy),
                    text_style(11, palette::MUTED, h, VPos::Center),
                ))?;
            }
        }
        return Ok(());
    }
    let mut chart = category_plot(&plot, spec, &categories, lo, hi)?;
    let (ox, oy) = plot.get_base_pixel();
    for ((c, s), (y, label)) in &cells {
        let left = *c as f64 - group / 2.0 + *s as f64 * width;
        let colour = series_colour(&series, *s, palette::POSITIVE);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(left + width * 0.04, 0.0), (left + width * 0.96, *y)],
            colour.filled(),
        )))?;
        let text = if label.is_empty() {
            bar_value(*y, spec.unit.as_str())
        } else {
            label.clone()
        };
        if series.len() <= 2 || !label.is_empty() {
            let (px, py) = chart.backend_coord(&(left + width / 2.0, *y));
            let v = if *y >= 0.0 { VPos::Bottom } else { VPos::Top };
            let dy = if *y >= 0.0 { -3 } else { 3 };
            plot.draw(&Text::new(
                text,
                (px - ox, py - oy + dy),
                text_style(12, palette::INK, HPos::Center, v),
            ))?;
        }
    }
    Ok(())
}

/// A plot with the categories along x (at 0, 1, ...) and `lo..hi` on y, its axes,
/// grid and labels drawn.
fn category_plot<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    spec: &ChartSpec,
    categories: &[String],
    lo: f64,
    hi: f64,
) -> std::result::Result<Plot<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let n = categories.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_left(16)
        .margin_right(24)
        .margin_top(8)
        .x_label_area_size(label_band(area, categories)?)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5..(n - 0.5), lo..hi)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .light_line_style(TRANSPARENT)
        .bold_line_style(palette::GRID)
        .y_desc(spec.y_label.as_str())
        .axis_desc_style(font(14).color(&palette::INK))
        .label_style(font(12).color(&palette::INK))
        .y_label_formatter(&|v| axis_value(*v, spec.unit.as_str()))
        .draw()?;
    x_category_labels(area, &chart, categories, lo)?;
    draw_x_desc(area, &spec.x_label)?;
    Ok(chart)
}

/// Height of the x label band: room for rotated labels when they are crowded.
fn label_band<DB: DrawingBackend>(
    area: &Area<DB>,
    categories: &[String],
) -> std::result::Result<u32, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = area.dim_in_pixel();
    let slot = (w as f64 - 120.0) / categories.len().max(1) as f64;
    let f: TextStyle = font(12).into();
    let mut widest = 0u32;
    for c in categories {
        widest = widest.max(
            area.estimate_text_size(&c.chars().take(22).collect::<String>(), &f)?
                .0,
        );
    }
    Ok(if widest as f64 + 8.0 > slot {
        (widest + 40).min(170)
    } else {
        52
    })
}

fn draw_x_desc<DB: DrawingBackend>(area: &Area<DB>, text: &str) -> DrawResult<DB> {
    if text.is_empty() {
        return Ok(());
    }
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        text.to_string(),
        (w as i32 / 2 + 30, h as i32 - 4),
        text_style(14, palette::INK, HPos::Center, VPos::Bottom),
    ))
}

fn lines<DB: DrawingBackend>(area: &Area<DB>, spec: &ChartSpec, t: &Table) -> DrawResult<DB> {
    let (categories, series, cells) = grouped(t);
    let plot = legend(area, if series.len() > 1 { &series } else { &[] })?;
    let (lo, hi) = y_range(cells.values().map(|v| v.0));
    let mut chart = category_plot(&plot, spec, &categories, lo, hi)?;
    for mark in &spec.marks {
        if let Some(i) = categories.iter().position(|c| c == mark) {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(i as f64, lo), (i as f64, hi)],
                ShapeStyle::from(&palette::MUTED).stroke_width(1),
            )))?;
            let (px, py) = chart.backend_coord(&(i as f64, hi));
            let (ox, oy) = plot.get_base_pixel();
            plot.draw(&Text::new(
                format!("{} {mark}", spec.x_label.split(' ').next().unwrap_or(""))
                    .trim()
                    .to_string(),
                (px - ox + 4, py - oy + 2),
                text_style(11, palette::MUTED, HPos::Left, VPos::Top),
            ))?;
        }
    }
    for (s, name) in series.iter().enumerate() {
        let colour = series_colour(&series, s, palette::POSITIVE);
        let points: Vec<(f64, f64)> = (0..categories.len())
            .filter_map(|c| cells.get(&(c, s)).map(|v| (c as f64, v.0)))
            .collect();
        chart.draw_series(std::iter::once(PathElement::new(
            points.clone(),
            ShapeStyle::from(&colour).stroke_width(if name == "all" { 3 } else { 2 }),
        )))?;
        if points.len() <= 40 {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
        }
    }
    Ok(())
}

fn waterfall<DB: DrawingBackend>(area: &Area<DB>, spec: &ChartSpec, t: &Table) -> DrawResult<DB> {
    let total = t.total.as_ref().expect("checked");
    let mut level = 0.0;
    let mut bars = Vec::new(); // (from, to, is_total)
    for i in 0..t.x.len() {
        let y = t.y[i].unwrap_or(0.0);
        if total[i] {
            level = y;
            bars.push((0.0, y, true));
        } else {
            bars.push((level, level + y, false));
            level += y;
        }
    }
    let (lo, hi) = y_range(bars.iter().flat_map(|b| [b.0, b.1]));
    let mut chart = category_plot(area, spec, &t.x, lo, hi)?;
    let (ox, oy) = area.get_base_pixel();
    for (i, (from, to, is_total)) in bars.iter().enumerate() {
        let colour = if *is_total {
            palette::GREY
        } else if to >= from {
            palette::POSITIVE
        } else {
            palette::NEGATIVE
        };
        let x = i as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x - 0.35, *from), (x + 0.35, *to)],
            colour.filled(),
        )))?;
        if i + 1 < bars.len() {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x + 0.35, *to), (x + 0.65, *to)],
                ShapeStyle::from(&palette::MUTED),
            )))?;
        }
        let delta = if *is_total { *to } else { to - from };
        let (px, py) = chart.backend_coord(&(x, from.max(*to)));
        let text = if *is_total || delta < 0.0 {
            bar_value(delta, spec.unit.as_str())
        } else {
            format!("+{}", bar_value(delta, spec.unit.as_str()))
        };
        area.draw(&Text::new(
            text,
            (px - ox, py - oy - 3),
            text_style(12, palette::INK, HPos::Center, VPos::Bottom),
        ))?;
    }
    Ok(())
}

fn heatmap<DB: DrawingBackend>(area: &Area<DB>, spec: &ChartSpec, t: &Table) -> DrawResult<DB> {
    let rows_all = t.row.as_ref().expect("checked");
    let rows = distinct(rows_all);
    let cols = distinct(&t.x);
    let (nr, nc) = (rows.len() as f64, cols.len() as f64);
    let mut chart = ChartBuilder::on(area)
        .margin_left(16)
        .margin_right(24)
        .margin_top(8)
        .x_label_area_size(label_band(area, &cols)?)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5..(nc - 0.5), (nr - 0.5)..-0.5)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .y_desc(spec.y_label.as_str())
        .axis_desc_style(font(14).color(&palette::INK))
        .draw()?;
    x_category_labels(area, &chart, &cols, nr - 0.5)?;
    draw_x_desc(area, &spec.x_label)?;
    let (ox, oy) = area.get_base_pixel();
    let every = ((14.0 * nr / (area.dim_in_pixel().1 as f64 - 80.0)).ceil() as usize).max(1);
    for (r, name) in rows.iter().enumerate() {
        if r % every == 0 {
            let (px, py) = chart.backend_coord(&(-0.5, r as f64));
            area.draw(&Text::new(
                name.clone(),
                (px - ox - 6, py - oy),
                text_style(11, palette::INK, HPos::Right, VPos::Center),
            ))?;
        }
    }
    let (x0, _) = chart.backend_coord(&(0.0, 0.0));
    let (x1, y1) = chart.backend_coord(&(1.0, 1.0));
    let (_, y0) = chart.backend_coord(&(0.0, 0.0));
    let cell_w = (x1 - x0).abs();
    let cell_h = (y1 - y0).abs();
    for i in 0..t.x.len() {
        let Some(v) = t.y[i] else { continue };
        let c = cols.iter().position(|x| *x == t.x[i]).unwrap_or(0) as f64;
        let r = rows.iter().position(|x| *x == rows_all[i]).unwrap_or(0) as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(c - 0.5, r - 0.5), (c + 0.5, r + 0.5)],
            palette::sequential(v).filled(),
        )))?;
        if cell_w >= 34 && cell_h >= 14 {
            let (px, py) = chart.backend_coord(&(c, r));
            let ink = if v > 0.55 { WHITE } else { palette::INK };
            area.draw(&Text::new(
                format!("{:.0}", v * 100.0),
                (px - ox, py - oy),
                text_style(10, ink, HPos::Center, VPos::Center),
            ))?;
        }
    }
    Ok(())
}

fn tiles<DB: DrawingBackend>(area: &Area<DB>, t: &Table) -> DrawResult<DB> {
    let labels = t.label.as_ref().expect("checked");
    let units = t.unit.as_ref().expect("checked");
    let targets = t.target.as_ref().expect("checked");
    let statuses = t.status.as_ref().expect("checked");
    let n = labels.len();
    let cols = 5usize;
    let rows = n.div_ceil(cols).max(1);
    let (w, h) = area.dim_in_pixel();
    let (gap, margin) = (10i32, 16i32);
    let tile_w = (w as i32 - 2 * margin - (cols as i32 - 1) * gap) / cols as i32;
    let tile_h = ((h as i32 - margin - (rows as i32 - 1) * gap) / rows as i32).min(110);
    for i in 0..n {
        let (r, c) = ((i / cols) as i32, (i % cols) as i32);
        let x = margin + c * (tile_w + gap);
        let y = r * (tile_h + gap);
        let colour = palette::status(&statuses[i]);
        area.draw(&Rectangle::new(
            [(x, y), (x + tile_w, y + tile_h)],
            RGBColor(248, 249, 250).filled(),
        ))?;
        area.draw(&Rectangle::new(
            [(x, y), (x + 6, y + tile_h)],
            colour.filled(),
        ))?;
        let label: String = if labels[i].chars().count() > 30 {
            format!("{}…", labels[i].chars().take(29).collect::<String>())
        } else {
            labels[i].clone()
        };
        area.draw(&Text::new(
            label,
            (x + 14, y + 8),
            text_style(12, palette::MUTED, HPos::Left, VPos::Top),
        ))?;
        let not_measurable = statuses[i] == "n/a";
        let value = match t.y[i] {
            _ if not_measurable => "n/a".to_string(),
            Some(v) => format_value(v, &units[i]),
            None => "no value".to_string(),
        };
        area.draw(&Text::new(
            value,
            (x + 14, y + tile_h / 2),
            bold(20)
                .color(&palette::INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        let target = match targets[i] {
            _ if not_measurable => "not measurable from these inputs".to_string(),
            Some(v) => format!("target {}", format_value(v, &units[i])),
            None => "no target".to_string(),
        };
        area.draw(&Text::new(
            target,
            (x + 14, y + tile_h - 8),
            text_style(11, palette::MUTED, HPos::Left, VPos::Bottom),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_values_are_compact() {
        assert_eq!(axis_value(1_250_000.0, "currency"), "1.2M");
        assert_eq!(axis_value(35_000.0, "count"), "35k");
        assert_eq!(axis_value(1_500.0, "count"), "1.5k");
        assert_eq!(axis_value(0.456, "ratio"), "46%");
        assert_eq!(axis_value(2.14, "multiple"), "2.1x");
        assert_eq!(axis_value(0.0, "count"), "0");
    }

    #[test]
    fn the_embedded_catalogue_parses_with_unique_keys() {
        let (_, c) = ChartCatalogue::load(None).unwrap();
        assert!(c.charts.len() >= 11);
    }
}
