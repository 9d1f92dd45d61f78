//! Input faults from the hostile-user report. Every fault class is loud: a schema
//! fault naming the file, table and line or column, or a row reject with its reason,
//! data row number and the raw value as written. Rows read = loaded + rejected for
//! every table in every test. The base data is a small hand-made CRM-style export
//! (`tests/fixtures/faults`), altered per test in a temporary folder.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, Float64Array, RecordBatch, StringArray,
    TimestampSecondArray,
};
use datafusion::arrow::datatypes::Decimal128Type;
use datafusion::parquet::arrow::ArrowWriter;
use predicates::prelude::*;
use revalign::config::date_to_days;
use revalign::load::{self, LoadedData};

use crate::util::copy_fixture;

const DATE_RANGE: &str = "date outside the supported range 1900-01-01..2199-12-31";
const TOO_LARGE: &str = "money value too large (over 1e12)";
const NOT_FINITE: &str = "not a finite number";

const TOUCHES: &str = "touch_id,contact_id,ts,channel,kind,activity,campaign_id\n\
T0000001,C0000001,2025-01-05T10:00:00Z,paid_search,marketing,ad_click,\n\
T0000002,C0000002,2025-01-06T11:30:00Z,email,sales,call,\n";

/// The base export in a fresh temporary folder.
fn data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("faults", dir.path());
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn remove(dir: &Path, name: &str) {
    std::fs::remove_file(dir.join(name)).unwrap();
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(crate::util::fixture("faults").join(name)).unwrap()
}

/// Write fixture `name` into `dir` with its line `index` (0 = the header) replaced.
fn write_fixture_with_line(dir: &Path, name: &str, index: usize, line: &str) {
    let text = fixture_text(name);
    let mut lines: Vec<&str> = text.lines().collect();
    lines[index] = line;
    write(dir, name, &(lines.join("\n") + "\n"));
}

/// Load `dir`; every table has rows read = loaded + rejected, and its rejects are the
/// ones listed.
fn load_ok(dir: &Path) -> LoadedData {
    let loaded = load::load(dir, BTreeMap::new()).unwrap_or_else(|e| panic!("load failed: {e}"));
    for (name, t) in &loaded.tables {
        assert_eq!(
            t.stats.rows_read,
            t.stats.loaded + t.stats.rejected,
            "{name}: read != loaded + rejected"
        );
        assert_eq!(t.stats.loaded, t.batch.num_rows(), "{name}");
        assert_eq!(
            t.stats.rejected,
            loaded.rejects.iter().filter(|r| r.table == *name).count(),
            "{name}"
        );
    }
    loaded
}

