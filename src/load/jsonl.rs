//! JSON-lines input. serde_json parses each line; this module keeps every value as its
//! literal text, so that it converts or is rejected per row like a CSV value (a number
//! is never rounded through a float: money keeps its digits), and refuses what would
//! otherwise load wrong: a nested object or array, the same key twice, a line that is
//! not one JSON object. Each stops the run naming the file, table and line.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::{Error, IoContext, Result};

/// Read a JSON-lines file as text columns: one JSON object per line, each value kept
/// as its literal text (a number is not rounded through a float: `99999999999999.99`
/// stays those digits), so that every value converts or is rejected per row like a CSV
/// value. Strings are unescaped; `null` is missing; blank lines are skipped. A column is
/// every key seen in any line (trimmed and lower-cased). Schema faults naming the file,
/// table and line: a line that is not one JSON object, a value that is an object or an
/// array, the same key twice in a line, text that is not UTF-8.
///
/// Row numbers count the objects (1-based): the line number when there are no blank
/// lines.
pub(super) fn read_jsonl(path: &Path, table: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let file = File::open(path).at(path)?;
    let mut input = BufReader::with_capacity(1 << 16, file);
    let syntax = |line: usize, message: String| Error::Syntax {
        file: path.to_path_buf(),
        table: table.into(),
        line,
        message,
    };
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut builders: Vec<StringBuilder> = Vec::new();
    let mut set: Vec<bool> = Vec::new();
    let mut rows = 0usize;
    let mut line_no = 0usize;
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        if input.read_until(b'\n', &mut bytes).at(path)? == 0 {
            break;
        }
        line_no += 1;
        let mut raw: &[u8] = &bytes;
        if line_no == 1 {
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            return Err(syntax(
                line_no,
                "not valid UTF-8 text (save the export as UTF-8)".into(),
            ));
        };
        if text.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
            continue;
        }
        let fields = parse_json_object(text).map_err(|(column, message)| {
            syntax(
                line_no,
                format!("invalid JSON at column {column}: {message}"),
            )
        })?;
        set.iter_mut().for_each(|s| *s = false);
        for (key, value) in fields {
            let name = key.trim().to_lowercase();
            let i = match index.get(&name) {
                Some(&i) => i,
                None => {
                    let mut b = StringBuilder::new();
                    b.append_nulls(rows);
                    builders.push(b);
                    set.push(false);
                    names.push(name.clone());
                    index.insert(name.clone(), names.len() - 1);
                    names.len() - 1
                }
            };
            if set[i] {
                return Err(syntax(
                    line_no,
                    format!("key `{name}` appears twice in this object (keys are compared trimmed and lower-cased)"),
                ));
            }
            set[i] = true;
            match value {
                Some(v) if !v.is_empty() => builders[i].append_value(v),
                _ => builders[i].append_null(),
            }
        }
        for (b, _) in builders.iter_mut().zip(&set).filter(|(_, s)| !**s) {
            b.append_null();
        }
        rows += 1;
    }
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let batches = if rows == 0 {
        Vec::new()
    } else {
        let columns: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        vec![RecordBatch::try_new(schema.clone(), columns)?]
    };
    Ok((schema, batches))
}

/// One JSON object's entries in order, values not parsed (so that nesting and repeated
/// keys can be seen, and numbers keep their literal text).
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("each line to be one JSON object {...}")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &RawValue>()? {
                    if value.get().starts_with(['{', '[']) {
                        return Err(A::Error::custom(format!("`{key}` holds a JSON object or array; a value must be a string, number, boolean or null")));
                    }
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(V)
    }
}

/// The keys and values of the JSON object on one line, values as literal text (strings
/// unescaped, numbers and booleans as written, `null` as None). Errors carry the
/// 1-based character column.
fn parse_json_object(
    text: &str,
) -> std::result::Result<Vec<(String, Option<String>)>, (usize, String)> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    // `at`: the byte offset in `text` of what `e` was reading.
    let error = |e: serde_json::Error, at: usize, message: Option<&str>| {
        let byte = at + e.column().saturating_sub(1);
        let column = text.char_indices().take_while(|(i, _)| *i < byte).count() + 1;
        let full = e.to_string();
        let serde_message = full
            .rsplit_once(" at line ")
            .map_or(full.as_str(), |(m, _)| m);
        (column, message.unwrap_or(serde_message).to_string())
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = Entries::deserialize(&mut de).map_err(|e| error(e, 0, None))?;
    de.end().map_err(|e| {
        error(
            e,
            0,
            Some("text after the object (one JSON object per line)"),
        )
    })?;
    let mut out = Vec::with_capacity(entries.0.len());
    for (key, value) in entries.0 {
        let v = value.get();
        let v = match v.as_bytes()[0] {
            b'n' => None,
            b'"' if !v.contains('\\') => Some(v[1..v.len() - 1].to_string()),
            b'"' => {
                let at = v.as_ptr() as usize - text.as_ptr() as usize;
                Some(serde_json::from_str::<String>(v).map_err(|e| error(e, at, None))?)
            }
            _ => Some(v.to_string()),
        };
        out.push((key, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_faults_values_keep_their_literal_text() {
        let fields = parse_json_object(
            r#" {"a" : "x\"y\u00e9", "b":-12.50e+1 ,"c":true,"d":null, "e":0, "f":"plain"} "#,
        )
        .unwrap();
        assert_eq!(
            fields,
            [
                ("a".to_string(), Some("x\"y\u{e9}".to_string())),
                ("b".to_string(), Some("-12.50e+1".to_string())),
                ("c".to_string(), Some("true".to_string())),
                ("d".to_string(), None),
                ("e".to_string(), Some("0".to_string())),
                ("f".to_string(), Some("plain".to_string())),
            ]
        );
        assert_eq!(parse_json_object("{}\r\n").unwrap(), []);
        for (bad, message) in [
            ("{\"a\":01}", "invalid number"),
            ("{\"a\":1.}", "invalid number"),
            ("{\"a\":tru}", "expected ident"),
            ("{\"a\":1,}", "trailing comma"),
            ("{'a':1}", "key must be a string"),
            ("{\"a\":\"x}", "EOF while parsing a string"),
            ("{\"a\":\"\\q\"}", "invalid escape"),
            ("{\"a\":[1]}", "`a` holds a JSON object or array"),
            ("{\"a\":1}}", "text after the object"),
            ("5", "expected each line to be one JSON object"),
            ("{\"a\":\"\\ud800\"}", "hex escape"),
        ] {
            let (_, m) = parse_json_object(bad).unwrap_err();
            assert!(m.contains(message), "{bad}: {m}");
        }
        assert_eq!(parse_json_object("{\"\u{e9}\u{e9}\":1,}").unwrap_err().0, 9);
        assert_eq!(
            parse_json_object("{\"\u{e9}\": \"\\ud800\"}")
                .unwrap_err()
                .0,
            14
        );
    }
}
