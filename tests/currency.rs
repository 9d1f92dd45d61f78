//! Money in several currencies: conversion at the rate in force (hand-computed), rows
//! without a rate rejected, subscriptions cut at rate changes, and the same revenue
//! data in four currencies giving the same outputs as in one.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Date32Type, Decimal128Type};
use revalign::load::{self, LoadedData};

use crate::util::{fixture, job, parquet_outputs, revalign, write_tables};

const RATES: &str = "currency,start_date,rate\nEUR,2026-01-01,1.10\neur,2026-02-01,1.2\n";

fn load_with(
    tables: &[(&str, &str)],
    reporting: Option<&str>,
) -> revalign::error::Result<LoadedData> {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![
        ("accounts", "account_id\nA1\n"),
        ("contacts", "contact_id,account_id\nC1,A1\n"),
    ];
    all.extend_from_slice(tables);
    write_tables(dir.path(), &all);
    load::load_in_currency(dir.path(), BTreeMap::new(), reporting)
}

fn cents(loaded: &LoadedData, table: &str, column: &str) -> Vec<Option<i128>> {
    let batch = &loaded.tables[table].batch;
    let a = batch
        .column_by_name(column)
        .unwrap()
        .as_primitive::<Decimal128Type>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

#[test]
fn amounts_convert_at_the_rate_in_force_and_rows_without_one_are_rejected() {
    let opportunities = "opportunity_id,account_id,created_at,closed_at,status,amount,currency
O1,A1,2026-01-02,2026-01-15,won,1000,EUR
O2,A1,2026-02-03,,open,333.33,eur
O3,A1,2026-01-02,2026-01-20,lost,1000,JPY
O4,A1,2025-12-01,2025-12-20,won,1000,EUR
O5,A1,2026-01-02,,open,250.5,
O6,A1,2026-01-02,,open,99,USD
";
    let subscriptions = "subscription_id,account_id,start_date,end_date,mrr,currency
S1,A1,2026-01-10,,100,EUR
S2,A1,2026-01-10,2026-01-31,100,EUR
S3,A1,2026-01-15,2026-03-01,10,EUR
";
    let loaded = load_with(
        &[
            ("fx_rates", RATES),
            ("opportunities", opportunities),
            ("subscriptions", subscriptions),
        ],
        Some("USD"),
    )
    .unwrap();
    // O1: 1,000 EUR closed 01-15 at 1.10; O2: open, created 02-03 at 1.2: 399.996
    // rounds to 400.00; O5 (no currency) and O6 are USD already.
    assert_eq!(
        cents(&loaded, "opportunities", "amount"),
        vec![Some(110_000), Some(40_000), Some(25_050), Some(9_900)]
    );
    let reasons: Vec<(String, String, String)> = loaded
        .rejects
        .iter()
        .map(|r| {
            (
                r.record_key.clone().unwrap(),
                r.column.clone(),
                r.reason.clone(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                "O3".into(),
                "currency".into(),
                "no exchange rate for JPY (fx_rates)".into()
            ),
            (
                "O4".into(),
                "currency".into(),
                "no exchange rate for EUR in force on 2025-12-20 (fx_rates)".into()
            ),
        ]
    );
    let stats = &loaded.tables["opportunities"].stats;
    assert_eq!((stats.rows_read, stats.loaded, stats.rejected), (6, 4, 2));
    assert_eq!(
        stats.converted_from,
        BTreeMap::from([("EUR".to_string(), 2)])
    );
    let currency = loaded.tables["opportunities"]
        .batch
        .column_by_name("currency")
        .unwrap()
        .clone();
    let currency = currency.as_string::<i32>();
    assert!(
        currency.iter().all(|c| c == Some("USD")),
        "every amount is in USD now"
    );

    // S1 starts at 1.10 and runs into the 1.2 rate: two pieces, one id. S2 ends before
    // the change: one piece. S3 is cut at 02-01.
    let subs = &loaded.tables["subscriptions"].batch;
    let ids: Vec<&str> = subs
        .column_by_name("subscription_id")
        .unwrap()
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    assert_eq!(ids, vec!["S1", "S1", "S2", "S3", "S3"]);
    let days = |c: &str| -> Vec<Option<String>> {
        let a = subs
            .column_by_name(c)
            .unwrap()
            .as_primitive::<Date32Type>()
            .clone();
        (0..a.len())
            .map(|i| {
                a.is_valid(i)
                    .then(|| revalign::config::days_to_date(a.value(i)).to_string())
            })
            .collect()
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        days("start_date"),
        vec![
            s("2026-01-10"),
            s("2026-02-01"),
            s("2026-01-10"),
            s("2026-01-15"),
            s("2026-02-01")
        ]
    );
    assert_eq!(
        days("end_date"),
        vec![
            s("2026-02-01"),
            None,
            s("2026-01-31"),
            s("2026-02-01"),
            s("2026-03-01")
        ]
    );
    assert_eq!(
        cents(&loaded, "subscriptions", "mrr"),
        vec![
            Some(11_000),
            Some(12_000),
            Some(11_000),
            Some(1_100),
            Some(1_200)
        ]
    );
    let stats = &loaded.tables["subscriptions"].stats;
    assert_eq!(
        (stats.rows_read, stats.loaded),
        (3, 3),
        "a cut subscription is one row read and loaded"
    );
}

#[test]
fn several_currencies_need_a_reporting_currency_and_rates_need_one_too() {
    let two = "opportunity_id,account_id,created_at,closed_at,status,amount,currency
O1,A1,2026-01-02,,open,10,EUR
O2,A1,2026-01-02,,open,10,USD
";
    let err = load_with(&[("opportunities", two)], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("money in several currencies: EUR (opportunities), USD (opportunities)")
            && err.contains("reporting_currency"),
        "{err}"
    );
    let one = "opportunity_id,account_id,created_at,closed_at,status,amount,currency
O1,A1,2026-01-02,,open,10,EUR
";
    let loaded = load_with(&[("opportunities", one)], None).unwrap();
    assert_eq!(
        cents(&loaded, "opportunities", "amount"),
        vec![Some(1_000)],
        "one currency: as is"
    );
    let err = load_with(&[("fx_rates", RATES), ("opportunities", one)], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fx_rates.csv: exchange rates are given but no reporting currency"),
        "{err}"
    );
    // Bad codes and rates are row faults of their own.
    let loaded = load_with(
        &[
            ("fx_rates", "currency,start_date,rate\nEURO,2026-01-01,1\nGBP,2026-01-01,-1\nGBP,2026-01-01,1.3\n"),
            ("opportunities", "opportunity_id,account_id,created_at,closed_at,status,amount,currency\nO1,A1,2026-01-02,,open,10,$\n"),
        ],
        Some("USD"),
    )
    .unwrap();
    let reasons: Vec<&str> = loaded.rejects.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        vec![
            "not a currency code (three letters, ISO 4217)",
            "not a positive rate",
            "not a currency code (three letters, ISO 4217)"
        ]
    );
}

#[test]
fn revenue_in_four_currencies_gives_the_outputs_of_revenue_in_one() {
    // tests/fixtures/revenue_fx is tests/fixtures/revenue with amounts in EUR, GBP and
    // USD (upper and lower case, or empty) at rates that give back the same dollars,
    // each given twice so that subscriptions are cut where the rate row changes.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (one, four) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut usd = job(&fixture("revenue"), one.path(), "2026-06");
    usd.params.reporting_currency = "USD".into();
    rt.block_on(revalign::run::run(&usd)).unwrap();
    let mut fx = job(&fixture("revenue_fx"), four.path(), "2026-06");
    fx.params.reporting_currency = "USD".into();
    let summary = rt.block_on(revalign::run::run(&fx)).unwrap();
    assert_eq!(summary.manifest.rejects_total, 0);
    let converted = &summary.manifest.inputs["subscriptions"]
        .stats
        .converted_from;
    assert_eq!(
        converted,
        &BTreeMap::from([("EUR".into(), 3), ("GBP".into(), 3)])
    );
    // Coverage differs by the fx_rates table and the subscription pieces; nothing else.
    let outputs = |dir: &std::path::Path| -> Vec<(String, Vec<String>)> {
        parquet_outputs(&dir.join("tables"))
            .into_iter()
            .map(|(file, rows)| {
                let rows = rows
                    .into_iter()
                    .filter(|r| {
                        !file.starts_with("coverage/")
                            || !(r.contains("fx_rates") || r.contains("subscriptions"))
                    })
                    .collect();
                (file, rows)
            })
            .collect()
    };
    let (a, b) = (outputs(one.path()), outputs(four.path()));
    assert!(a.len() >= 10, "outputs written: {a:?}");
    assert_eq!(a, b, "in four currencies as in one");
}

#[test]
fn validate_says_what_converted() {
    revalign()
        .args(["validate", "--data"])
        .arg(fixture("revenue_fx"))
        .args(["--set", "reporting_currency=USD"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "subscriptions: rows converted to USD: 3 from EUR, 3 from GBP",
        ))
        .stdout(predicates::str::contains(
            "opportunities: rows converted to USD: 1 from EUR",
        ));
    revalign()
        .args(["validate", "--data"])
        .arg(fixture("revenue_fx"))
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "exchange rates are given but no reporting currency",
        ));
}