/// The schema fault that loading `dir` must stop with.
fn load_err(dir: &Path) -> String {
    match load::load(dir, BTreeMap::new()) {
        Ok(l) => panic!(
            "expected a schema fault, but it loaded: {:?}, {} rejects, absent {:?}",
            l.tables
                .iter()
                .map(|(k, t)| (*k, t.stats.loaded))
                .collect::<Vec<_>>(),
            l.rejects.len(),
            l.absent
        ),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(err: &str, parts: &[&str]) {
    for p in parts {
        assert!(err.contains(p), "`{p}` is not in the message: {err}");
    }
}

type Row = (i64, String, String, String);

/// (row_number, column, reason, raw_value) of the rejects of `table`.
fn rejects(l: &LoadedData, table: &str) -> Vec<Row> {
    l.rejects
        .iter()
        .filter(|r| r.table == table)
        .map(|r| {
            (
                r.row_number,
                r.column.clone(),
                r.reason.clone(),
                r.raw_value.clone(),
            )
        })
        .collect()
}

fn r(row: i64, column: &str, reason: &str, raw: &str) -> Row {
    (row, column.into(), reason.into(), raw.into())
}

fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn text(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn days(y: i32, m: u32, d: u32) -> i32 {
    date_to_days(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn column_text(l: &LoadedData, table: &str, column: &str) -> Vec<String> {
    let batch = &l.tables[table].batch;
    let a = batch.column_by_name(column).unwrap().as_string::<i32>();
    (0..a.len()).map(|i| a.value(i).to_string()).collect()
}

fn amounts(l: &LoadedData) -> Vec<(String, i128)> {
    let batch = &l.tables["opportunities"].batch;
    let ids = column_text(l, "opportunities", "opportunity_id");
    let a = batch
        .column_by_name("amount")
        .unwrap()
        .as_primitive::<Decimal128Type>();
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| (id, a.value(i)))
        .collect()
}

// 1. CSV syntax faults are never silent.

#[test]
fn csv_unterminated_quote_names_file_table_and_line() {
    let dir = data();
    // Data row 10 (line 11) opens a quote that never closes: the arrow reader took the
    // two records after it into the role of row 10 and loaded the file.
    write_fixture_with_line(
        dir.path(),
        "opportunity_contacts.csv",
        10,
        "O0000005,C0000030,\"champion",
    );
    let err = load_err(dir.path());
    assert_mentions(
        &err,
        &[
            "opportunity_contacts.csv",
            "`opportunity_contacts`",
            "line 11",
            "data row 10",
            "line 12 inside it looks like a record",
        ],
    );

    // The last record's quote never closes (nothing after it looks like a record).
    write_fixture_with_line(
        dir.path(),
        "opportunity_contacts.csv",
        12,
        "O0000007,C0000013,\"economic_buyer",
    );
    let err = load_err(dir.path());
    assert_mentions(
        &err,
        &[
            "opportunity_contacts.csv",
            "line 13",
            "data row 12",
            "never closed (unterminated quote)",
        ],
    );
}

#[test]
fn csv_stray_quote_pair_cannot_merge_records() {
    // A stray quote opens the title of row 5 and a second one closes a title ten rows
    // later: the ten records in between became one 6-field record with a long title.
    let contacts = |title_of: &dyn Fn(usize) -> &'static str| {
        let mut csv = String::from("contact_id,account_id,role,title,email,created_at\n");
        for i in 1..=40 {
            csv += &format!(
                "C{i:07},A{:07},champion,{},c{i}@account.example,2024-05-01T09:00:00Z\n",
                (i - 1) % 6 + 1,
                title_of(i)
            );
        }
        csv
    };
    let dir = data();
    write(
        dir.path(),
        "contacts.csv",
        &contacts(&|i| match i {
            5 => "\"Head of Growth",
            15 => "Analyst\"",
            _ => "Analyst",
        }),
    );
    let err = load_err(dir.path());
    assert_mentions(
        &err,
        &[
            "contacts.csv",
            "`contacts`",
            "line 6",
            "data row 5",
            "line 7 inside it looks like a record of its own (6 fields)",
        ],
    );

    // The same on adjacent rows: the merged record has exactly six fields and no line
    // inside the quote looks like a record, but the quoted value holds five commas
    // across a line break (C0000006 vanished silently before).
    write(
        dir.path(),
        "contacts.csv",
        &contacts(&|i| match i {
            5 => "\"Head of Growth",
            6 => "Analyst\"",
            _ => "Analyst",
        }),
    );
    let err = load_err(dir.path());
    assert_mentions(
        &err,
        &[
            "contacts.csv",
            "line 6",
            "data row 5",
            "runs to line 7 and holds 5 commas",
        ],
    );

    // A quoted word followed by more text: the reader dropped the quotes silently.
    write(
        dir.path(),
        "contacts.csv",
        &contacts(&|i| if i == 5 { "\"VP\" Sales" } else { "Analyst" }),
    );
    let err = load_err(dir.path());
    assert_mentions(
        &err,
        &["contacts.csv", "line 6", "text after the closing quote"],
    );
}

#[test]
fn csv_ragged_row_names_its_physical_line_and_data_row() {
    let dir = data();
    let mut csv = fixture_text("contacts.csv");
    // Row 2 has a two-line title, so data row 7 is on line 9.
    csv = csv.replacen(
        "C0000002,A0000002,technical_buyer,Head of IT,",
        "C0000002,A0000002,technical_buyer,\"Head of IT\nEMEA\",",
        1,
    );
    csv = csv.replacen(
        "C0000007,A0000001,",
        "C0000007,A0000001,champion,VP Sales,extra,",
        1,
    );
    write(dir.path(), "contacts.csv", &csv);
    let err = load_err(dir.path());
    assert_mentions(
        &err,
        &[
            "contacts.csv",
            "line 9",
            "data row 7 has 9 field(s), the header has 6",
        ],
    );
}

#[test]
fn csv_quoted_newlines_crlf_and_bom_still_load() {
    let dir = data();
    // Excel's "CSV UTF-8": a byte order mark, CRLF line ends, a multi-line quoted
    // name, doubled quotes, a trailing blank line; row 5 has a bad integer.
    let accounts = "\u{feff}account_id,name,employees\r\n\
A0000001,Northwind Traders,420\r\n\
A0000002,\"Contoso Ltd\r\nHeadquarters, Redmond\",1800\r\n\
A0000003,\"Fabrikam, Inc.\",5200\r\n\
A0000004,\"Tailspin \"\"Toys\"\"\",85\r\n\
A0000009,Wingtip Toys,many\r\n\
A0000005,Litware GmbH,260\r\n\
A0000006,Adventure Works,990\r\n\r\n";
    write(dir.path(), "accounts.csv", accounts);
    let loaded = load_ok(dir.path());
    assert_eq!(
        column_text(&loaded, "accounts", "name"),
        [
            "Northwind Traders",
            "Contoso Ltd\r\nHeadquarters, Redmond",
            "Fabrikam, Inc.",
            "Tailspin \"Toys\"",
            "Litware GmbH",
            "Adventure Works"
        ]
    );
    // The reject is numbered by data row (5), not by physical line (7).
    assert_eq!(
        rejects(&loaded, "accounts"),
        [r(5, "employees", "unparseable integer", "many")]
    );
    assert_eq!(loaded.tables["accounts"].stats.rows_read, 7);
    assert!(loaded.rejects.iter().all(|r| r.table == "accounts"));
    assert_eq!(loaded.tables["contacts"].stats.loaded, 40);
}

// 2. Duplicate column names.

#[test]
fn duplicate_column_names_are_schema_faults_in_every_format() {
    let dir = data();
    write(
        dir.path(),
        "opportunity_contacts.csv",
        "opportunity_id,contact_id,role,role\nO0000001,C0000001,economic_buyer,champion\n",
    );
    let err = load_err(dir.path());
    assert_mentions(
        &err,
        &[
            "opportunity_contacts.csv",
            "`opportunity_contacts`",
            "column `role` more than once",
        ],
    );

    write(
        dir.path(),
        "opportunity_contacts.csv",
        "opportunity_id,contact_id,Role, role \nO0000001,C0000001,economic_buyer,champion\n",
    );
    assert_mentions(&load_err(dir.path()), &["column `role` more than once"]);

    remove(dir.path(), "opportunity_contacts.csv");
    write(
        dir.path(),
        "opportunity_contacts.jsonl",
        "{\"opportunity_id\":\"O0000001\",\"contact_id\":\"C0000001\",\"role\":\"champion\"}\n\
         {\"opportunity_id\":\"O0000002\",\"contact_id\":\"C0000002\",\"role\":\"champion\",\"Role\":\"end_user\"}\n",
    );
    assert_mentions(
        &load_err(dir.path()),
        &[
            "opportunity_contacts.jsonl",
            "line 2",
            "key `role` appears twice",
        ],
    );

    remove(dir.path(), "opportunity_contacts.jsonl");
    write_parquet(
        &dir.path().join("opportunity_contacts.parquet"),
        vec![
            ("opportunity_id", text(&["O0000001"])),
            ("contact_id", text(&["C0000001"])),
            ("role", text(&["champion"])),
            ("ROLE", text(&["end_user"])),
        ],
    );
    assert_mentions(
        &load_err(dir.path()),
        &[
            "opportunity_contacts.parquet",
            "column `role` more than once",
        ],
    );
}

// 3. A table given twice, or under a name that is almost its own.

#[test]
fn table_file_and_folder_together_is_a_schema_fault() {
    let dir = data();
    let spend = "month,channel,campaign_id,amount\n2025-01,paid_search,,12000\n";
    write(dir.path(), "spend.csv", spend);
    write(dir.path(), "spend/part-1.csv", spend);
    let err = load_err(dir.path());
    assert_mentions(&err, &["spend.csv", "`spend`", "given twice", "spend/"]);
}

#[test]
fn misnamed_table_sources_are_schema_faults_not_absence() {
    for (name, expected) in [
        ("Touches.csv", "found Touches.csv; name it touches.csv"),
        (
            "TOUCHES.parquet",
            "found TOUCHES.parquet; name it touches.parquet",
        ),
        ("Touches/part-1.csv", "found Touches; name it touches/"),
        (
            "touches.csv.gz",
            "found touches.csv.gz, an unsupported format",
        ),
        ("touches.txt", "found touches.txt, an unsupported format"),
        ("touches.xlsx", "found touches.xlsx, an unsupported format"),
    ] {
        let dir = data();
        write(dir.path(), name, TOUCHES);
        let err = load_err(dir.path());
        assert_mentions(&err, &["`touches`", expected]);
    }
    // The extension is not case-sensitive (as for the parts of a table folder).
    let dir = data();
    write(dir.path(), "touches.CSV", TOUCHES);
    assert_eq!(load_ok(dir.path()).tables["touches"].stats.loaded, 2);
}

// 4. Unreadable optional inputs are not absent.

#[cfg(unix)]
#[test]
fn unusable_optional_inputs_are_schema_faults() {
    use std::os::unix::fs::symlink;
    let dir = data();
    symlink(
        dir.path().join("exports/touches.csv"),
        dir.path().join("touches.csv"),
    )
    .unwrap();
    assert_mentions(
        &load_err(dir.path()),
        &[
            "touches.csv",
            "`touches`",
            "symbolic link",
            "does not exist",
        ],
    );

    let dir = data();
    symlink(
        dir.path().join("touches.csv"),
        dir.path().join("touches.csv"),
    )
    .unwrap();
    assert_mentions(
        &load_err(dir.path()),
        &["touches.csv", "symbolic link", "cannot be followed"],
    );

    let dir = data();
    write(dir.path(), "touches.csv/part-1.csv", TOUCHES);
    assert_mentions(
        &load_err(dir.path()),
        &["touches.csv", "is a folder, not a file"],
    );

    let dir = data();
    write(dir.path(), "touches/part-1.csv.gz", "not really gzip");
    assert_mentions(
        &load_err(dir.path()),
        &[
            "touches/part-1.csv.gz",
            "unsupported file in the table folder",
        ],
    );

    let dir = data();
    write(dir.path(), "touches/part-1.csv", TOUCHES);
    write(dir.path(), "touches/part-2.csv.gz", "not really gzip");
    assert_mentions(&load_err(dir.path()), &["touches/part-2.csv.gz"]);

    let dir = data();
    write(dir.path(), "touches/part-1.csv", TOUCHES);
    write(dir.path(), "touches/2025/part-2.csv", TOUCHES);
    assert_mentions(
        &load_err(dir.path()),
        &["touches/2025", "a folder inside the table folder"],
    );

    let dir = data();
    std::fs::create_dir(dir.path().join("touches")).unwrap();
    assert_mentions(&load_err(dir.path()), &["touches", "holds no data file"]);

    let dir = data();
    std::fs::create_dir(dir.path().join("touches")).unwrap();
    symlink(
        dir.path().join("gone.csv"),
        dir.path().join("touches/part-1.csv"),
    )
    .unwrap();
    assert_mentions(
        &load_err(dir.path()),
        &["touches/part-1.csv", "does not exist"],
    );

    // Hidden files in a table folder are the one thing skipped.
    let dir = data();
    write(dir.path(), "touches/part-1.csv", TOUCHES);
    write(dir.path(), "touches/.DS_Store", "\0\0\0\x01Bud1");
    assert_eq!(load_ok(dir.path()).tables["touches"].stats.loaded, 2);
}

// 5. One validation path for CSV, Parquet and JSON lines.

#[test]
fn nan_and_infinity_are_rejected_in_every_format() {
    let month = days(2025, 1, 1);
    let dir = data();
    write_parquet(
        &dir.path().join("targets.parquet"),
        vec![
            (
                "month",
                Arc::new(Date32Array::from(vec![month; 4])) as ArrayRef,
            ),
            ("metric", text(&["mqls", "bookings", "win_rate", "nrr"])),
            (
                "target",
                Arc::new(Float64Array::from(vec![
                    1.5,
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                ])),
            ),
        ],
    );
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "targets"),
        [
            r(2, "target", NOT_FINITE, "NaN"),
            r(3, "target", NOT_FINITE, "inf"),
            r(4, "target", NOT_FINITE, "-inf"),
        ]
    );

    let dir = data();
    write(
        dir.path(),
        "targets.csv",
        "month,metric,target\n2025-01,mqls,1.5\n2025-01,bookings,NaN\n2025-01,win_rate,inf\n\
         2025-01,nrr,-Infinity\n2025-01,grr,1e999\n2025-01,cac,abc\n",
    );
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "targets"),
        [
            r(2, "target", NOT_FINITE, "NaN"),
            r(3, "target", NOT_FINITE, "inf"),
            r(4, "target", NOT_FINITE, "-Infinity"),
            r(5, "target", NOT_FINITE, "1e999"),
            r(6, "target", "unparseable number", "abc"),
        ]
    );

    let dir = data();
    write(
        dir.path(),
        "targets.jsonl",
        "{\"month\":\"2025-01\",\"metric\":\"mqls\",\"target\":1.5}\n\
         {\"month\":\"2025-01\",\"metric\":\"bookings\",\"target\":\"NaN\"}\n\
         {\"month\":\"2025-01\",\"metric\":\"nrr\",\"target\":1e999}\n",
    );
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "targets"),
        [
            r(2, "target", NOT_FINITE, "NaN"),
            r(3, "target", NOT_FINITE, "1e999"),
        ]
    );
}

