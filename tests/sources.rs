//! Source packs on exports written from the public Salesforce and Stripe field
//! references (tests/fixtures/sources, made by scripts/make_source_fixtures.py; every
//! expected number here is from tests/fixtures/sources/EXPECTED.md, computed by that
//! script from the records, not by revalign).

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use predicates::prelude::*;
use revalign::load::LoadedData;
use revalign::run::{self, InputSpec};

use crate::util::fixture;
use crate::util::revalign;

fn sources(names: &[&str]) -> InputSpec {
    InputSpec {
        sources: names.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

async fn load(folder: &str, inputs: &InputSpec) -> LoadedData {
    run::load_inputs(&fixture(&format!("sources/{folder}")), inputs)
        .await
        .unwrap()
}

/// Every row of a table rendered as text, sorted.
fn rows(batch: &RecordBatch) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let formatters: Vec<_> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
        .collect();
    let mut out: Vec<String> = (0..batch.num_rows())
        .map(|r| {
            formatters
                .iter()
                .map(|f| f.value(r).to_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    out.sort();
    out
}

fn count(loaded: &LoadedData, table: &str) -> usize {
    loaded.tables.get(table).map_or(0, |t| t.batch.num_rows())
}

async fn sql_rows(loaded: &LoadedData, sql: &str) -> Vec<String> {
    let session = revalign::engine::Session::new(&Default::default())
        .await
        .unwrap();
    revalign::pipeline::register_inputs(&session, loaded, None)
        .await
        .unwrap();
    let batches = session.ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out: Vec<String> = batches.iter().flat_map(rows).collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_salesforce_org_loads_as_its_field_reference_says() {
    let loaded = load("salesforce_api", &sources(&["salesforce"])).await;
    assert!(
        loaded.rejects.is_empty(),
        "{:?}",
        &loaded.rejects[..3.min(loaded.rejects.len())]
    );
    for (table, expected) in [
        ("accounts", 40),
        ("contacts", 149),
        ("lifecycle", 283),
        ("opportunities", 80),
        ("opportunity_contacts", 100),
        ("campaigns", 8),
        ("touches", 239),
        ("spend", 8),
    ] {
        assert_eq!(count(&loaded, table), expected, "{table}");
    }
    assert!(loaded.absent.contains(&"subscriptions"));
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT status, COUNT(*) FROM opportunities GROUP BY status"
        )
        .await,
        ["lost|28", "open|18", "won|34"]
    );
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT SUM(amount) FROM opportunities WHERE status = 'won'"
        )
        .await,
        ["1762801.50"]
    );
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT type, COUNT(*) FROM opportunities GROUP BY type"
        )
        .await,
        ["expansion|7", "new_business|65", "renewal|8"]
    );
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT COUNT(primary_contact_id) FROM opportunities"
        )
        .await,
        ["41"]
    );
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT stage, COUNT(*) FROM lifecycle GROUP BY stage"
        )
        .await,
        ["lead|149", "mql|74", "sql|60"]
    );
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT kind, activity, COUNT(*) FROM touches GROUP BY kind, activity"
        )
        .await
        .iter()
        .map(|r| r.as_str())
        .filter(|r| r.starts_with("marketing"))
        .collect::<Vec<_>>(),
        ["marketing|campaign_response|93"]
    );
    assert_eq!(
        sql_rows(&loaded, "SELECT COUNT(*) FROM touches WHERE kind = 'sales'").await,
        [(108 + 38).to_string()]
    );
    assert_eq!(
        sql_rows(&loaded, "SELECT SUM(amount) FROM spend").await,
        ["129350.75"]
    );
    // Websites of every form become bare domains (EXPECTED.md lists all 40).
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT domain FROM accounts WHERE domain IN ('acme-analytics.com', \
             'umbrellahealth.com', 'vandelay.com', 'starklogistics.com', 'cyberdyne.tech', \
             'oscorp.co.uk', 'hooli.xyz')"
        )
        .await
        .len(),
        7
    );
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT COUNT(*) FROM accounts WHERE domain IS NULL"
        )
        .await,
        ["2"]
    );
    // What was read, dropped and not mapped is reported.
    let report = &loaded.sources;
    let object = |name: &str| report.objects.iter().find(|o| o.object == name).unwrap();
    assert_eq!(
        (object("contact").rows_read, object("contact").deleted),
        (150, 1)
    );
    assert_eq!(
        (
            object("opportunity").rows_read,
            object("opportunity").deleted
        ),
        (82, 2)
    );
    let unmapped: Vec<(String, usize, String)> = report
        .unmapped
        .iter()
        .map(|u| (u.value.clone(), u.rows, u.became.clone()))
        .collect();
    assert_eq!(
        unmapped,
        [
            ("Partner Deal".to_string(), 3, "new_business".to_string()),
            ("Legal Counsel".to_string(), 2, "unknown".to_string())
        ]
    );
}

