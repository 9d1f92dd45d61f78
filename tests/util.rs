//! Shared helpers: fixtures, temp folders, running the pipeline in memory.

use std::path::{Path, PathBuf};

use revalign::config::{Month, Params};
use revalign::engine::EngineOptions;
use revalign::pipeline;
use revalign::run::{DataSource, RunJob};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Write `name.csv` files into `dir`.
pub fn write_tables(dir: &Path, tables: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, csv) in tables {
        std::fs::write(dir.join(format!("{name}.csv")), csv).unwrap();
    }
}

/// Copy a fixture folder into `dir`.
pub fn copy_fixture(name: &str, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
}

/// A generated data set of 400 accounts over 24 months (through 2026-10), big enough
/// to exercise every output, small enough for a test.
pub fn medium_generated_data() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    revalign::generate::generate(
        data.path(),
        &revalign::generate::GenerateOptions {
            accounts: 400,
            months: 24,
            ..Default::default()
        },
    )
    .unwrap();
    data
}

pub fn month(s: &str) -> Month {
    s.parse().unwrap()
}

pub fn job(data: &Path, out: &Path, m: &str) -> RunJob {
    RunJob {
        data: DataSource::Dir(data.to_path_buf()),
        month: Some(month(m)),
        out: out.to_path_buf(),
        params: Params::default(),
        queries: None,
        inputs: Default::default(),
        strict: false,
        engine: EngineOptions::default(),
        reports: None,
    }
}

/// Prepare a run of `data` for `m` and execute every query (the run's first two steps),
/// keeping the helper tables; the results are registered in the returned session
/// under their table names.
pub async fn session_after_queries(
    data: &Path,
    m: &str,
    params: &Params,
) -> datafusion::prelude::SessionContext {
    let mut j = job(data, Path::new("unused-out"), m);
    j.params = params.clone();
    let mut prepared = revalign::run::prepare(&j).await.unwrap();
    revalign::run::execute(&mut prepared, params, pipeline::Helpers::Keep, None)
        .await
        .unwrap();
    prepared.session.ctx.clone()
}

/// Read every Parquet file under `dir` into one sorted list of rendered rows.
pub fn read_parquet_rows(path: &Path) -> Vec<String> {
    read_parquet_rows_rounded(path, None)
}

/// As `read_parquet_rows`, with Float64 values to `digits` significant digits when
/// given (the order of parallel float sums is not fixed; see README).
pub fn read_parquet_rows_rounded(path: &Path, digits: Option<usize>) -> Vec<String> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{DataType, Float64Type};
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let file = std::fs::File::open(path).unwrap();
    let reader =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let options = FormatOptions::default().with_null("NULL");
        let fmts: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..batch.num_rows() {
            let row: Vec<String> = batch
                .columns()
                .iter()
                .zip(&fmts)
                .map(|(c, f)| match (digits, c.data_type()) {
                    (Some(d), DataType::Float64) if c.is_valid(r) => {
                        format!("{:.*e}", d - 1, c.as_primitive::<Float64Type>().value(r))
                    }
                    _ => f.value(r).to_string(),
                })
                .collect();
            rows.push(row.join("|"));
        }
    }
    rows
}

/// All files under `dir`, relative, sorted.
pub fn list_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Every row of every Parquet file under `dir`, every value exact (float sums are exact
/// decimal sums, so runs agree to the last bit).
pub fn parquet_outputs(dir: &Path) -> Vec<(String, Vec<String>)> {
    list_files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .map(|f| {
            let rows = read_parquet_rows_rounded(&dir.join(&f), None);
            (f, rows)
        })
        .collect()
}

/// The two runs' output folders hold the same tables with the same rows, value for value.
pub fn assert_same_outputs(expected: &Path, actual: &Path, how: &str) {
    let (a, b) = (
        parquet_outputs(&expected.join("tables")),
        parquet_outputs(&actual.join("tables")),
    );
    let names = |v: &[(String, Vec<String>)]| v.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same tables {how}");
    assert!(a.len() >= 20, "every output written: {}", a.len());
    for ((file, ra), (_, rb)) in a.iter().zip(&b) {
        assert_eq!(ra.len(), rb.len(), "{file}: row count {how}");
        for (x, y) in ra.iter().zip(rb) {
            assert_eq!(x, y, "{file} differs {how}");
        }
    }
}

/// The built `revalign` binary, as a command to run.
pub fn revalign() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("revalign").unwrap()
}

/// Copy the folder `from` into `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    for file in list_files(from) {
        let target = to.join(&file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&file), target).unwrap();
    }
}