/// The fixture's eight opportunities as JSON lines (amounts as numbers), then `extra`.
fn opportunities_jsonl(extra: &[&str]) -> String {
    let csv = fixture_text("opportunities.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut out = String::new();
    for line in lines {
        let fields: Vec<String> = header
            .iter()
            .zip(line.split(','))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| {
                if *k == "amount" {
                    format!("\"{k}\":{v}")
                } else {
                    format!("\"{k}\":\"{v}\"")
                }
            })
            .collect();
        out += &format!("{{{}}}\n", fields.join(","));
    }
    for e in extra {
        out += e;
        out += "\n";
    }
    out
}

#[test]
fn jsonl_bad_values_are_row_rejects_with_their_line() {
    let dir = data();
    remove(dir.path(), "opportunities.csv");
    let opp = |id: &str, rest: &str| {
        format!("{{\"opportunity_id\":\"{id}\",\"account_id\":\"A0000001\",\"created_at\":\"2025-09-01\",\"status\":\"open\",{rest}}}")
    };
    write(
        dir.path(),
        "opportunities.jsonl",
        &opportunities_jsonl(&[
            &opp("O0000009", "\"amount\":\"abc\""),
            &opp("O0000010", "\"amount\":123456789012345678901234.5"),
            &opp("O0000011", "\"amount\":1e3"),
            &opp("O0000012", "\"amount\":\"2500.50\",\"source\":\"webinar\""),
            &opp("O0000013", "\"amount\":2500.5,\"type\":\"Expansion\""),
        ]),
    );
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "opportunities"),
        [
            r(9, "amount", "unparseable money", "abc"),
            r(10, "amount", TOO_LARGE, "123456789012345678901234.5"),
            r(11, "amount", "unparseable money", "1e3"),
            r(
                12,
                "source",
                "unknown value (expected one of marketing, sales, partner, customer_success, unknown)",
                "webinar"
            ),
        ]
    );
    assert_eq!(loaded.tables["opportunities"].stats.loaded, 9);
    assert!(amounts(&loaded).contains(&("O0000013".into(), 250050)));
}