/// The same org in a warehouse connector's spelling (snake_case, `sf_` file names,
/// `_fivetran_*` columns, a typed Parquet file, `mql_date_c`) gives the same tables.
#[tokio::test]
async fn api_names_and_connector_spelling_give_the_same_tables() {
    let api = load("salesforce_api", &sources(&["salesforce"])).await;
    let synced = load("salesforce_synced", &sources(&["salesforce"])).await;
    assert!(synced.rejects.is_empty());
    for (table, t) in &api.tables {
        assert_eq!(
            rows(&t.batch),
            rows(&synced.tables[table].batch),
            "{table} differs between the spellings"
        );
    }
    assert_eq!(api.tables.len(), synced.tables.len());
    let synced_opps = synced
        .sources
        .objects
        .iter()
        .find(|o| o.object == "opportunity")
        .unwrap();
    assert_eq!(synced_opps.deleted, 2);
    assert!(synced_opps.files[0].ends_with("sf_opportunity_data.parquet"));
    assert!(synced_opps
        .ignored_columns
        .contains(&"_fivetran_synced".to_string()));
}

/// Org-specific values go in a --mapping file; it is merged over the pack's defaults.
#[tokio::test]
async fn a_mapping_file_maps_the_org_values() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("org.toml");
    std::fs::write(
        &mapping,
        "[salesforce.maps.opportunity_type.values]\n\"Partner Deal\" = \"expansion\"\n\
         [salesforce.maps.contact_role.values]\n\"Legal Counsel\" = \"procurement\"\n",
    )
    .unwrap();
    let inputs = InputSpec {
        mapping: Some(mapping.clone()),
        ..sources(&["salesforce"])
    };
    let loaded = load("salesforce_api", &inputs).await;
    assert!(
        loaded.sources.unmapped.is_empty(),
        "{:?}",
        loaded.sources.unmapped
    );
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT type, COUNT(*) FROM opportunities GROUP BY type"
        )
        .await,
        ["expansion|10", "new_business|62", "renewal|8"]
    );
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT COUNT(*) FROM opportunity_contacts WHERE role = 'procurement'"
        )
        .await[0]
            .parse::<usize>()
            .unwrap()
            >= 2,
        true
    );
    // A value the canonical column does not take is refused before anything loads.
    std::fs::write(
        &mapping,
        "[salesforce.maps.opportunity_type.values]\n\"Partner Deal\" = \"expansoin\"\n",
    )
    .unwrap();
    let err = run::load_inputs(&fixture("sources/salesforce_api"), &inputs)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("org.toml")
            && err.contains("\"expansoin\", which `opportunities.type` does not take"),
        "{err}"
    );
    // A table for a pack not given is refused (a typo must not be ignored).
    std::fs::write(
        &mapping,
        "[salesforse.maps.opportunity_type.values]\nx = \"y\"\n",
    )
    .unwrap();
    let err = run::load_inputs(&fixture("sources/salesforce_api"), &inputs)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("[salesforse]"), "{err}");
}

