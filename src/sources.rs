//! Source packs: a CRM or billing export in with one flag (`--source salesforce,stripe`;
//! built in: salesforce, hubspot, stripe).
//!
//! A pack is staging SQL plus a mapping file (`sources/<name>/*.sql` and
//! `mapping.toml`, embedded at build time; `--source DIR` runs a pack written by
//! `revalign source init`). Loading a pack:
//! 1. finds each object's files in `--data` by name ([`object_for_file`]: the object's
//!    words in the file name, e.g. `Opportunity.csv`, `opportunity.parquet`,
//!    `sf_opportunity_data.csv`; a file named like a canonical table is never an object);
//! 2. reads them with their headers normalised ([`snake_case`]: `AccountId` and
//!    `account_id`, `Created (UTC)` and `created_utc` are the same column), drops
//!    connector bookkeeping columns (a leading `_`, as `_fivetran_synced`) and
//!    soft-deleted rows (`is_deleted` / `_fivetran_deleted` true), adds the optional
//!    columns the file lacks as empty ones, and refuses a file without a required one;
//! 3. registers the objects, and each value map of the mapping as a table
//!    `map_<name>(value, mapped)`, then runs the pack's SQL: `<table>.sql` or
//!    `<table>__<part>.sql` yields (a part of) canonical table `<table>`, and runs only
//!    when every object it reads has a file.
//!
//! What happened is reported per object (files, rows read, soft-deleted rows dropped)
//! with every picklist value a map does not know, once, with its count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::load::RawPart;

pub(crate) mod embedded {
    include!(concat!(env!("OUT_DIR"), "/sources.rs"));
}

/// The built-in packs.
pub const BUILT_IN: &[&str] = &["salesforce", "hubspot", "stripe"];