#[test]
fn jsonl_syntax_error_names_its_line() {
    let line = |o: &str, c: &str| {
        format!("{{\"opportunity_id\":\"{o}\",\"contact_id\":\"{c}\",\"role\":\"champion\"}}\n")
    };
    let good = [
        line("O0000001", "C0000001"),
        line("O0000002", "C0000002"),
        line("O0000003", "C0000003"),
        line("O0000004", "C0000004"),
    ]
    .concat();
    for (bad, expected) in [
        (
            "{\"opportunity_id\":\"O0000005\",\"contact_id\":\"C0000005\",\"role\":\"champion\"\n",
            "EOF while parsing an object",
        ),
        (
            "{\"opportunity_id\":\"O0000005\",\"contact_id\":{\"id\":\"C0000005\"},\"role\":\"x\"}\n",
            "`contact_id` holds a JSON object or array",
        ),
        ("[\"O0000005\",\"C0000005\",\"champion\"]\n", "one JSON object"),
        (
            "{\"opportunity_id\":\"O0000005\"} {\"contact_id\":\"C0000005\"}\n",
            "text after the object",
        ),
    ] {
        let dir = data();
        remove(dir.path(), "opportunity_contacts.csv");
        write(
            dir.path(),
            "opportunity_contacts.jsonl",
            &format!("{good}{bad}{}", line("O0000006", "C0000006")),
        );
        let err = load_err(dir.path());
        assert_mentions(
            &err,
            &[
                "opportunity_contacts.jsonl",
                "`opportunity_contacts`",
                "line 5",
                expected,
            ],
        );
    }
    // Blank lines are skipped: rows count objects, errors count lines.
    let dir = data();
    remove(dir.path(), "opportunity_contacts.csv");
    write(
        dir.path(),
        "opportunity_contacts.jsonl",
        &format!("{good}\n{}{{\n", line("O0000009", "C0000006")),
    );
    assert_mentions(&load_err(dir.path()), &["line 7"]);
}