/// Stripe's Dashboard export: monthly amounts, links by metadata or e-mail domain,
/// trials and incomplete payments left out, unmatched customers rejected by name.
#[tokio::test]
async fn stripe_subscriptions_are_monthly_and_linked_to_accounts() {
    let loaded = load("stripe", &sources(&["stripe"])).await;
    assert_eq!(count(&loaded, "subscriptions"), 26);
    assert_eq!(loaded.rejects.len(), 2);
    assert!(loaded
        .rejects
        .iter()
        .all(|r| r.table == "subscriptions" && r.column == "account_id"));
    let mut expected = vec![
        // Yearly 7990.00 x 1 = 665.83 a month; monthly 199.00 x 3 = 597.00.
        "sub_1QhMcPPKlJoAMcZVHS5puksU|acc_002|2025-03-01|NULL|665.83",
        "sub_1QqUA9amhU718W9BL7AjFtia|acc_001|2025-02-10|NULL|597.00",
        // Canceled without Ended At: ends at Canceled At.
        "sub_1Qv0cMRMZvp1TELrMqtuGeRo|acc_014|2025-05-12|2026-02-01|81.67",
        // A reactivation: two subscriptions of one account.
        "sub_1QHhJ3lBSr5TRk8jK4x58f6F|acc_009|2025-03-03|2025-06-11|98.00",
        "sub_1Q8du0KzambV1QP9gqveYutG|acc_009|2025-11-04|NULL|796.00",
    ];
    expected.sort();
    let ids: Vec<String> = expected
        .iter()
        .map(|r| format!("'{}'", r.split('|').next().unwrap()))
        .collect();
    assert_eq!(
        sql_rows(
            &loaded,
            &format!(
                "SELECT subscription_id, account_id, start_date, end_date, mrr \
                 FROM subscriptions WHERE subscription_id IN ({})",
                ids.join(", ")
            )
        )
        .await,
        expected
    );
    assert_eq!(
        sql_rows(&loaded, "SELECT SUM(mrr) FROM subscriptions").await,
        ["13006.99"]
    );
    // Amounts in two currencies without a reporting currency are refused, not added up.
    let dir = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&fixture("sources/stripe"), dir.path());
    let path = dir.path().join("stripe_subscriptions.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen(",usd,", ",eur,", 1)).unwrap();
    let err = run::load_inputs(dir.path(), &sources(&["stripe"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("money in several currencies: EUR (subscriptions), USD (subscriptions)"),
        "{err}"
    );
    // Trialing and incomplete_expired are not revenue.
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT COUNT(*) FROM subscriptions WHERE subscription_id IN \
             ('sub_1Qt8Bvg5vehHaqJS1sx1Hb4q', 'sub_1QHXIe0iq5XvUU6rujY2FETE')"
        )
        .await,
        ["0"]
    );
}

