//! The run page `out/reports/YYYY-MM/index.html`: a self-contained summary of a run.
//!
//! It shows what went in (rows, rejects by reason), what came out (tables, with links
//! to their Parquet partitions), what was skipped and why, and the headline funnel and
//! follow-up numbers of the last twelve months. Inline CSS, no scripts, no network.

use std::fmt::Write;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::run::Manifest;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The `channel = 'all'` rows of a month x channel table, last `n` months.
fn all_channel_rows(batch: &RecordBatch, n: usize) -> Vec<usize> {
    let Some(channel) = batch.column_by_name("channel") else {
        return vec![];
    };
    let channel = channel.as_string::<i32>();
    let rows: Vec<usize> = (0..batch.num_rows())
        .filter(|&r| channel.is_valid(r) && channel.value(r) == "all")
        .collect();
    rows[rows.len().saturating_sub(n)..].to_vec()
}

fn html_table(batch: &RecordBatch, rows: &[usize], skip: &[&str]) -> String {
    let options = FormatOptions::default().with_null("–");
    let mut html = String::from("<div class=\"wide\"><table><thead><tr>");
    let columns: Vec<usize> = (0..batch.num_columns())
        .filter(|&i| !skip.contains(&batch.schema().field(i).name().as_str()))
        .collect();
    for &i in &columns {
        let _ = write!(html, "<th>{}</th>", esc(batch.schema().field(i).name()));
    }
    html.push_str("</tr></thead><tbody>");
    let formatters: Vec<_> = columns
        .iter()
        .map(|&i| {
            ArrayFormatter::try_new(batch.column(i).as_ref(), &options).expect("displayable column")
        })
        .collect();
    for &r in rows {
        html.push_str("<tr>");
        for (f, &i) in formatters.iter().zip(&columns) {
            let value = f.value(r).to_string();
            let value = match batch.column(i).data_type() {
                datafusion::arrow::datatypes::DataType::Float64 if batch.column(i).is_valid(r) => {
                    let x = batch
                        .column(i)
                        .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                        .value(r);
                    format!("{x:.3}")
                }
                _ => value,
            };
            let _ = write!(html, "<td>{}</td>", esc(&value));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

pub fn run_page(manifest: &Manifest, tables: &[(&str, &RecordBatch)]) -> String {
    let month = &manifest.report_month;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>revalign {month}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1f2933;padding:0 1rem}}
h1{{margin-bottom:.2rem}} .sub{{color:#616e7c;margin-top:0}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}}
th,td{{border-bottom:1px solid #e4e7eb;padding:.3rem .6rem;text-align:right}}
th:first-child,td:first-child{{text-align:left}} th{{background:#f5f7fa}}
.wide{{overflow-x:auto}} td{{white-space:nowrap}} td.l,th.l{{text-align:left;white-space:normal}}
.bad{{color:#b42318;font-weight:600}} .ok{{color:#067647}}
.rag{{display:inline-block;white-space:nowrap;min-width:4.5em;text-align:center;border-radius:3px;padding:0 .3em;color:#fff;font-weight:600}}
.green{{background:#12805c}} .amber{{background:#b25e09}} .red{{background:#b42318}} .none{{background:#9aa5b1}}
</style></head><body>
<h1>revalign — run for {month}</h1>
<p class="sub">Data: {data} · data through {through} · revalign {v} · DataFusion {df}</p>"#,
        data = esc(&manifest.data),
        through = esc(manifest.data_through.as_deref().unwrap_or("unknown")),
        v = esc(&manifest.revalign_version),
        df = esc(&manifest.datafusion_version),
    );
    if let Some((_, card)) = tables.iter().find(|(n, _)| *n == "scorecard") {
        h.push_str(&scorecard_html(card));
    }
    h.push_str("<h2>Inputs</h2><table><thead><tr><th>table</th><th>status</th><th>rows read</th><th>loaded</th><th>rejected</th><th>reasons</th></tr></thead><tbody>");
    for (name, input) in &manifest.inputs {
        let reasons: Vec<String> = input
            .stats
            .rejected_by_reason
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(name),
            input.status,
            input.stats.rows_read,
            input.stats.loaded,
            if input.stats.rejected > 0 { "bad" } else { "ok" },
            input.stats.rejected,
            esc(&reasons.join("; "))
        );
    }
    h.push_str("</tbody></table>");
    if manifest.rejects_total > 0 {
        let _ = write!(
            h,
            "<p class=\"bad\">{} row(s) were rejected; see the <code>rejects</code> table for file, row, column, reason and raw value.</p>",
            manifest.rejects_total
        );
    }
    for (name, title) in [
        ("funnel_monthly", "Funnel, all channels, last 12 months"),
        (
            "mql_followup",
            "MQL follow-up by sales, all channels, last 12 months",
        ),
    ] {
        if let Some((_, batch)) = tables.iter().find(|(n, _)| *n == name) {
            let _ = write!(h, "<h2>{}</h2>", esc(title));
            h.push_str(&html_table(
                batch,
                &all_channel_rows(batch, 12),
                &["channel"],
            ));
        }
    }
    h.push_str("<h2>Outputs</h2><table><thead><tr><th>table</th><th>rows</th><th>Parquet</th></tr></thead><tbody>");
    for o in &manifest.outputs {
        let rel = format!(
            "../../tables/{}/report_month={month}/part-0.parquet",
            o.table
        );
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>",
            esc(&o.table),
            o.rows,
            esc(&rel),
            esc(&rel)
        );
    }
    h.push_str("</tbody></table>");
    if !manifest.skipped.is_empty() {
        h.push_str("<h2>Skipped outputs</h2><table><thead><tr><th>table</th><th>missing inputs</th></tr></thead><tbody>");
        for s in &manifest.skipped {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&s.table),
                esc(&s.missing.join(", "))
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("<p class=\"sub\">Definitions: docs/metrics.md. Full run details: manifest.json.</p></body></html>\n");
    h
}

/// The scorecard rows as (metric, label, owner, unit, actual, target, attainment,
/// status, previous, change, note), formatted for people.
fn scorecard_rows(card: &RecordBatch) -> Vec<[String; 10]> {
    let text = |name: &str, r: usize| -> String {
        let c = card
            .column_by_name(name)
            .expect("scorecard column")
            .as_string::<i32>();
        if c.is_valid(r) {
            c.value(r).to_string()
        } else {
            String::new()
        }
    };
    let num = |name: &str, r: usize| -> Option<f64> {
        let c = card
            .column_by_name(name)
            .expect("scorecard column")
            .as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        c.is_valid(r).then(|| c.value(r))
    };
    (0..card.num_rows())
        .map(|r| {
            let unit = text("unit", r);
            let fmt = |v: Option<f64>| {
                v.map(|v| crate::scorecard::format_value(v, &unit))
                    .unwrap_or_else(|| "–".into())
            };
            let change = num("change", r).map(|c| {
                let sign = if c > 0.0 { "+" } else { "" };
                format!("{sign}{}", crate::scorecard::format_value(c, &unit))
            });
            [
                text("label", r),
                text("owner", r).replace('_', " "),
                fmt(num("actual", r)),
                fmt(num("target", r)),
                num("attainment", r)
                    .map(|a| format!("{:.0}%", a * 100.0))
                    .unwrap_or_else(|| "–".into()),
                text("status", r),
                fmt(num("previous", r)),
                change.unwrap_or_else(|| "–".into()),
                text("note", r),
                text("metric", r),
            ]
        })
        .collect()
}

fn scorecard_html(card: &RecordBatch) -> String {
    let mut h = String::from("<h2>Scorecard</h2><table><thead><tr><th>metric</th><th class=\"l\">owner</th><th>actual</th><th>target</th><th>attainment</th><th>status</th><th>last month</th><th>change</th><th class=\"l\">note</th></tr></thead><tbody>");
    for row in scorecard_rows(card) {
        let status = if row[5].is_empty() {
            "none"
        } else {
            row[5].as_str()
        };
        let label = if row[5].is_empty() {
            "no target"
        } else {
            row[5].as_str()
        };
        let _ = write!(
            h,
            "<tr><td title=\"{}\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"rag {status}\">{}</span></td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
            esc(&row[9]), esc(&row[0]), esc(&row[1]), esc(&row[2]), esc(&row[3]), esc(&row[4]), esc(label), esc(&row[6]), esc(&row[7]), esc(&row[8])
        );
    }
    h.push_str("</tbody></table>");
    h
}

/// `scorecard.md`: the scorecard as a Markdown table, for pasting into slides and docs.
pub fn scorecard_markdown(month: &str, card: &RecordBatch) -> String {
    let mut md = format!("# Scorecard {month}\n\n| metric | owner | actual | target | attainment | status | last month | change | note |\n|---|---|---|---|---|---|---|---|---|\n");
    for row in scorecard_rows(card) {
        let status = if row[5].is_empty() {
            "–"
        } else {
            row[5].as_str()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row[0], row[1], row[2], row[3], row[4], status, row[6], row[7], row[8]
        );
    }
    md
}