#[test]
fn a_multi_currency_salesforce_org_converts_as_salesforce_does() {
    // tests/fixtures/sources/salesforce_fx: corporate currency USD; EUR with dated
    // rates (ConversionRate 0.9 until 2026-01-01, then 0.8), GBP with one rate (0.75,
    // CurrencyType), a JPY opportunity without any rate. Salesforce converts an amount
    // as amount / ConversionRate at the close date (created date while open).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let inputs = revalign::run::InputSpec {
        sources: vec!["salesforce".into()],
        reporting_currency: Some("USD".into()),
        ..Default::default()
    };
    let loaded = rt
        .block_on(revalign::run::load_inputs(
            &fixture("sources/salesforce_fx"),
            &inputs,
        ))
        .unwrap();
    let batch = &loaded.tables["opportunities"].batch;
    let ids = batch
        .column_by_name("opportunity_id")
        .unwrap()
        .as_string::<i32>()
        .clone();
    let amounts: BTreeMap<String, Option<i128>> = ids
        .iter()
        .flatten()
        .map(str::to_string)
        .zip(cents(&loaded, "opportunities", "amount"))
        .collect();
    let expected = BTreeMap::from([
        ("006A".to_string(), Some(100_000)), // 900 EUR / 0.9, closed 2025-06-30
        ("006B".to_string(), Some(125_000)), // 1,000 EUR / 0.8, closed 2026-02-15
        ("006C".to_string(), Some(55_556)),  // 500 EUR / 0.9 = 555.555..., open since 2025-12-15
        ("006D".to_string(), Some(40_000)),  // 300 GBP / 0.75
        ("006E".to_string(), Some(70_000)),  // USD as is
    ]);
    assert_eq!(amounts, expected);
    let rejects: Vec<(&str, &str)> = loaded
        .rejects
        .iter()
        .map(|r| (r.record_key.as_deref().unwrap(), r.reason.as_str()))
        .collect();
    assert_eq!(
        rejects,
        vec![("006F", "no exchange rate for JPY (fx_rates)")]
    );
    // The rates as fx_rates holds them: the inverse, to 12 decimals; CurrencyType only
    // for currencies without dated rates.
    let fx = &loaded.tables["fx_rates"].batch;
    let mut rows: Vec<String> = (0..fx.num_rows())
        .map(|i| {
            let c = fx.column(0).as_string::<i32>().value(i);
            let d =
                revalign::config::days_to_date(fx.column(1).as_primitive::<Date32Type>().value(i));
            let r = fx
                .column(2)
                .as_primitive::<Decimal128Type>()
                .value_as_string(i);
            format!("{c} {d} {r}")
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            "EUR 1900-01-01 1.111111111111",
            "EUR 2026-01-01 1.250000000000",
            "GBP 1900-01-01 1.333333333333",
            "USD 1900-01-01 1.000000000000",
        ]
    );
}