#[test]
fn jsonl_money_is_read_from_the_literal_digits() {
    let dir = data();
    remove(dir.path(), "opportunities.csv");
    remove(dir.path(), "opportunity_contacts.csv");
    let opp = |id: &str, amount: &str| {
        format!("{{\"opportunity_id\":\"{id}\",\"account_id\":\"A0000002\",\"created_at\":\"2025-09-01T00:00:00Z\",\"status\":\"open\",\"amount\":{amount}}}")
    };
    write(
        dir.path(),
        "opportunities.jsonl",
        &[
            opp("O0000001", "99999999999999.99"),
            opp("O0000002", "999999999999.99"),
            opp("O0000003", "0.1"),
            opp("O0000004", "1.005"),
            opp("O0000005", "\"1000000000000.00\""),
            opp("O0000006", "123456789012.34"),
        ]
        .join("\n"),
    );
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "opportunities"),
        [
            r(1, "amount", TOO_LARGE, "99999999999999.99"),
            r(4, "amount", "more than 2 decimal places", "1.005"),
        ]
    );
    assert_eq!(
        amounts(&loaded),
        [
            ("O0000002".into(), 99_999_999_999_999),
            ("O0000003".into(), 10),
            ("O0000005".into(), 100_000_000_000_000),
            ("O0000006".into(), 12_345_678_901_234),
        ]
    );
}

