//! Loader: one test per row-fault kind with its exact reject row, the
//! loaded + rejected = read invariant, formats, and schema faults.

use std::collections::BTreeMap;

use revalign::load::{self, Reject};

use crate::util::write_tables;

const ACCOUNTS: &str = "account_id,name\nA1,Acme\nA2,Globex\n";
const CONTACTS: &str = "contact_id,account_id,role\nC1,A1,champion\nC2,A2,\n";
const OPPORTUNITIES: &str = "opportunity_id,account_id,created_at,closed_at,status,amount\nO1,A1,2026-01-10,2026-02-01,won,100\n";
const TOUCHES: &str = "touch_id,contact_id,ts,channel,kind\nT1,C1,2026-01-01,email,marketing\n";
const OPPORTUNITY_CONTACTS: &str = "opportunity_id,contact_id,role\nO1,C1,champion\n";
const SUBSCRIPTIONS: &str =
    "subscription_id,account_id,start_date,end_date,mrr\nS1,A1,2026-02-01,,10\n";

fn base() -> BTreeMap<&'static str, String> {
    [
        ("accounts", ACCOUNTS),
        ("contacts", CONTACTS),
        ("opportunities", OPPORTUNITIES),
        ("touches", TOUCHES),
        ("opportunity_contacts", OPPORTUNITY_CONTACTS),
        ("subscriptions", SUBSCRIPTIONS),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// Load the base data with `extra` rows appended; return the rejects.
fn rejects_with(extra: &[(&'static str, &str)]) -> Vec<Reject> {
    let dir = tempfile::tempdir().unwrap();
    let mut tables = base();
    for (table, row) in extra {
        tables.get_mut(table).unwrap().push_str(&format!("{row}\n"));
    }
    let list: Vec<(&str, &str)> = tables.iter().map(|(k, v)| (*k, v.as_str())).collect();
    write_tables(dir.path(), &list);
    let loaded = load::load(dir.path(), BTreeMap::new()).unwrap();
    for (name, t) in &loaded.tables {
        assert_eq!(
            t.stats.rows_read,
            t.stats.loaded + t.stats.rejected,
            "{name}: read != loaded + rejected"
        );
        let in_file = tables[name].lines().count() - 1;
        assert_eq!(
            t.stats.rows_read, in_file,
            "{name}: every input row is counted"
        );
    }
    for r in &loaded.rejects {
        assert!(
            r.source_file.ends_with(&format!("{}.csv", r.table)),
            "{}",
            r.source_file
        );
    }
    loaded.rejects
}

fn one(
    table: &str,
    row: i64,
    column: &str,
    reason: &str,
    raw: &str,
) -> (String, i64, String, String, String) {
    (table.into(), row, column.into(), reason.into(), raw.into())
}

fn simple(rejects: &[Reject]) -> Vec<(String, i64, String, String, String)> {
    rejects
        .iter()
        .map(|r| {
            (
                r.table.clone(),
                r.row_number,
                r.column.clone(),
                r.reason.clone(),
                r.raw_value.clone(),
            )
        })
        .collect()
}

#[test]
fn clean_input_has_no_rejects() {
    assert!(rejects_with(&[]).is_empty());
}

#[test]
fn unparseable_value() {
    let r = rejects_with(&[("touches", "T2,C1,yesterday,email,marketing")]);
    assert_eq!(
        simple(&r),
        [one(
            "touches",
            2,
            "ts",
            "unparseable timestamp",
            "yesterday"
        )]
    );
    let r = rejects_with(&[("accounts", "A3,Initech")]);
    assert!(r.is_empty());
    let r = rejects_with(&[("subscriptions", "S2,A1,2026-02-30,,10")]);
    assert_eq!(
        simple(&r),
        [one(
            "subscriptions",
            2,
            "start_date",
            "unparseable date",
            "2026-02-30"
        )]
    );
}

#[test]
fn unparseable_money_and_too_many_decimals() {
    let r = rejects_with(&[
        ("opportunities", "O2,A1,2026-03-10,,open,ten"),
        ("subscriptions", "S2,A1,2026-02-01,,9.999"),
    ]);
    assert_eq!(
        simple(&r),
        [
            one("opportunities", 2, "amount", "unparseable money", "ten"),
            one(
                "subscriptions",
                2,
                "mrr",
                "more than 2 decimal places",
                "9.999"
            ),
        ]
    );
}

#[test]
fn unknown_enum_value() {
    let r = rejects_with(&[("touches", "T2,C1,2026-01-02,email,partner")]);
    assert_eq!(
        simple(&r),
        [one(
            "touches",
            2,
            "kind",
            "unknown value (expected one of marketing, sales)",
            "partner"
        )]
    );
}

#[test]
fn enum_values_are_case_insensitive_and_defaults_apply() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = base();
    t.get_mut("touches")
        .unwrap()
        .push_str("T2,C1,2026-01-02,email,Sales\n");
    let list: Vec<(&str, &str)> = t.iter().map(|(k, v)| (*k, v.as_str())).collect();
    write_tables(dir.path(), &list);
    let loaded = load::load(dir.path(), BTreeMap::new()).unwrap();
    assert!(loaded.rejects.is_empty());
    use datafusion::arrow::array::AsArray;
    let contacts = &loaded.tables["contacts"].batch;
    let roles = contacts.column_by_name("role").unwrap().as_string::<i32>();
    assert_eq!(roles.value(1), "unknown", "empty role takes the default");
    let opps = &loaded.tables["opportunities"].batch;
    assert_eq!(
        opps.column_by_name("type")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "new_business"
    );
    assert_eq!(
        opps.column_by_name("source")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "unknown"
    );
}

#[test]
fn missing_required_value() {
    let r = rejects_with(&[("touches", "T2,,2026-01-02,email,marketing")]);
    assert_eq!(
        simple(&r),
        [one("touches", 2, "contact_id", "missing value", "")]
    );
}

#[test]
fn duplicate_id_keeps_the_first_row() {
    let r = rejects_with(&[("accounts", "A1,Acme again")]);
    assert_eq!(
        simple(&r),
        [one("accounts", 3, "account_id", "duplicate id", "A1")]
    );
}

#[test]
fn dangling_foreign_keys() {
    let cases: &[(&str, &str, (&str, i64, &str, &str, &str))] = &[
        (
            "contacts",
            "C3,A9,",
            (
                "contacts",
                3,
                "account_id",
                "dangling foreign key to accounts",
                "A9",
            ),
        ),
        (
            "touches",
            "T2,C9,2026-01-02,email,marketing",
            (
                "touches",
                2,
                "contact_id",
                "dangling foreign key to contacts",
                "C9",
            ),
        ),
        (
            "opportunities",
            "O2,A9,2026-01-10,,open,5",
            (
                "opportunities",
                2,
                "account_id",
                "dangling foreign key to accounts",
                "A9",
            ),
        ),
        (
            "opportunity_contacts",
            "O9,C1,champion",
            (
                "opportunity_contacts",
                2,
                "opportunity_id",
                "dangling foreign key to opportunities",
                "O9",
            ),
        ),
        (
            "opportunity_contacts",
            "O1,C9,champion",
            (
                "opportunity_contacts",
                2,
                "contact_id",
                "dangling foreign key to contacts",
                "C9",
            ),
        ),
        (
            "subscriptions",
            "S2,A9,2026-02-01,,10",
            (
                "subscriptions",
                2,
                "account_id",
                "dangling foreign key to accounts",
                "A9",
            ),
        ),
    ];
    for (table, row, e) in cases {
        let r = rejects_with(&[(table, row)]);
        assert_eq!(simple(&r), [one(e.0, e.1, e.2, e.3, e.4)], "{table}: {row}");
    }
}

#[test]
fn rejects_cascade_to_rows_that_point_at_rejected_rows() {
    // C3's account does not exist, so C3 is rejected, and so is C3's touch.
    let r = rejects_with(&[
        ("contacts", "C3,A9,"),
        ("touches", "T2,C3,2026-01-02,email,marketing"),
    ]);
    assert_eq!(
        simple(&r),
        [
            one(
                "contacts",
                3,
                "account_id",
                "dangling foreign key to accounts",
                "A9"
            ),
            one(
                "touches",
                2,
                "contact_id",
                "dangling foreign key to contacts",
                "C3"
            ),
        ]
    );
}

#[test]
fn closed_before_created() {
    let r = rejects_with(&[("opportunities", "O2,A1,2026-03-10,2026-03-01,lost,5")]);
    assert_eq!(
        simple(&r),
        [one(
            "opportunities",
            2,
            "closed_at",
            "closed_at before created_at",
            "2026-03-01"
        )]
    );
}

#[test]
fn won_or_lost_without_close_date() {
    let r = rejects_with(&[
        ("opportunities", "O2,A1,2026-03-10,,won,5"),
        ("opportunities", "O3,A1,2026-03-10,,lost,5"),
    ]);
    assert_eq!(
        simple(&r),
        [
            one(
                "opportunities",
                2,
                "closed_at",
                "won/lost without closed_at",
                ""
            ),
            one(
                "opportunities",
                3,
                "closed_at",
                "won/lost without closed_at",
                ""
            ),
        ]
    );
}

#[test]
fn negative_amounts() {
    let r = rejects_with(&[
        ("opportunities", "O2,A1,2026-03-10,,open,-5"),
        ("subscriptions", "S2,A1,2026-02-01,,-0.5"),
    ]);
    assert_eq!(
        simple(&r),
        [
            one("opportunities", 2, "amount", "negative amount", "-5"),
            one("subscriptions", 2, "mrr", "negative mrr", "-0.5")
        ]
    );
}

#[test]
fn parquet_jsonl_and_folders_load_like_csv() {
    let dir = tempfile::tempdir().unwrap();
    write_tables(
        dir.path(),
        &[("accounts", ACCOUNTS), ("opportunities", OPPORTUNITIES)],
    );
    // contacts as JSON lines; touches as a folder of two CSV parts.
    std::fs::write(
        dir.path().join("contacts.jsonl"),
        "{\"contact_id\":\"C1\",\"account_id\":\"A1\",\"role\":\"champion\"}\n{\"contact_id\":\"C2\",\"account_id\":\"A2\"}\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("touches")).unwrap();
    std::fs::write(dir.path().join("touches/part-1.csv"), TOUCHES).unwrap();
    std::fs::write(dir.path().join("touches/part-2.csv"), "touch_id,contact_id,ts,channel,kind\nT2,C2,2026-01-02T10:00:00Z,email,marketing\nT2,C2,2026-01-02,email,marketing\n").unwrap();
    let loaded = load::load(dir.path(), BTreeMap::new()).unwrap();
    assert_eq!(loaded.tables["contacts"].stats.loaded, 2);
    assert_eq!(loaded.tables["touches"].stats.loaded, 2);
    assert_eq!(loaded.tables["touches"].stats.sources.len(), 2);
    // The duplicate is reported against its own file and row.
    assert_eq!(loaded.rejects.len(), 1);
    assert!(loaded.rejects[0]
        .source_file
        .ends_with("touches/part-2.csv"));
    assert_eq!(loaded.rejects[0].row_number, 2);

    // Parquet round trip: write the loaded accounts, read them back as an input.
    let pq = tempfile::tempdir().unwrap();
    revalign::output::write_parquet(
        &pq.path().join("accounts.parquet"),
        &loaded.tables["accounts"].batch,
    )
    .unwrap();
    write_tables(
        pq.path(),
        &[("contacts", CONTACTS), ("opportunities", OPPORTUNITIES)],
    );
    let again = load::load(pq.path(), BTreeMap::new()).unwrap();
    assert_eq!(again.tables["accounts"].stats.loaded, 2);
    assert!(again.rejects.is_empty());
}

#[test]
fn schema_faults_name_the_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_tables(
        dir.path(),
        &[
            ("accounts", ACCOUNTS),
            ("contacts", CONTACTS),
            (
                "opportunities",
                "opportunity_id,account_id,created_at,status\nO1,A1,2026-01-10,open\n",
            ),
        ],
    );
    let err = load::load(dir.path(), BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("opportunities.csv") && err.contains("`amount`"),
        "{err}"
    );

    write_tables(
        dir.path(),
        &[
            ("opportunities", OPPORTUNITIES),
            (
                "touches",
                "touch_id,contact_id,ts,channel,kind,utm_source\n",
            ),
        ],
    );
    let err = load::load(dir.path(), BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("touches.csv") && err.contains("unknown column `utm_source`"),
        "{err}"
    );

    std::fs::remove_file(dir.path().join("touches.csv")).unwrap();
    std::fs::write(dir.path().join("touches.parquet"), b"not parquet").unwrap();
    let err = load::load(dir.path(), BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("touches.parquet") && err.contains("cannot read"),
        "{err}"
    );

    std::fs::remove_file(dir.path().join("touches.parquet")).unwrap();
    std::fs::remove_file(dir.path().join("contacts.csv")).unwrap();
    let err = load::load(dir.path(), BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("required table `contacts`"), "{err}");
}

#[test]
fn empty_tables_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    write_tables(
        dir.path(),
        &[
            ("accounts", "account_id\n"),
            ("contacts", "contact_id,account_id\n"),
            (
                "opportunities",
                "opportunity_id,account_id,created_at,status,amount\n",
            ),
        ],
    );
    let loaded = load::load(dir.path(), BTreeMap::new()).unwrap();
    assert_eq!(loaded.tables["accounts"].stats.loaded, 0);
    assert!(loaded.absent.contains(&"touches"));
}

#[test]
fn docs_name_every_table_and_column() {
    let docs = std::fs::read_to_string(crate::util::repo_path("docs/schema.md")).unwrap();
    for spec in revalign::schema::TABLES {
        let line = docs
            .lines()
            .find(|l| l.starts_with(&format!("| {} ", spec.name)))
            .unwrap_or_else(|| panic!("docs/schema.md has no row for {}", spec.name));
        for col in spec.columns {
            let marker = if col.required {
                col.name.to_string()
            } else {
                format!("{}?", col.name)
            };
            assert!(
                line.contains(&marker),
                "docs/schema.md: {} should list `{marker}`",
                spec.name
            );
        }
    }
}