/// A pack's mapping file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// What the pack reads from, for messages ("Salesforce export").
    #[serde(default)]
    pub describes: String,
    /// The objects the pack reads, by name (snake_case of the object's API name).
    #[serde(default)]
    pub objects: BTreeMap<String, ObjectSpec>,
    /// Picklist values to canonical values, by map name.
    #[serde(default)]
    pub maps: BTreeMap<String, ValueMap>,
    /// Columns a user may rename (e.g. a custom field): `{{name}}` in the pack's SQL is
    /// replaced by the column, normalised.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnChoice>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    /// Columns a file of this object must have (normalised names).
    #[serde(default)]
    pub required: Vec<String>,
    /// Columns read when present; absent ones are empty.
    #[serde(default)]
    pub optional: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueMap {
    /// The object and column whose values it maps (for the unmapped-value report).
    pub object: String,
    pub column: String,
    /// What an unmapped value becomes (said in the report).
    pub otherwise: String,
    /// The canonical column the mapped values go to (`opportunities.type`): when it
    /// takes a fixed list of values, every value of the map must be one of them.
    #[serde(default)]
    pub target: Option<String>,
    /// Only the rows whose column holds this value are the map's (a field history's
    /// `NewValue` of one field): the unmapped-value report counts only them.
    #[serde(default)]
    pub rows_where: Option<RowsWhere>,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// `rows_where = { column = "field", equals = "{{lead_status_field}}" }`: `equals` is a
/// value or a `{{column choice}}` (then the chosen column's name); compared as column
/// names are (case, spaces and underscores aside: `Lifecycle_Stage__c` is
/// `lifecycle_stage_c`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowsWhere {
    pub column: String,
    pub equals: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnChoice {
    pub object: String,
    /// The column as the export names it (either spelling).
    pub column: String,
}

/// A pack: its SQL files and its mapping (after `--mapping` overrides).
#[derive(Debug, Clone)]
pub struct Pack {
    pub name: String,
    /// Where it comes from: `built-in sources/<name>` or a folder.
    pub origin: String,
    pub scripts: Vec<(String, String)>,
    pub mapping: Mapping,
}

impl Pack {
    /// A built-in pack by name, or a pack folder (`revalign source init` writes one);
    /// `overrides` is the `--mapping` file's table for this pack.
    pub fn load(name_or_dir: &str, overrides: Option<(&Path, &toml::Value)>) -> Result<Pack> {
        let dir = Path::new(name_or_dir);
        let (name, origin, files): (String, String, Vec<(String, String)>) =
            if BUILT_IN.contains(&name_or_dir) {
                let prefix = format!("sources/{name_or_dir}/");
                let files = embedded::SOURCES
                    .iter()
                    .filter(|(f, _)| f.starts_with(&prefix))
                    .map(|(f, t)| (f.to_string(), t.to_string()))
                    .collect();
                (name_or_dir.to_string(), format!("built-in {prefix}"), files)
            } else if dir.join("mapping.toml").is_file() {
                let mut files = vec![];
                let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
                    .at(dir)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                entries.sort();
                for path in entries {
                    if path.extension().is_some_and(|e| e == "sql" || e == "toml") {
                        let text = std::fs::read_to_string(&path).at(&path)?;
                        files.push((path.display().to_string(), text));
                    }
                }
                let name = dir
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_else(|| "custom".into());
                (name, dir.display().to_string(), files)
            } else {
                return Err(Error::Usage(format!(
                    "--source {name_or_dir}: neither a built-in source ({}) nor a folder \
                     holding mapping.toml (see `revalign source init`)",
                    BUILT_IN.join(", ")
                )));
            };
        let (mapping_file, mapping_text) = files
            .iter()
            .find(|(f, _)| f.ends_with("mapping.toml"))
            .ok_or_else(|| Error::Usage(format!("source {name}: no mapping.toml")))?;
        let mut value: toml::Value = toml::from_str(mapping_text).map_err(|e| Error::Config {
            file: mapping_file.into(),
            message: e.to_string(),
        })?;
        // The pack's own mapping first, so a fault is blamed on the file that has it.
        value
            .clone()
            .try_into::<Mapping>()
            .map_err(|e: toml::de::Error| Error::Config {
                file: mapping_file.into(),
                message: e.to_string(),
            })?;
        if let Some((_, overrides)) = overrides {
            merge(&mut value, overrides);
        }
        let mapping: Mapping = value.try_into().map_err(|e: toml::de::Error| {
            let file = overrides.map_or(PathBuf::from(mapping_file), |(f, _)| f.to_path_buf());
            Error::Config {
                file,
                message: format!("[{name}]: {e}"),
            }
        })?;
        let blamed = overrides.map_or(PathBuf::from(mapping_file), |(f, _)| f.to_path_buf());
        check_map_targets(&name, &mapping).map_err(|message| Error::Config {
            file: blamed,
            message,
        })?;
        let scripts = files
            .into_iter()
            .filter(|(f, _)| f.ends_with(".sql"))
            .collect();
        Ok(Pack {
            name,
            origin,
            scripts,
            mapping,
        })
    }
}

/// The packs of `--source`, each with its part of the `--mapping` file. A mapping
/// file table that names no pack given is an error (a typo would be ignored).
pub fn load_packs(names: &[String], mapping: Option<&Path>) -> Result<Vec<Pack>> {
    let overrides: Option<toml::Value> = match mapping {
        Some(file) => {
            let text = std::fs::read_to_string(file).at(file)?;
            Some(toml::from_str(&text).map_err(|e| Error::Config {
                file: file.to_path_buf(),
                message: e.to_string(),
            })?)
        }
        None => None,
    };
    let mut seen = BTreeSet::new();
    if let Some(twice) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(Error::Usage(format!("--source names `{twice}` twice")));
    }
    let packs: Vec<Pack> = names
        .iter()
        .map(|n| {
            // A pack folder's table in --mapping is named after the folder
            // (`[my_pack...]` for `--source path/to/my_pack`), or the path as given.
            let folder = Path::new(n)
                .file_name()
                .map(|f| f.to_string_lossy().to_string());
            let own = overrides.as_ref().and_then(|o| {
                o.get(n.as_str())
                    .or_else(|| folder.as_deref().and_then(|f| o.get(f)))
            });
            Pack::load(n, mapping.zip(own))
        })
        .collect::<Result<_>>()?;
    if let (Some(file), Some(toml::Value::Table(table))) = (mapping, &overrides) {
        if let Some(key) = table
            .keys()
            .find(|k| !packs.iter().any(|p| &p.name == *k || names.contains(k)))
        {
            return Err(Error::Config {
                file: file.to_path_buf(),
                message: format!(
                    "[{key}] names no source given with --source ({})",
                    names.join(", ")
                ),
            });
        }
    }
    Ok(packs)
}