#[test]
fn parquet_money_out_of_range_or_sub_cent_is_a_row_reject() {
    let dir = data();
    remove(dir.path(), "opportunities.csv");
    remove(dir.path(), "opportunity_contacts.csv");
    let opp_columns = |ids: &[&str], amount: ArrayRef| {
        let n = ids.len();
        vec![
            ("opportunity_id", text(ids)),
            ("account_id", text(&vec!["A0000001"; n])),
            ("created_at", text(&vec!["2025-01-10"; n])),
            ("status", text(&vec!["open"; n])),
            ("amount", amount),
        ]
    };
    let wide = Decimal128Array::from(vec![10_000, 10i128.pow(22), 2 * 10i128.pow(14), -500])
        .with_precision_and_scale(38, 2)
        .unwrap();
    write_parquet(
        &dir.path().join("opportunities/part-1.parquet"),
        opp_columns(&["O1", "O2", "O3", "O4"], Arc::new(wide)),
    );
    let fine = Decimal128Array::from(vec![12_300, 12_345])
        .with_precision_and_scale(12, 4)
        .unwrap();
    write_parquet(
        &dir.path().join("opportunities/part-2.parquet"),
        opp_columns(&["O5", "O6"], Arc::new(fine)),
    );
    let loaded = load_ok(dir.path());
    let got: Vec<(String, Row)> = loaded
        .rejects
        .iter()
        .filter(|x| x.table == "opportunities")
        .map(|x| {
            (
                Path::new(&x.source_file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_string(),
                (
                    x.row_number,
                    x.column.clone(),
                    x.reason.clone(),
                    x.raw_value.clone(),
                ),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "part-1.parquet".to_string(),
                r(2, "amount", TOO_LARGE, "100000000000000000000.00")
            ),
            (
                "part-1.parquet".to_string(),
                r(3, "amount", TOO_LARGE, "2000000000000.00")
            ),
            (
                "part-1.parquet".to_string(),
                r(4, "amount", "negative amount", "-5.00")
            ),
            (
                "part-2.parquet".to_string(),
                r(2, "amount", "more than 2 decimal places", "1.2345")
            ),
        ]
    );
    assert_eq!(
        amounts(&loaded),
        [("O1".into(), 10_000), ("O5".into(), 123)]
    );
}

// 6. Dates and money that load are representable through the whole pipeline.

#[test]
fn dates_outside_the_supported_range_are_rejected_in_every_format() {
    let dir = data();
    write(
        dir.path(),
        "touches.csv",
        "touch_id,contact_id,ts,channel,kind\n\
         T1,C0000001,1900-01-01,email,marketing\n\
         T2,C0000001,1899-12-31T23:59:59Z,email,marketing\n\
         T3,C0000001,2199-12-31T23:59:59.999999Z,email,marketing\n\
         T4,C0000001,2200-01-01,email,marketing\n\
         T5,C0000001,2199-12-31T23:00:00-05:00,email,marketing\n\
         T6,C0000001,0001-01-01 00:00:00,email,marketing\n",
    );
    write(
        dir.path(),
        "spend.csv",
        "month,channel,amount\n2025-01,email,100\n2300-01,email,100\n1899-12,email,100\n",
    );
    write(
        dir.path(),
        "campaigns.jsonl",
        "{\"campaign_id\":\"CMP1\",\"name\":\"Spring webinar\",\"channel\":\"webinar\",\"start_date\":\"2025-03-01\"}\n\
         {\"campaign_id\":\"CMP2\",\"name\":\"Hastings\",\"channel\":\"events\",\"start_date\":\"1066-10-14\"}\n",
    );
    write_parquet(
        &dir.path().join("subscriptions.parquet"),
        vec![
            ("subscription_id", text(&["S1", "S2", "S3"])),
            ("account_id", text(&["A0000001", "A0000002", "A0000003"])),
            (
                "start_date",
                Arc::new(Date32Array::from(vec![
                    days(2025, 1, 1),
                    days(1800, 1, 1),
                    days(2500, 1, 1),
                ])),
            ),
            ("mrr", text(&["100", "100", "100"])),
        ],
    );
    let jan = days(2025, 1, 1) as i64 * 86_400;
    write_parquet(
        &dir.path().join("lifecycle.parquet"),
        vec![
            (
                "contact_id",
                text(&["C0000001", "C0000002", "C0000003", "C0000004"]),
            ),
            ("stage", text(&["mql", "mql", "mql", "sql"])),
            (
                "ts",
                Arc::new(TimestampSecondArray::from(vec![
                    jan,
                    100_000_000_000_000_000,
                    -2_300_000_000,
                    jan,
                ])),
            ),
        ],
    );
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "touches"),
        [
            r(2, "ts", DATE_RANGE, "1899-12-31T23:59:59Z"),
            r(4, "ts", DATE_RANGE, "2200-01-01"),
            r(5, "ts", DATE_RANGE, "2199-12-31T23:00:00-05:00"),
            r(6, "ts", DATE_RANGE, "0001-01-01 00:00:00"),
        ]
    );
    assert_eq!(
        rejects(&loaded, "spend"),
        [
            r(2, "month", DATE_RANGE, "2300-01"),
            r(3, "month", DATE_RANGE, "1899-12"),
        ]
    );
    assert_eq!(
        rejects(&loaded, "campaigns"),
        [r(2, "start_date", DATE_RANGE, "1066-10-14")]
    );
    assert_eq!(
        rejects(&loaded, "subscriptions"),
        [
            r(2, "start_date", DATE_RANGE, "1800-01-01"),
            r(3, "start_date", DATE_RANGE, "2500-01-01"),
        ]
    );
    let lifecycle = rejects(&loaded, "lifecycle");
    assert_eq!(
        lifecycle
            .iter()
            .map(|x| (x.0, x.1.as_str(), x.2.as_str()))
            .collect::<Vec<_>>(),
        [(2, "ts", DATE_RANGE), (3, "ts", DATE_RANGE)]
    );
    assert!(lifecycle[1].3.starts_with("1897-"), "{lifecycle:?}");
    assert_eq!(loaded.tables["lifecycle"].stats.loaded, 2);
}