/// The whole job on a Salesforce export, from the command line, with a written pack
/// (`source init`) giving the same outputs as the built-in one.
#[test]
fn a_salesforce_export_runs_with_one_flag_and_a_written_pack_runs_the_same() {
    let data = fixture("sources/salesforce_api");
    let out = tempfile::tempdir().unwrap();
    revalign()
        .args([
            "run",
            "--month",
            "2026-09",
            "--source",
            "salesforce",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("source salesforce opportunity")
                .and(predicate::str::contains("2 soft-deleted rows dropped"))
                .and(predicate::str::contains("\"Partner Deal\": 3 rows")),
        );
    let pack = tempfile::tempdir().unwrap();
    let pack_dir = pack.path().join("my_salesforce");
    revalign()
        .args(["source", "init", "salesforce"])
        .arg(&pack_dir)
        .assert()
        .success();
    assert!(
        pack_dir.join("mapping.toml").is_file() && pack_dir.join("opportunities.sql").is_file()
    );
    let out2 = tempfile::tempdir().unwrap();
    revalign()
        .args(["run", "--month", "2026-09", "--source"])
        .arg(&pack_dir)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(out2.path())
        .assert()
        .success();
    let (built_in, written) = (
        crate::util::parquet_outputs(&out.path().join("tables")),
        crate::util::parquet_outputs(&out2.path().join("tables")),
    );
    assert!(built_in.len() >= 10, "{} tables", built_in.len());
    assert_eq!(
        built_in, written,
        "a pack written by source init runs the same"
    );
    // The scorecard's won bookings of the month are the export's.
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("reports/2026-09/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["inputs"]["opportunities"]["loaded"], 80);
    assert_eq!(m["sources"]["unmapped"].as_array().unwrap().len(), 2);
    // Unknown packs are usage errors.
    revalign()
        .args(["validate", "--source", "sap"])
        .arg("--data")
        .arg(&data)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("salesforce, hubspot, stripe"));
}

/// A HubSpot portal as the UI exports it (property labels, label values) and as a
/// connector syncs it (internal names and values, `_fivetran_deleted`, a typed Parquet
/// deals file): the same canonical tables, with the hand-computed counts of
/// tests/fixtures/sources/EXPECTED_HUBSPOT.md.
#[tokio::test]
async fn a_hubspot_portal_loads_the_same_from_the_ui_export_and_a_connector() {
    let ui = load("hubspot_ui", &sources(&["hubspot"])).await;
    let synced = load("hubspot_synced", &sources(&["hubspot"])).await;
    for loaded in [&ui, &synced] {
        assert!(loaded.rejects.is_empty(), "{:?}", loaded.rejects.first());
        for (table, expected) in [
            ("accounts", 30),
            ("contacts", 120),
            ("lifecycle", 311),
            ("opportunities", 60),
            ("opportunity_contacts", 87),
            ("touches", 222),
        ] {
            assert_eq!(count(loaded, table), expected, "{table}");
        }
        assert_eq!(
            sql_rows(
                loaded,
                "SELECT status, COUNT(*) FROM opportunities GROUP BY status"
            )
            .await,
            ["lost|22", "open|13", "won|25"]
        );
        assert_eq!(
            sql_rows(
                loaded,
                "SELECT SUM(amount) FROM opportunities WHERE status = 'won'"
            )
            .await,
            ["822001.00"]
        );
        assert_eq!(
            sql_rows(
                loaded,
                "SELECT stage, COUNT(*) FROM lifecycle GROUP BY stage"
            )
            .await,
            [
                "customer|33",
                "lead|109",
                "mql|64",
                "opportunity|68",
                "sql|37"
            ]
        );
        assert_eq!(
            sql_rows(loaded, "SELECT kind, COUNT(*) FROM touches GROUP BY kind").await,
            ["marketing|103", "sales|119"]
        );
    }
    for (table, t) in &ui.tables {
        assert_eq!(
            rows(&t.batch),
            rows(&synced.tables[table].batch),
            "{table} differs between the UI export and the connector"
        );
    }
    let deleted: Vec<(String, usize)> = synced
        .sources
        .objects
        .iter()
        .filter(|o| o.deleted > 0)
        .map(|o| (o.object.clone(), o.deleted))
        .collect();
    assert_eq!(
        deleted,
        [
            ("call".to_string(), 2),
            ("company".to_string(), 1),
            ("contact".to_string(), 3),
            ("deal".to_string(), 2)
        ]
    );
    let unmapped = |l: &LoadedData| -> Vec<(String, usize)> {
        l.sources
            .unmapped
            .iter()
            .map(|u| (u.value.clone(), u.rows))
            .collect()
    };
    assert!(unmapped(&ui).contains(&("Partner Deal".to_string(), 2)));
    assert!(unmapped(&synced).contains(&("partner_deal".to_string(), 2)));
}

/// Faults a hostile tester found, pinned: two overlapping exports of one object, a
/// Data Loader export's all-caps headers, timestamps with offsets and `t` booleans.
#[tokio::test]
async fn overlapping_exports_all_caps_headers_and_offsets_are_read_right() {
    let dir = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&fixture("sources/salesforce_api"), dir.path());
    let campaign = std::fs::read(dir.path().join("Campaign.csv")).unwrap();
    std::fs::write(dir.path().join("sf_campaign_export.csv"), campaign).unwrap();
    let path = dir.path().join("Opportunity.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let created = header.iter().position(|h| *h == "CreatedDate").unwrap();
    lines[0] = lines[0]
        .replace("IsClosed", "ISCLOSED")
        .replace("IsWon", "ISWON")
        .replace("IsDeleted", "ISDELETED");
    let mut first: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    let id = first[0].clone();
    first[created] = "2026-08-31T20:00:00.000-0800".into();
    lines[1] = first.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let loaded = run::load_inputs(dir.path(), &sources(&["salesforce"]))
        .await
        .unwrap();
    let campaign = loaded
        .sources
        .objects
        .iter()
        .find(|o| o.object == "campaign")
        .unwrap();
    assert_eq!((campaign.rows_read, campaign.duplicates), (16, 8));
    assert_eq!(count(&loaded, "spend"), 8, "spend counted once");
    assert_eq!(
        sql_rows(
            &loaded,
            "SELECT status, COUNT(*) FROM opportunities GROUP BY status"
        )
        .await,
        ["lost|28", "open|18", "won|34"],
        "all-caps IsWon / IsClosed are read"
    );
    assert_eq!(
        count(&loaded, "opportunities"),
        80,
        "ISDELETED rows dropped"
    );
    assert_eq!(
        sql_rows(
            &loaded,
            &format!("SELECT created_at FROM opportunities WHERE opportunity_id = '{id}'")
        )
        .await,
        ["2026-09-01T04:00:00Z"],
        "an offset is converted to UTC, not cut off"
    );
}

/// A pack named twice, or two packs reading one file, would load rows twice: refused.
#[test]
fn a_pack_given_twice_or_one_file_read_by_two_packs_is_refused() {
    let data = fixture("sources/salesforce_api");
    revalign()
        .args(["validate", "--source", "salesforce,salesforce", "--data"])
        .arg(&data)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("twice"));
    revalign()
        .args(["validate", "--source", "salesforce,hubspot", "--data"])
        .arg(&data)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "read by the salesforce and the hubspot",
        ));
}