/// Every map with a `target` whose column takes a fixed list maps into that list (a
/// typo such as `expansoin` would otherwise reject every row it maps at load).
fn check_map_targets(pack: &str, mapping: &Mapping) -> std::result::Result<(), String> {
    for (name, map) in &mapping.maps {
        let Some(target) = &map.target else { continue };
        let column = target
            .split_once('.')
            .and_then(|(t, c)| crate::schema::table(t)?.column(c))
            .ok_or_else(|| {
                format!("[{pack}.maps.{name}]: target `{target}` is no canonical column")
            })?;
        if let crate::schema::Kind::Enum(allowed) = column.kind {
            let values = map
                .values
                .iter()
                .map(|(from, to)| (from.as_str(), to.as_str()));
            let otherwise = std::iter::once(("(otherwise)", map.otherwise.as_str()));
            if let Some((from, to)) = values
                .chain(otherwise)
                .find(|(_, to)| !allowed.contains(to))
            {
                return Err(format!(
                    "[{pack}.maps.{name}]: {from:?} maps to {to:?}, which `{target}` does not take \
                     (one of {})",
                    allowed.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// `over` merged into `base`: tables key by key, anything else replaced.
fn merge(base: &mut toml::Value, over: &toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// A header as one spelling: `AccountId`, `account_id` and ` Account ID ` are all
/// `account_id`; `Created (UTC)` is `created_utc`; `MQL_Date__c` is `mql_date__c`.
/// Word boundaries are case changes (`IsWon`, `MQLDate`) and anything that is not a
/// letter, digit or underscore.
pub fn snake_case(header: &str) -> String {
    let chars: Vec<char> = header.trim().chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() || c == '_' {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            // `MQLDate` is mql_date, but `IDs` and `URLs` are one word (a plural
            // acronym: one lower-case letter after the capitals).
            let after_next = chars.get(i + 2);
            let boundary = c.is_ascii_uppercase()
                && prev.is_some_and(|p| {
                    p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase()
                            && next.is_some_and(|n| n.is_ascii_lowercase())
                            && after_next.is_some_and(|n| n.is_ascii_lowercase()))
                });
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// Words that may surround an object's name in a file name (`sf_opportunity_data`,
/// `Opportunity_export_2026_10`).
const NOISE_WORDS: &[&str] = &[
    "sf",
    "salesforce",
    "hs",
    "hubspot",
    "stripe",
    "export",
    "exports",
    "data",
    "extract",
    "report",
    "all",
    "object",
    "objects",
    "table",
    "dump",
    "raw",
    "full",
];

/// The object a file feeds, from its name: the object's words appear in order in the
/// file name's words, the last one possibly in a plural form, and every other word is
/// a noise word or a number; the longest object name wins (`opportunity_contact_role`
/// over `opportunity`). A file named after a canonical table is never an object.
pub fn object_for_file<'a>(
    stem: &str,
    objects: impl Iterator<Item = &'a String>,
) -> Option<String> {
    let name = snake_case(stem);
    if crate::schema::table(&name).is_some() {
        return None;
    }
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let mut best: Option<&String> = None;
    for object in objects {
        let ow: Vec<&str> = object.split('_').collect();
        let fits = (0..words.len().saturating_sub(ow.len() - 1)).any(|start| {
            let window = &words[start..start + ow.len()];
            let same = window.iter().zip(&ow).enumerate().all(|(i, (w, o))| {
                w == o || (i == ow.len() - 1 && plural_of(o).iter().any(|p| p == w))
            });
            same && words
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < start || *i >= start + ow.len())
                .all(|(_, w)| NOISE_WORDS.contains(w) || w.bytes().all(|b| b.is_ascii_digit()))
        });
        if fits && best.is_none_or(|b| object.len() > b.len()) {
            best = Some(object);
        }
    }
    best.cloned()
}

/// A normalised column name without its underscores, for comparing: `is_closed`,
/// `ISCLOSED` (Data Loader's all-caps headers) and `IsClosed` are one column, and so
/// are `mql_date__c` and a connector's `mql_date_c`. A leading `_` (connector
/// bookkeeping) is kept.
fn same_column(name: &str) -> String {
    let rest: String = name
        .trim_start_matches('_')
        .chars()
        .filter(|c| *c != '_')
        .collect();
    if name.starts_with('_') {
        format!("_{rest}")
    } else {
        rest
    }
}

fn plural_of(word: &str) -> Vec<String> {
    let mut forms = vec![format!("{word}s"), format!("{word}es")];
    if let Some(stem) = word.strip_suffix('y') {
        forms.push(format!("{stem}ies"));
    }
    forms
}

/// What loading the packs did, for the run summary, `validate` and the manifest.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SourceReport {
    pub objects: Vec<ObjectReport>,
    /// Picklist values no map knows, once each with its count.
    pub unmapped: Vec<UnmappedValue>,
    /// Canonical table parts a pack could not produce, and why.
    pub skipped: Vec<SkippedPart>,
    /// The parts it produced: rows of which object became how many rows of which
    /// table, and how many of those loaded.
    pub parts: Vec<PartReport>,
}

impl SourceReport {
    /// The report as summary lines (none without source packs).
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![];
        for o in &self.objects {
            let mut line = format!(
                "source {} {:<26} {:>7} rows read from {}",
                o.source,
                o.object,
                o.rows_read,
                o.files.join(", ")
            );
            if o.deleted > 0 {
                line.push_str(&format!("; {} soft-deleted rows dropped", o.deleted));
            }
            if o.duplicates > 0 {
                line.push_str(&format!("; {} duplicate rows dropped", o.duplicates));
            }
            lines.push(line);
            if !o.missing_columns.is_empty() {
                lines.push(format!(
                    "source {} {} has no column {} (read as empty)",
                    o.source,
                    o.object,
                    o.missing_columns.join(", ")
                ));
            }
        }
        for u in &self.unmapped {
            lines.push(format!(
                "source {} unmapped {}.{} value {:?}: {} rows, read as {:?} (add it to [{}.maps.{}.values] with --mapping)",
                u.source, u.object, u.column, u.value, u.rows, u.became, u.source, u.map
            ));
        }
        for p in &self.parts {
            let rejected = p.rows - p.loaded;
            lines.push(format!(
                "source {} {}: {} {} rows -> {} rows of {}{}",
                p.source,
                p.script,
                p.object_rows,
                p.object,
                p.rows,
                p.table,
                if rejected > 0 {
                    format!(", {rejected} rejected (see rejects)")
                } else {
                    String::new()
                }
            ));
        }
        for s in &self.skipped {
            lines.push(format!(
                "source {} {}: not used ({})",
                s.source, s.script, s.reason
            ));
        }
        lines
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ObjectReport {
    pub source: String,
    pub object: String,
    pub files: Vec<String>,
    pub rows_read: usize,
    /// Rows dropped as soft-deleted (`is_deleted` / `_fivetran_deleted`).
    pub deleted: usize,
    /// Connector bookkeeping columns ignored.
    pub ignored_columns: Vec<String>,
    /// Columns the pack reads that no file of the object has (read as empty).
    pub missing_columns: Vec<String>,
    /// Rows dropped as exact copies of an earlier row (overlapping exports).
    pub duplicates: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnmappedValue {
    pub source: String,
    pub map: String,
    pub object: String,
    pub column: String,
    pub value: String,
    pub rows: usize,
    /// What the rows got instead.
    pub became: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SkippedPart {
    pub source: String,
    pub script: String,
    pub reason: String,
}

/// One part a pack produced: `rows` rows of `table` from the `object_rows` kept rows
/// of `object`; of them `loaded` loaded (the rest are in `rejects`, with this part as
/// their source file).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartReport {
    pub source: String,
    pub script: String,
    pub object: String,
    pub object_rows: usize,
    pub table: String,
    pub rows: usize,
    pub loaded: usize,
}

impl PartReport {
    /// The `source_file` of this part's rejects.
    pub fn label(&self) -> String {
        format!("source {}: {}", self.source, self.script)
    }
}

/// Run `packs` over the files of `data`; returns the canonical table parts and the
/// report. A pack reading `crm_accounts` (Stripe) links to the accounts an earlier
/// pack produced, or to a canonical accounts file.
pub async fn run_packs(
    ctx: &SessionContext,
    data: &Path,
    packs: &[Pack],
) -> Result<(BTreeMap<String, Vec<RawPart>>, SourceReport)> {
    let mut parts: BTreeMap<String, Vec<RawPart>> = BTreeMap::new();
    let mut report = SourceReport::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(data)
        .at(data)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && crate::load::format_known(p))
        .collect();
    files.sort();
    // A billing pack links to the CRM's accounts: CRM packs run first.
    let mut claimed: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut ordered: Vec<&Pack> = packs.iter().collect();
    ordered.sort_by_key(|p| p.name == "stripe");
    for pack in ordered {
        let mut present = BTreeSet::new();
        let mut kept_rows: BTreeMap<String, usize> = BTreeMap::new();
        for object in pack.mapping.objects.keys() {
            let mine: Vec<&PathBuf> = files
                .iter()
                .filter(|f| {
                    let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                    object_for_file(stem, pack.mapping.objects.keys()).as_ref() == Some(object)
                })
                .collect();
            // One file feeds one pack: `Contact.csv` read by two CRM packs would load
            // every contact twice.
            for file in &mine {
                if let Some(other) = claimed.insert((*file).clone(), pack.name.clone()) {
                    return Err(Error::Staging {
                        file: (*file).clone(),
                        message: format!(
                            "read by the {other} and the {} source packs; give each source \
                             its own --data folder or rename the file",
                            pack.name
                        ),
                    });
                }
            }
            // An object without a file is an empty table: a part reading it as a side
            // table (a lead's converted contact, a primary contact role) still runs.
            let (batch, object_report) = read_object(pack, object, &mine)?;
            kept_rows.insert(object.clone(), batch.num_rows());
            if !mine.is_empty() {
                report
                    .unmapped
                    .extend(unmapped_values(pack, object, &batch));
                present.insert(object.clone());
                report.objects.push(object_report);
            }
            register(ctx, object, batch.schema(), vec![batch])?;
        }
        let reads_crm_accounts = pack
            .scripts
            .iter()
            .any(|(_, sql)| crate::query::sql_identifiers(sql).contains("crm_accounts"));
        if reads_crm_accounts {
            register_crm_accounts(ctx, data, parts.get("accounts"))?;
        }
        for (name, map) in &pack.mapping.maps {
            let (values, mapped): (Vec<&str>, Vec<&str>) = map
                .values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .unzip();
            let batch = RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("value", DataType::Utf8, false),
                    Field::new("mapped", DataType::Utf8, false),
                ])),
                vec![
                    Arc::new(StringArray::from(values)) as ArrayRef,
                    Arc::new(StringArray::from(mapped)),
                ],
            )?;
            register(ctx, &format!("map_{name}"), batch.schema(), vec![batch])?;
        }
        // Shared views (`view__<name>.sql`) first, in file-name order (a view may read
        // one named before it): the parts read them.
        for (file, sql) in &pack.scripts {
            let Some(view) = view_name(file) else {
                continue;
            };
            if pack.mapping.objects.contains_key(view) || view.starts_with("map_") {
                return Err(Error::Staging {
                    file: file.into(),
                    message: format!("view `{view}` would hide the object or map of that name"),
                });
            }
            let df = crate::engine::read_only_sql(ctx, &fill_columns(pack, sql)?)
                .await
                .map_err(|e| Error::Staging {
                    file: file.into(),
                    message: e.to_string(),
                })?;
            ctx.deregister_table(view)?;
            ctx.register_table(view, df.into_view())?;
        }
        let mut produced: BTreeMap<String, Vec<RawPart>> = BTreeMap::new();
        for (file, sql) in &pack.scripts {
            if view_name(file).is_some() {
                continue;
            }
            let stem = Path::new(file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let table = stem.split("__").next().unwrap_or_default().to_string();
            if crate::schema::table(&table).is_none() {
                return Err(Error::Staging {
                    file: file.into(),
                    message: format!(
                        "`{table}` is not a canonical table (name pack files <table>.sql, \
                         <table>__<part>.sql or view__<name>.sql)"
                    ),
                });
            }
            let object = sql
                .lines()
                .find_map(|l| l.trim().strip_prefix("-- object:"))
                .map(|o| o.trim().to_string())
                .ok_or_else(|| Error::Staging {
                    file: file.into(),
                    message: "a pack's SQL file starts with `-- object: <name>`, the \
                              mapping object its rows come from"
                        .into(),
                })?;
            if !pack.mapping.objects.contains_key(&object) {
                return Err(Error::Staging {
                    file: file.into(),
                    message: format!(
                        "`-- object: {object}` names no object of the mapping ({})",
                        pack.mapping
                            .objects
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            let skip = if !present.contains(&object) {
                Some(format!("no {object} file"))
            } else if crate::load::locate(data, &table)?.is_some() {
                Some(format!("`{table}` is given by a file in the data folder"))
            } else {
                None
            };
            if let Some(reason) = skip {
                report.skipped.push(SkippedPart {
                    source: pack.name.clone(),
                    script: file.clone(),
                    reason,
                });
                continue;
            }
            let sql = fill_columns(pack, sql)?;
            let mut part_report = PartReport {
                source: pack.name.clone(),
                script: file.clone(),
                object_rows: kept_rows.get(&object).copied().unwrap_or(0),
                object,
                table: table.clone(),
                rows: 0,
                loaded: 0,
            };
            let part =
                crate::load::staged_part(ctx, Path::new(file), &part_report.label(), &sql, &table)
                    .await?;
            part_report.rows = part.batches.iter().map(|b| b.num_rows()).sum();
            part_report.loaded = part_report.rows;
            report.parts.push(part_report);
            produced.entry(table).or_default().push(part);
        }
        for (table, table_parts) in produced {
            parts.entry(table).or_default().extend(table_parts);
        }
    }
    Ok((parts, report))
}

/// `crm_accounts(account_id, domain)`, as text: the CRM accounts a billing pack links to
/// by e-mail domain. From the `accounts` parts an earlier pack produced, else the
/// canonical `accounts` file(s) in `data`, else empty. Every part counts, whatever its
/// column types (a Parquet part beside a CSV one).
fn register_crm_accounts(
    ctx: &SessionContext,
    data: &Path,
    produced: Option<&Vec<RawPart>>,
) -> Result<()> {
    let from_files;
    let parts: &[RawPart] = match produced {
        Some(parts) => parts,
        None => {
            from_files = match crate::load::locate(data, "accounts")? {
                Some(files) => files
                    .iter()
                    .map(|f| crate::load::read_raw_file(f, "accounts"))
                    .collect::<Result<Vec<_>>>()?,
                None => vec![],
            };
            &from_files
        }
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("account_id", DataType::Utf8, true),
        Field::new("domain", DataType::Utf8, true),
    ]));
    let text = |batch: &RecordBatch, name: &str| -> Result<ArrayRef> {
        Ok(match batch.column_by_name(name) {
            Some(c) => datafusion::arrow::compute::cast(c, &DataType::Utf8)?,
            None => datafusion::arrow::array::new_null_array(&DataType::Utf8, batch.num_rows()),
        })
    };
    let batches = parts
        .iter()
        .flat_map(|p| &p.batches)
        .map(|b| {
            let columns = vec![text(b, "account_id")?, text(b, "domain")?];
            Ok(RecordBatch::try_new(schema.clone(), columns)?)
        })
        .collect::<Result<Vec<_>>>()?;
    register(ctx, "crm_accounts", schema, batches)
}

/// Register `batches` as table `name` in `ctx`, replacing a table of that name.
fn register(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(())
}

/// The view a pack file defines: `view__<name>.sql` is the view `<name>`, which the
/// pack's parts may read (SQL they share, written once).
fn view_name(file: &str) -> Option<&str> {
    Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("view__"))
}

/// `{{name}}` in a pack's SQL: the column the mapping names, normalised.
fn fill_columns(pack: &Pack, sql: &str) -> Result<String> {
    let mut sql = sql.to_string();
    for (name, choice) in &pack.mapping.columns {
        sql = sql.replace(&format!("{{{{{name}}}}}"), &snake_case(&choice.column));
    }
    if let Some(at) = sql.find("{{") {
        return Err(Error::Config {
            file: PathBuf::from(format!("{} mapping.toml", pack.origin)),
            message: format!(
                "the pack's SQL uses `{}` but the mapping's [columns] does not name it",
                &sql[at..sql[at..].find("}}").map_or(sql.len(), |e| at + e + 2)]
            ),
        });
    }
    Ok(sql)
}

/// Read an object's files: headers normalised, bookkeeping columns and soft-deleted
/// rows dropped, optional columns added, every column as text (as staging SQL sees a
/// CSV), one batch.
fn read_object(
    pack: &Pack,
    object: &str,
    files: &[&PathBuf],
) -> Result<(RecordBatch, ObjectReport)> {
    let spec = &pack.mapping.objects[object];
    let mut wanted: Vec<String> = spec.required.clone();
    wanted.extend(spec.optional.iter().cloned());
    for choice in pack.mapping.columns.values().filter(|c| c.object == object) {
        wanted.push(snake_case(&choice.column));
    }
    let mut seen = BTreeSet::new();
    wanted.retain(|c| seen.insert(c.clone()));
    let mut report = ObjectReport {
        source: pack.name.clone(),
        object: object.to_string(),
        files: vec![],
        rows_read: 0,
        deleted: 0,
        ignored_columns: vec![],
        missing_columns: vec![],
        duplicates: 0,
    };
    let mut columns: Vec<Vec<Option<String>>> = vec![vec![]; wanted.len()];
    let mut found: BTreeSet<String> = BTreeSet::new();
    for path in files {
        report.files.push(path.display().to_string());
        let (schema, batches) = crate::load::read_file(path, object)?;
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        // Compared without underscores (see `same_column`).
        let normalised: Vec<String> = names.iter().map(|n| same_column(&snake_case(n))).collect();
        for (raw, norm) in names.iter().zip(&normalised) {
            if raw.trim().starts_with('_') && !report.ignored_columns.contains(raw) {
                report.ignored_columns.push(raw.trim().to_string());
            }
            let same: Vec<&String> = names
                .iter()
                .zip(&normalised)
                .filter(|(_, n)| *n == norm)
                .map(|(r, _)| r)
                .collect();
            if same.len() > 1 && !raw.trim().starts_with('_') {
                return Err(Error::Unreadable {
                    file: path.to_path_buf(),
                    table: object.into(),
                    message: format!(
                        "the headers {} are one column to the {} pack (compared in snake_case \
                         without underscores); keep one",
                        same.iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(" and "),
                        pack.name
                    ),
                });
            }
        }
        for required in &spec.required {
            if !normalised.contains(&same_column(required)) {
                return Err(Error::Unreadable {
                    file: path.to_path_buf(),
                    table: object.into(),
                    message: format!(
                        "the {} object needs column `{required}` (any spelling: API name or \
                         snake_case); the file has {}",
                        pack.name,
                        if names.is_empty() {
                            "no columns (is it empty?)".to_string()
                        } else {
                            format!("the columns {}", names.join(", "))
                        }
                    ),
                });
            }
        }
        let index_of = |name: &str, bookkeeping: bool| {
            names.iter().zip(&normalised).position(|(raw, n)| {
                *n == same_column(name) && raw.trim().starts_with('_') == bookkeeping
            })
        };
        let deleted_columns: Vec<usize> = [
            index_of("is_deleted", false),
            index_of("_fivetran_deleted", true),
        ]
        .into_iter()
        .flatten()
        .collect();
        for batch in batches {
            report.rows_read += batch.num_rows();
            let keep: BooleanArray = (0..batch.num_rows())
                .map(|row| {
                    Some(
                        !deleted_columns
                            .iter()
                            .any(|&c| is_true(batch.column(c), row)),
                    )
                })
                .collect();
            report.deleted += batch.num_rows() - keep.true_count();
            let batch = filter_record_batch(&batch, &keep)?;
            for (out, name) in columns.iter_mut().zip(&wanted) {
                match index_of(name, false) {
                    Some(c) => {
                        found.insert(name.clone());
                        out.extend(text_values(batch.column(c))?)
                    }
                    None => out.extend(std::iter::repeat_n(None, batch.num_rows())),
                }
            }
        }
    }
    let schema = Arc::new(Schema::new(
        wanted
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .into_iter()
        .map(|values| Arc::new(StringArray::from(values)) as ArrayRef)
        .collect();
    let batch = if arrays.is_empty() {
        RecordBatch::new_empty(schema)
    } else {
        RecordBatch::try_new(schema, arrays)?
    };
    // Columns the export does not have are empty: say which (a misspelt custom field or
    // header would otherwise empty a column without a word).
    if !files.is_empty() {
        report.missing_columns = wanted
            .iter()
            .filter(|c| !found.contains(*c))
            .cloned()
            .collect();
    }
    // Two exports of one object overlap: a row given twice is one row.
    let (batch, duplicates) = without_duplicate_rows(&batch)?;
    report.duplicates = duplicates;
    Ok((batch, report))
}

/// `batch` without rows that repeat an earlier row exactly, and how many were dropped.
fn without_duplicate_rows(batch: &RecordBatch) -> Result<(RecordBatch, usize)> {
    use datafusion::arrow::row::{RowConverter, SortField};
    if batch.num_columns() == 0 {
        return Ok((batch.clone(), 0));
    }
    let converter = RowConverter::new(
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect(),
    )?;
    let rows = converter.convert_columns(batch.columns())?;
    let mut seen = std::collections::HashSet::with_capacity(batch.num_rows());
    let keep: BooleanArray = rows.iter().map(|r| Some(seen.insert(r.owned()))).collect();
    let dropped = batch.num_rows() - keep.true_count();
    if dropped == 0 {
        return Ok((batch.clone(), 0));
    }
    Ok((filter_record_batch(batch, &keep)?, dropped))
}

/// A soft-delete flag: a true boolean, or `true`/`1`/`t`/`yes` as text.
fn is_true(array: &ArrayRef, row: usize) -> bool {
    if array.is_null(row) {
        return false;
    }
    match array.data_type() {
        DataType::Boolean => array.as_boolean().value(row),
        _ => datafusion::arrow::util::display::array_value_to_string(array, row)
            .map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "true" | "1" | "t" | "yes" | "y"
                )
            })
            .unwrap_or(false),
    }
}

/// A column's values as text (empty text is missing), whatever the file's type.
fn text_values(array: &ArrayRef) -> Result<Vec<Option<String>>> {
    let text = datafusion::arrow::compute::cast(array, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    Ok((0..text.len())
        .map(|i| {
            (!text.is_null(i))
                .then(|| text.value(i).trim().to_string())
                .filter(|v| !v.is_empty())
        })
        .collect())
}

/// Values of `object` that a map over it does not know, with their counts.
fn unmapped_values(pack: &Pack, object: &str, batch: &RecordBatch) -> Vec<UnmappedValue> {
    let mut out = vec![];
    for (name, map) in pack.mapping.maps.iter().filter(|(_, m)| m.object == object) {
        let Some(column) = batch.column_by_name(&snake_case(&map.column)) else {
            continue;
        };
        let values = column.as_string::<i32>();
        // The rows that are the map's, when it says which.
        let filter = map.rows_where.as_ref().map(|w| {
            let wanted = match w
                .equals
                .strip_prefix("{{")
                .and_then(|e| e.strip_suffix("}}"))
            {
                Some(choice) => pack
                    .mapping
                    .columns
                    .get(choice.trim())
                    .map_or(w.equals.clone(), |c| c.column.clone()),
                None => w.equals.clone(),
            };
            (
                batch
                    .column_by_name(&snake_case(&w.column))
                    .map(|c| c.as_string::<i32>().clone()),
                same_column(&snake_case(&wanted)),
            )
        });
        let counted = |row: usize| match &filter {
            None => true,
            Some((None, _)) => false,
            Some((Some(c), wanted)) => {
                c.is_valid(row) && same_column(&snake_case(c.value(row).trim())) == *wanted
            }
        };
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for row in 0..values.len() {
            if values.is_valid(row) && counted(row) && !map.values.contains_key(values.value(row)) {
                *counts.entry(values.value(row)).or_default() += 1;
            }
        }
        out.extend(counts.into_iter().map(|(value, rows)| UnmappedValue {
            source: pack.name.clone(),
            map: name.clone(),
            object: object.to_string(),
            column: snake_case(&map.column),
            value: value.to_string(),
            rows,
            became: map.otherwise.clone(),
        }));
    }
    out
}

/// `revalign source init NAME DIR`: the pack's SQL and mapping written into `dir`.
pub fn init(name: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    if !BUILT_IN.contains(&name) {
        return Err(Error::Usage(format!(
            "source init {name}: no built-in source of that name ({})",
            BUILT_IN.join(", ")
        )));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "source init: {} is a file; give a folder",
            dir.display()
        )));
    }
    let prefix = format!("sources/{name}/");
    let files: Vec<(PathBuf, &str)> = embedded::SOURCES
        .iter()
        .filter(|(f, _)| f.starts_with(&prefix))
        .map(|(f, text)| (dir.join(&f[prefix.len()..]), *text))
        .collect();
    // Nothing is written unless every file can be: no half-written pack.
    if let Some((path, _)) = files.iter().find(|(p, _)| p.exists()) {
        return Err(Error::Usage(format!(
            "source init: {} exists; choose a folder without the pack's files",
            path.display()
        )));
    }
    std::fs::create_dir_all(dir).at(dir)?;
    for (path, text) in &files {
        std::fs::write(path, text).at(path)?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_have_one_spelling() {
        for (raw, want) in [
            ("AccountId", "account_id"),
            ("account_id", "account_id"),
            (" Account ID ", "account_id"),
            ("IsWon", "is_won"),
            ("NumberOfEmployees", "number_of_employees"),
            ("MQL_Date__c", "mql_date__c"),
            ("MQLDate", "mql_date"),
            ("Created (UTC)", "created_utc"),
            ("account_id (metadata)", "account_id_metadata"),
            ("Customer ID", "customer_id"),
            ("CurrencyIsoCode", "currency_iso_code"),
            ("Associated Contact IDs", "associated_contact_ids"),
            (
                "Became a Marketing Qualified Lead Date",
                "became_a_marketing_qualified_lead_date",
            ),
            ("hs_lifecyclestage_lead_date", "hs_lifecyclestage_lead_date"),
        ] {
            assert_eq!(snake_case(raw), want, "{raw}");
        }
    }

    #[test]
    fn files_are_matched_to_the_most_specific_object() {
        let objects: Vec<String> = [
            "opportunity",
            "opportunity_contact_role",
            "lead",
            "stripe_subscriptions",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let of = |stem: &str| object_for_file(stem, objects.iter());
        assert_eq!(of("Opportunity").as_deref(), Some("opportunity"));
        assert_eq!(of("sf_opportunity_data").as_deref(), Some("opportunity"));
        assert_eq!(
            of("OpportunityContactRole").as_deref(),
            Some("opportunity_contact_role")
        );
        assert_eq!(
            of("opportunity_contact_role_2026_10").as_deref(),
            Some("opportunity_contact_role")
        );
        assert_eq!(of("leads").as_deref(), Some("lead"));
        assert_eq!(of("LeadHistory"), None);
        assert_eq!(
            of("stripe_subscriptions").as_deref(),
            Some("stripe_subscriptions")
        );
        // Canonical tables are loaded as such.
        assert_eq!(of("opportunities"), None);
        assert_eq!(of("subscriptions"), None);
    }
}