#[test]
fn money_over_one_trillion_is_rejected() {
    assert_eq!(revalign::schema::MONEY_MAX_ABS, 1_000_000_000_000);
    let dir = data();
    let mut csv = fixture_text("opportunities.csv");
    for (id, amount) in [
        ("O0000009", "1000000000000.01"),
        ("O0000010", "1000000000000"),
        ("O0000011", "-2000000000000"),
        ("O0000012", "000000000000000000012.50"),
        ("O0000013", "99999999999999999999"),
    ] {
        csv += &format!("{id},A0000003,2025-09-01,,open,{amount},,,\n");
    }
    write(dir.path(), "opportunities.csv", &csv);
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "opportunities"),
        [
            r(9, "amount", TOO_LARGE, "1000000000000.01"),
            r(11, "amount", TOO_LARGE, "-2000000000000"),
            r(13, "amount", TOO_LARGE, "99999999999999999999"),
        ]
    );
    let got = amounts(&loaded);
    assert!(got.contains(&("O0000010".into(), 100_000_000_000_000)));
    assert!(got.contains(&("O0000012".into(), 1250)));
}

// 7. Duplicates keep the first valid copy; raw values are shown as written.

#[test]
fn first_valid_copy_of_a_duplicate_id_is_kept() {
    let dir = data();
    let mut contacts = fixture_text("contacts.csv");
    // Row 41: a dangling account. Row 42: the same id, valid.
    contacts += "C0000041,A0000099,champion,CTO,cto@unknown.example,2025-01-01\n";
    contacts += "C0000041,A0000001,champion,CTO,cto@northwind.example,2025-01-01\n";
    write(dir.path(), "contacts.csv", &contacts);
    let mut opps = fixture_text("opportunities.csv");
    // Row 9: an unparseable amount. Row 10: the same id, valid.
    opps += "O0000009,A0000001,2025-09-01,,open,ten thousand,,,\n";
    opps += "O0000009,A0000001,2025-09-01,,open,10000,,,\n";
    write(dir.path(), "opportunities.csv", &opps);
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "contacts"),
        [r(
            41,
            "account_id",
            "dangling foreign key to accounts",
            "A0000099"
        )]
    );
    assert_eq!(
        rejects(&loaded, "opportunities"),
        [r(9, "amount", "unparseable money", "ten thousand")]
    );
    let ids = column_text(&loaded, "contacts", "contact_id");
    assert_eq!(ids.iter().filter(|i| *i == "C0000041").count(), 1);
    assert!(amounts(&loaded).contains(&("O0000009".into(), 1_000_000)));
}

