//! Staging SQL: canonical tables computed by `<table>.sql` files over the raw files of
//! a folder (`--staging DIR`), read-only. Source packs (`crate::sources`) run their SQL
//! through [`staged_part`] too.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;

use super::read::{raw_part, register_raw};
use super::RawPart;
use crate::error::{Error, IoContext, Result};
use crate::schema;

/// Raw tables produced by staging SQL: every CSV/Parquet file in `data` is registered
/// under its file stem, then each `<table>.sql` in `staging` yields canonical `table`.
pub async fn stage(data: &Path, staging: &Path) -> Result<BTreeMap<String, Vec<RawPart>>> {
    let ctx = SessionContext::new();
    register_raw(&ctx, data).await?;
    let scripts = crate::catalog::sql_files(staging, "--staging")?;
    let mut out = BTreeMap::new();
    for script in scripts {
        let stem = script
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if schema::table(&stem).is_none() {
            return Err(Error::Staging {
                file: script.clone(),
                message: format!(
                    "`{stem}` is not a canonical table; name staging files after one of: {}",
                    schema::TABLES
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let sql = std::fs::read_to_string(&script).at(&script)?;
        let part = staged_part(&ctx, &script, &format!("staging/{stem}.sql"), &sql, &stem).await?;
        out.insert(stem, vec![part]);
    }
    Ok(out)
}

/// The rows of one staging query as a raw part of canonical table `table`; `file` is
/// the script (for errors), `source` how its rows are labelled in `rejects`.
pub async fn staged_part(
    ctx: &SessionContext,
    file: &Path,
    source: &str,
    sql: &str,
    table: &str,
) -> Result<RawPart> {
    let staging_err = |e: datafusion::error::DataFusionError| Error::Staging {
        file: file.to_path_buf(),
        message: e.to_string(),
    };
    let df = crate::engine::read_only_sql(ctx, sql)
        .await
        .map_err(staging_err)?;
    // Staged rows are numbered in the order of their values (every column, in order):
    // a plan's own order (hash aggregates, unions) changes between runs, and a
    // reject's row number must not.
    let order: Vec<_> = df
        .schema()
        .fields()
        .iter()
        .map(|f| datafusion::prelude::ident(f.name()).sort(true, false))
        .collect();
    let df = df.sort(order).map_err(staging_err)?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(staging_err)?;
    let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
    raw_part(source.to_string(), table, &schema, batches)
}
