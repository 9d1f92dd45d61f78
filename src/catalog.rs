//! The catalogues a run reads: the query files (`queries/`, embedded at build time or
//! `--queries DIR`), the report definitions (`reports/scorecard.toml` and
//! `charts.toml`, embedded or `--reports DIR`) and staging SQL folders. One place that
//! knows where definitions come from, so loading, the pipeline and the report do not
//! import each other for it.

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

pub(crate) mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The report definition files `--reports DIR` may hold.
pub const REPORT_FILES: [&str; 2] = ["scorecard.toml", "charts.toml"];

/// A report definition file (`scorecard.toml`, `charts.toml`): `DIR/<name>` when
/// `--reports DIR` is given and holds it, else the embedded `reports/<name>` (a file
/// missing from DIR falls back to the built-in one). A `DIR` that is not a folder, or
/// holds neither file, is a usage error (a mistyped path must not silently give the
/// built-in report).
pub fn report_file(dir: Option<&Path>, name: &str) -> Result<(PathBuf, String)> {
    if let Some(dir) = dir {
        check_reports_dir(dir)?;
        let path = dir.join(name);
        if path.exists() {
            let text = std::fs::read_to_string(&path).at(&path)?;
            return Ok((path, text));
        }
    }
    let (file, text) = embedded::REPORTS
        .iter()
        .find(|(f, _)| f.ends_with(name))
        .ok_or_else(|| Error::Report(format!("no built-in report definition `{name}`")))?;
    Ok((PathBuf::from(file), text.to_string()))
}

/// `--reports DIR` must be a folder holding `scorecard.toml`, `charts.toml` or both.
pub fn check_reports_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "--reports {}: folder not found",
            dir.display()
        )));
    }
    if !REPORT_FILES.iter().any(|f| dir.join(f).exists()) {
        return Err(Error::Usage(format!(
            "--reports {}: the folder holds neither scorecard.toml nor charts.toml",
            dir.display()
        )));
    }
    Ok(())
}

/// Which catalogue file a run uses for `name`: the path in `--reports DIR`, or
/// `built-in reports/<name>` (for the run summary).
pub fn report_file_source(dir: Option<&Path>, name: &str) -> Result<String> {
    let (path, _) = report_file(dir, name)?;
    Ok(match dir {
        Some(d) if path.starts_with(d) => path.display().to_string(),
        _ => format!("built-in {}", path.display()),
    })
}

/// The `.sql` files of a folder and its sub-folders (queries are grouped by domain,
/// helpers in `helpers/` folders), sorted by path; an error when there are none.
/// Folders deeper than [`MAX_SQL_DEPTH`] are not read (a symlink loop must end).
pub fn sql_files(dir: &Path, flag: &str) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    collect_sql(dir, 0, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "{flag} {}: no .sql files",
            dir.display()
        )));
    }
    Ok(files)
}

/// How deep `sql_files` looks below the folder given.
pub const MAX_SQL_DEPTH: usize = 4;

fn collect_sql(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        if path.is_dir() {
            if depth < MAX_SQL_DEPTH {
                collect_sql(&path, depth + 1, files)?;
            }
        } else if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    Ok(())
}