#[test]
fn raw_value_is_the_text_in_the_file() {
    let dir = data();
    let mut opps = fixture_text("opportunities.csv");
    opps += "O0000009,A0000001,2025-09-01,,open,-100,,,\n";
    opps += "O0000010,A0000001,2025-09-01 10:00,2025-08-01,lost,100,,,\n";
    write(dir.path(), "opportunities.csv", &opps);
    write(
        dir.path(),
        "subscriptions.csv",
        "subscription_id,account_id,start_date,end_date,mrr\n\
         S1,A0000001,2025-03,2025-02,100\n\
         S2,A0000001,2025-03-01,, -0.5 \n",
    );
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "opportunities"),
        [
            r(9, "amount", "negative amount", "-100"),
            r(10, "closed_at", "closed_at before created_at", "2025-08-01"),
        ]
    );
    assert_eq!(
        rejects(&loaded, "subscriptions"),
        [
            r(1, "end_date", "end_date before start_date", "2025-02"),
            r(2, "mrr", "negative mrr", "-0.5"),
        ]
    );
    // Typed Parquet values are shown formatted.
    let dir = data();
    write_parquet(
        &dir.path().join("spend.parquet"),
        vec![
            (
                "month",
                Arc::new(Date32Array::from(vec![days(2025, 1, 1)])) as ArrayRef,
            ),
            ("channel", text(&["email"])),
            (
                "amount",
                Arc::new(
                    Decimal128Array::from(vec![-10_000])
                        .with_precision_and_scale(18, 2)
                        .unwrap(),
                ),
            ),
        ],
    );
    let loaded = load_ok(dir.path());
    assert_eq!(
        rejects(&loaded, "spend"),
        [r(1, "amount", "negative amount", "-100.00")]
    );
}

// The binary: a syntax fault is exit code 1 with the file and line on stderr.

#[test]
fn validate_exits_1_naming_the_line_of_an_unterminated_quote() {
    let dir = data();
    write_fixture_with_line(
        dir.path(),
        "opportunity_contacts.csv",
        12,
        "O0000007,C0000013,\"economic_buyer",
    );
    assert_cmd::Command::cargo_bin("revalign")
        .unwrap()
        .args(["validate", "--data"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("opportunity_contacts.csv")
                .and(predicates::str::contains("line 13"))
                .and(predicates::str::contains("unterminated quote")),
        );
}

/// With `--staging`, the data folder holds raw exports under their own names: a table
/// that staging SQL produces does not trip over a raw file named like it.
#[tokio::test]
async fn staged_tables_ignore_raw_exports_named_like_them() {
    let dir = data();
    write(dir.path(), "Touches.csv", TOUCHES);
    let staging = tempfile::tempdir().unwrap();
    write(
        staging.path(),
        "touches.sql",
        "SELECT touch_id, contact_id, CAST(ts AS VARCHAR) AS ts, channel, kind FROM touches",
    );
    let staged = load::stage(dir.path(), staging.path()).await.unwrap();
    let loaded = load::load(dir.path(), staged).unwrap();
    assert_eq!(loaded.tables["touches"].stats.loaded, 2);
    // Without staging SQL for it, the same folder is a schema fault.
    assert_mentions(
        &load_err(dir.path()),
        &["found Touches.csv; name it touches.csv"],
    );
}
