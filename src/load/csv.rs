//! CSV input. The `csv` crate parses (RFC 4180: quoted commas, line breaks and doubled
//! quotes); this module adds what that crate accepts without a word but would load wrong:
//! a quote that is never closed, a stray quote that swallows the records after it, text
//! after a closing quote, a ragged row, text that is not UTF-8. Each stops the run naming
//! the file, table and physical line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayBuilder, ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::read::BATCH_ROWS;
use crate::error::{Error, IoContext, Result};

/// Read a CSV file as text columns (RFC 4180, UTF-8), refusing what would otherwise
/// load wrong without a word. The rules (docs/faults.md, "Input faults"):
///
/// - a UTF-8 byte order mark is skipped; lines end with LF, CRLF or CR; blank lines are
///   skipped; the first record is the header; a field is text, an empty field is
///   missing;
/// - a field that starts with `"` is quoted: it may hold commas, line breaks and
///   doubled quotes (`""`); a quote anywhere else in a field is an ordinary character
///   (`5" screen`);
/// - syntax faults stop the run naming the file, table and physical line (the header is
///   line 1): a quoted value that is never closed; text after a closing quote (other
///   than a comma or line end); a line *inside* a quoted value that on its own has as
///   many fields as a record (at least as many commas as the header) — the signature
///   of a stray quote swallowing the records after it; a record whose number of fields
///   differs from the header's; text that is not UTF-8.
///
/// Row numbers count data records (1-based, header not counted), whatever the line
/// breaks inside quoted values.
pub(super) fn read_csv(path: &Path, table: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut input = BufReader::with_capacity(1 << 16, File::open(path).at(path)?);
    if input.fill_buf().at(path)?.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    read(input, path, table, 1 << 16)
}

/// The bytes the CSV reader reads, kept from the end of the last checked record on, so
/// that each record's raw text (its quotes) can be checked after the crate parsed it.
struct Tee<R> {
    inner: R,
    kept: Vec<u8>,
    /// Stream offset of `kept[0]`, and the end of the last checked record.
    start: u64,
    checked: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.drain(..(self.checked - self.start) as usize);
        self.start = self.checked;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

fn read<R: Read>(
    input: R,
    path: &Path,
    table: &str,
    capacity: usize,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let syntax = |line: usize, message: String| Error::Syntax {
        file: path.to_path_buf(),
        table: table.into(),
        line,
        message,
    };
    let tee = Tee {
        inner: input,
        kept: Vec::new(),
        start: 0,
        checked: 0,
    };
    // Not `flexible(false)`: a stray quote also makes a record short, and the quote is
    // the fault to name.
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(capacity)
        .from_reader(tee);
    let mut record = ::csv::ByteRecord::new();
    let (mut line, mut prev_cr) = (1usize, false);
    let mut header: Option<usize> = None;
    let (mut schema, mut builders, mut batches) = (None, Vec::new(), Vec::new());
    let mut rows = 0usize;
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| match e.into_kind() {
                ::csv::ErrorKind::Io(e) => Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                },
                other => syntax(line, format!("{other:?}")),
            })?;
        if !more {
            break;
        }
        let is_header = header.is_none();
        let label = || match is_header {
            true => "the header".to_string(),
            false => format!("data row {}", rows + 1),
        };
        let (from, to) = (
            record.position().map_or(0, |p| p.byte()),
            reader.position().byte(),
        );
        let tee = reader.get_mut();
        tee.checked = to;
        let raw = &tee.kept[(from - tee.start) as usize..(to - tee.start) as usize];
        // The raw record: blank lines before it, its text, its line end.
        let lead = raw.iter().take_while(|b| is_break(**b)).count();
        advance(&mut line, &mut prev_cr, &raw[..lead]);
        let record_line = line;
        let body = &raw[lead..];
        let text_end = body.len() - body.iter().rev().take_while(|b| is_break(**b)).count();
        if body[..text_end].contains(&b'"') {
            check_quotes(body, line, header, &label()).map_err(|(l, m)| syntax(l, m))?;
            advance(&mut line, &mut prev_cr, &body[..text_end]);
        } else {
            prev_cr = false;
        }
        advance(&mut line, &mut prev_cr, &body[text_end..]);

        let not_utf8 = || {
            let message = format!(
                "{} is not valid UTF-8 text (save the export as UTF-8)",
                label()
            );
            syntax(record_line, message)
        };
        let Some(width) = header else {
            let names = (record.iter())
                .map(|f| std::str::from_utf8(f).map(|n| Field::new(n, DataType::Utf8, true)))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| not_utf8())?;
            header = Some(names.len());
            builders = names.iter().map(|_| StringBuilder::new()).collect();
            schema = Some(Arc::new(Schema::new(names)));
            continue;
        };
        if std::str::from_utf8(record.as_slice()).is_err() {
            return Err(not_utf8());
        }
        if record.len() != width {
            return Err(syntax(
                record_line,
                format!(
                    "{} has {} field(s), the header has {width} (a missing or extra comma, or a value with a comma that is not quoted)",
                    label(),
                    record.len()
                ),
            ));
        }
        for (builder, field) in builders.iter_mut().zip(record.iter()) {
            match std::str::from_utf8(field) {
                Ok("") => builder.append_null(),
                Ok(v) => builder.append_value(v),
                Err(_) => return Err(not_utf8()),
            }
        }
        rows += 1;
        if rows % BATCH_ROWS == 0 {
            flush(&schema, &mut builders, &mut batches)?;
        }
    }
    flush(&schema, &mut builders, &mut batches)?;
    Ok((schema.unwrap_or_else(|| Arc::new(Schema::empty())), batches))
}

