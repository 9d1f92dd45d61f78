//! Finding a table's source files in the data folder. Kept apart from reading and
//! validation because its one job is to refuse, as a schema fault naming the entry, every
//! source that is almost a table's (wrong case, unsupported or compressed format, a
//! dangling link, a file and a folder together) instead of treating it as absent.

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// The files of `table` in `dir`: `table.csv|.parquet|.jsonl` (`.ndjson` also reads
/// as JSON lines; the extension in any case), or every such file in the folder `table/`
/// (sorted by name). `None` when the table is absent: no entry of `dir` is named after
/// it.
///
/// Anything else named after the table is a schema fault, never absence (a misnamed
/// export must not silently drop a table): a name that differs only in case
/// (`Touches.csv`, `TOUCHES/`), an unsupported or compressed format (`touches.csv.gz`,
/// `touches.txt`, `touches.xlsx`), a dangling symbolic link or a link loop, a folder
/// named like a file (`touches.csv/`), two files, or a file and a folder together. In
/// the folder `table/` every entry must be a supported file (hidden entries starting
/// with `.` are skipped, nothing else is), and there must be at least one.
pub fn locate(dir: &Path, table: &str) -> Result<Option<Vec<PathBuf>>> {
    locate_in(dir, table, true)
}

/// As [`locate`]; with `near_misses` false (the table comes from staging SQL, and the
/// data folder holds raw exports under any name) only exact sources are looked at.
pub(super) fn locate_in(
    dir: &Path,
    table: &str,
    near_misses: bool,
) -> Result<Option<Vec<PathBuf>>> {
    let bad = |path: &Path, message: String| Error::Source {
        path: path.to_path_buf(),
        table: table.into(),
        message,
    };
    let formats = "revalign reads <table>.csv, <table>.parquet or <table>.jsonl (uncompressed), or a folder <table>/ of such files"
        .replace("<table>", table);
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        // A name that is not UTF-8 cannot be a table's name.
        if let Some(name) = entry.at(dir)?.file_name().to_str() {
            names.push(name.to_string());
        }
    }
    names.sort();
    let mut files = Vec::new();
    let mut folder = None;
    for name in &names {
        if name.starts_with('.') {
            continue;
        }
        let (stem, ext) = match name.split_once('.') {
            Some((stem, ext)) => (stem, Some(ext)),
            None => (name.as_str(), None),
        };
        if !stem.trim().eq_ignore_ascii_case(table) {
            continue;
        }
        let path = dir.join(name);
        let supported = ext.is_some_and(|e| {
            matches!(
                e.to_ascii_lowercase().as_str(),
                "csv" | "parquet" | "jsonl" | "ndjson"
            )
        });
        if stem != table {
            if !near_misses {
                continue;
            }
            let fixed = match ext {
                Some(ext) => format!("{table}.{ext}"),
                None => format!("{table}/"),
            };
            return Err(bad(
                &path,
                format!("found {name}; name it {fixed} (table names are lower case)"),
            ));
        }
        match (ext, kind_of(&path)) {
            (Some(_), _) if !supported => {
                if !near_misses {
                    continue;
                }
                return Err(bad(
                    &path,
                    format!("found {name}, an unsupported format: {formats}"),
                ));
            }
            (_, Err(why)) => return Err(bad(&path, why)),
            (Some(_), Ok(EntryKind::File)) => files.push(path),
            (Some(_), Ok(EntryKind::Dir)) => {
                let message = format!("is a folder, not a file; put a table's parts in {table}/");
                return Err(bad(&path, message));
            }
            (None, Ok(EntryKind::Dir)) => folder = Some(path),
            (None, Ok(EntryKind::File)) => {
                return Err(bad(
                    &path,
                    format!("is a file without an extension: {formats}"),
                ))
            }
        }
    }
    if files.len() > 1 {
        return Err(bad(
            &files[0],
            format!(
                "table given twice ({}); keep one file or put the parts in a folder {table}/",
                files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let Some(folder) = folder else {
        return Ok(if files.is_empty() { None } else { Some(files) });
    };
    if let Some(file) = files.first() {
        return Err(bad(
            file,
            format!(
                "table given twice: {} and the folder {}/; keep one",
                file.display(),
                folder.display()
            ),
        ));
    }
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(&folder).at(&folder)? {
        let entry = entry.at(&folder)?;
        entries.push((
            entry.file_name().to_string_lossy().to_string(),
            entry.path(),
        ));
    }
    entries.sort();
    let mut parts = Vec::new();
    for (name, path) in entries {
        if name.starts_with('.') {
            continue;
        }
        match kind_of(&path) {
            Ok(EntryKind::File) if format_of(&path).is_some() => parts.push(path),
            Ok(EntryKind::File) => {
                return Err(bad(
                    &path,
                    format!("unsupported file in the table folder {table}/ (no file there is skipped): {formats}"),
                ))
            }
            Ok(EntryKind::Dir) => {
                return Err(bad(
                    &path,
                    format!("a folder inside the table folder {table}/ is not read; put every part directly in {table}/"),
                ))
            }
            Err(why) => return Err(bad(&path, why)),
        }
    }
    if parts.is_empty() {
        return Err(bad(
            &folder,
            format!("the table folder holds no data file: {formats}"),
        ));
    }
    Ok(Some(parts))
}

enum EntryKind {
    File,
    Dir,
}

/// What `path` is, following symbolic links; why it cannot be read otherwise.
fn kind_of(path: &Path) -> std::result::Result<EntryKind, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot be read: {e}"))?;
    let meta = if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".into());
        match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "is a symbolic link to {target}, which does not exist"
                ))
            }
            Err(e) => {
                return Err(format!(
                    "is a symbolic link to {target} that cannot be followed ({e}; a link loop?)"
                ))
            }
        }
    } else {
        meta
    };
    if meta.is_file() {
        Ok(EntryKind::File)
    } else if meta.is_dir() {
        Ok(EntryKind::Dir)
    } else {
        Err("is neither a regular file nor a folder".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    Parquet,
    Jsonl,
}

pub(super) fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(Format::Csv),
        "parquet" => Some(Format::Parquet),
        "jsonl" | "ndjson" => Some(Format::Jsonl),
        _ => None,
    }
}
