//! One error type for the library.
//!
//! Errors about data say which file, table, column and row they concern, so a RevOps
//! analyst can fix the export without reading code. The binary prints the whole chain
//! on stderr and maps every variant to exit code 1 (usage errors are clap's, code 2).

use std::path::PathBuf;

use datafusion::error::DataFusionError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("required table `{table}` not found in {dir}: expected {table}.csv, {table}.parquet, {table}.jsonl or a folder {table}/")]
    MissingTable { table: String, dir: PathBuf },

    #[error("{file}: table `{table}` is missing required column `{column}`")]
    MissingColumn {
        file: PathBuf,
        table: String,
        column: String,
    },

    #[error("{file}: table `{table}` has unknown column `{column}` (known columns: {known})")]
    UnknownColumn {
        file: PathBuf,
        table: String,
        column: String,
        known: String,
    },

    #[error("{file}: cannot read table `{table}`: {message}")]
    Unreadable {
        file: PathBuf,
        table: String,
        message: String,
    },

    #[error("--strict: {count} row(s) rejected; first: table `{table}`, {file} row {row}, column `{column}`: {reason} (value {raw:?})")]
    StrictRejects {
        count: usize,
        table: String,
        file: String,
        row: i64,
        column: String,
        reason: String,
        raw: String,
    },

    #[error("every row of {0} was rejected: check the mapping (staging SQL or column names) against the rejects listed above")]
    AllRejected(String),

    /// A runtime failure of the query engine outside a query (a Ballista scheduler
    /// that cannot be reached): exit 1, not a usage error.
    #[error("{0}")]
    Engine(String),

    #[error("staging query {file}: {message}")]
    Staging { file: PathBuf, message: String },

    #[error("query `{query}` ({file}): {source}")]
    Query {
        query: String,
        file: String,
        #[source]
        source: DataFusionError,
    },

    #[error("queries: {0}")]
    QueryGraph(String),

    #[error("configuration {file}: {message}")]
    Config { file: PathBuf, message: String },

    #[error("{0}")]
    Usage(String),

    #[error("report: {0}")]
    Report(String),

    #[error("no data: {0}")]
    NoData(String),

    /// Money in several currencies that cannot be brought to one (exit 1: the inputs
    /// and the parameters disagree, nothing is written).
    #[error("currencies: {0}")]
    Currency(String),

    /// Another run holds `--out`.
    #[error("{0}")]
    Locked(String),

    /// Publishing the outputs failed in a way that needs a person.
    #[error("publish: {0}")]
    Publish(String),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    DataFusion(#[from] DataFusionError),

    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),

    #[error(transparent)]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),

    #[error(transparent)]
    Json(#[from] serde_json::Error),

    /// A CSV or JSON-lines input that does not parse, at a physical line (1-based,
    /// the header is line 1).
    #[error("{file}: table `{table}`, line {line}: {message}")]
    Syntax {
        file: PathBuf,
        table: String,
        line: usize,
        message: String,
    },

    /// Two columns of one input file with the same name once trimmed and lower-cased.
    #[error("{file}: table `{table}` has column `{column}` more than once (names are compared trimmed and lower-cased); keep one")]
    DuplicateColumn {
        file: PathBuf,
        table: String,
        column: String,
    },

    /// A file or folder named after a table that cannot be one of its sources
    /// (misnamed, unsupported format, dangling link, given twice, ...).
    #[error("{path}: input of table `{table}`: {message}")]
    Source {
        path: PathBuf,
        table: String,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach a path to an io error.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.into(),
            source,
        })
    }
}