fn flush(
    schema: &Option<SchemaRef>,
    builders: &mut [StringBuilder],
    batches: &mut Vec<RecordBatch>,
) -> Result<()> {
    if let Some(schema) = schema {
        if builders.first().is_some_and(|b| !b.is_empty()) {
            let columns = builders
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef);
            batches.push(RecordBatch::try_new(schema.clone(), columns.collect())?);
        }
    }
    Ok(())
}

fn is_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// Count the line breaks in `bytes` (LF, CRLF or CR) into `line`.
fn advance(line: &mut usize, prev_cr: &mut bool, bytes: &[u8]) {
    for &b in bytes {
        if b == b'\r' || (b == b'\n' && !*prev_cr) {
            *line += 1;
        }
        *prev_cr = b == b'\r';
    }
}

/// The quote faults of one record's raw text (from its first byte on line `line`), which
/// the `csv` crate reads leniently: a quoted value never closed (it ran to the end of the
/// file), text after a closing quote (`"VP" Sales` read as `VP Sales`), and a line inside
/// a quoted value with as many fields as a record (`width`; the header is not checked):
/// a stray quote swallowing records. Errors carry the line to report.
fn check_quotes(
    raw: &[u8],
    mut line: usize,
    width: Option<usize>,
    label: &str,
) -> std::result::Result<(), (usize, String)> {
    #[derive(PartialEq)]
    enum S {
        FieldStart,
        Field,
        Quoted,
        Closed,
    }
    let (mut state, mut quote_line, mut commas, mut prev_cr) = (S::FieldStart, line, 0, false);
    // Commas in the whole quoted value: one that spans lines and holds a record's worth
    // of them is two records merged by stray quotes in the same column of adjacent rows
    // (no single line inside it looks like a record then).
    let mut value_commas = 0;
    let merged = |line: usize, quote_line: usize, value_commas: usize| {
        if line > quote_line && width.is_some_and(|w| value_commas + 1 >= w) {
            return Err((quote_line, format!("a quoted value opens here ({label}), runs to line {line} and holds {value_commas} commas, as many as a whole record: two records merged by stray quotes? (a real value with line breaks and that many commas: load this table as Parquet or JSON lines)")));
        }
        Ok(())
    };
    for &b in raw {
        let crlf = b == b'\n' && prev_cr;
        prev_cr = b == b'\r';
        if state != S::Quoted && is_break(b) {
            if state == S::Closed {
                merged(line, quote_line, value_commas)?;
            }
            return Ok(()); // the end of the record
        }
        match (&state, b) {
            (S::FieldStart, b'"') => {
                (state, quote_line, commas, value_commas) = (S::Quoted, line, 0, 0)
            }
            (S::Closed, b',') => {
                merged(line, quote_line, value_commas)?;
                state = S::FieldStart;
            }
            (S::FieldStart | S::Field, b',') => state = S::FieldStart,
            (S::FieldStart | S::Field, _) => state = S::Field,
            (S::Closed, b'"') => state = S::Quoted, // a doubled quote
            (S::Closed, _) => {
                return Err((line, format!("text after the closing quote of a quoted value (opened on line {quote_line}, {label}): a stray quote? Inside a quoted value write a quote as \"\"")));
            }
            (S::Quoted, b'"') => state = S::Closed,
            (S::Quoted, b'\n' | b'\r' | b',') => {
                if b == b',' {
                    value_commas += 1;
                }
                if is_break(b) && !crlf {
                    (line, commas) = (line + 1, 0);
                } else if b == b',' && line > quote_line {
                    commas += 1;
                } else {
                    continue;
                }
                if width.is_some_and(|w| commas + 1 >= w) {
                    return Err((quote_line, format!("a quoted value opens here ({label}) and line {line} inside it looks like a record of its own ({} fields): its closing quote is missing, or the quote is stray", commas + 1)));
                }
            }
            (S::Quoted, _) => {}
        }
    }
    if state == S::Closed {
        merged(line, quote_line, value_commas)?;
    }
    if state == S::Quoted {
        return Err((
            quote_line,
            format!("a quoted value opens here ({label}) and is never closed (unterminated quote)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::concat_batches;

    /// The reader keeps its state across buffer boundaries: read a byte at a time it
    /// reads what it reads in one piece.
    #[test]
    fn csv_faults_reader_is_independent_of_buffer_boundaries() {
        let input = "a,b,c\r\n1,\"x\r\ny, \"\"q\"\"\",3\r\n\r\n4,,\"\"\n5,6,7";
        let parse = |capacity: usize| {
            let (schema, batches) =
                read(input.as_bytes(), Path::new("t.csv"), "t", capacity).unwrap();
            let batch = concat_batches(&schema, &batches).unwrap();
            let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
            let cells: Vec<Option<String>> = (0..batch.num_rows())
                .flat_map(|r| {
                    let batch = &batch;
                    (0..3).map(move |c| {
                        let a = batch.column(c).as_string::<i32>();
                        a.is_valid(r).then(|| a.value(r).to_string())
                    })
                })
                .collect();
            (names, cells)
        };
        let whole = parse(1 << 16);
        assert_eq!(whole.0, ["a", "b", "c"]);
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            whole.1,
            [
                s("1"),
                s("x\r\ny, \"q\""),
                s("3"),
                s("4"),
                None,
                None,
                s("5"),
                s("6"),
                s("7")
            ]
        );
        assert_eq!(parse(1), whole);
        assert_eq!(parse(2), whole);
        assert_eq!(parse(3), whole);
    }

    /// Faults name the physical line, with LF, CRLF or CR line ends and blank lines.
    #[test]
    fn csv_faults_name_their_physical_line() {
        let err = |input: &str| {
            let e = read(input.as_bytes(), Path::new("t.csv"), "t", 7).unwrap_err();
            e.to_string()
        };
        for nl in ["\n", "\r\n", "\r"] {
            let text = ["a,b", "", "1,\"x", "y\"", "", "2,3,4"].join(nl);
            assert!(
                err(&text).contains("line 6: data row 2 has 3 field(s)"),
                "{nl:?}: {}",
                err(&text)
            );
            let text = ["a,b", "1,\"x\"y", "2,3"].join(nl);
            assert!(
                err(&text).contains("line 2: text after the closing quote"),
                "{}",
                err(&text)
            );
            let text = ["a,b", "", "1,2", "\"3,4", "5"].join(nl);
            assert!(
                err(&text)
                    .contains("line 4: a quoted value opens here (data row 2) and is never closed"),
                "{}",
                err(&text)
            );
            let text = ["a,b", "\"1,2", "3,4", "5,6\""].join(nl);
            assert!(err(&text).contains("line 2: a quoted value opens here (data row 1) and line 3 inside it looks like a record of its own (2 fields)"), "{}", err(&text));
            let mut bytes = format!("a,b{nl}1,X{nl}").into_bytes();
            bytes[5 + nl.len()] = 0xff;
            let e = read(&bytes[..], Path::new("t.csv"), "t", 7)
                .unwrap_err()
                .to_string();
            assert!(e.contains("line 2: data row 1 is not valid UTF-8"), "{e}");
        }
    }
}
