//! Embeds every `queries/**/*.sql` and `reports/*.toml` file in the binary, so a new
//! query or scorecard metric needs no Rust change.

use std::fmt::Write;
use std::path::Path;

fn embed(dir: &str, ext: &str, name: &str, out: &mut String) {
    println!("cargo:rerun-if-changed={dir}");
    // The manifest folder of this build (read when the script runs: `env!` would bake
    // in the folder the script was compiled for, which a shared target folder can reuse
    // for another checkout), and a missing folder is an error, never an empty embed.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let root = Path::new(&manifest_dir).join(dir);
    let mut files = Vec::new();
    walk(&root, &mut files);
    // An empty `ext`: the .sql and .toml files (source packs).
    files.retain(|p: &std::path::PathBuf| {
        p.extension()
            .is_some_and(|e| e == ext || (ext.is_empty() && (e == "sql" || e == "toml")))
    });
    files.sort();
    writeln!(out, "pub const {name}: &[(&str, &str)] = &[").unwrap();
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let relative = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            format!("{dir}/{relative}"),
            f.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
}

/// Every file under `dir`, folders included (queries are grouped by domain).
fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn main() {
    let mut out = String::new();
    embed("queries", "sql", "QUERIES", &mut out);
    embed("reports", "toml", "REPORTS", &mut out);
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
    // Source packs: SQL and mapping files, one folder per pack.
    let mut sources = String::new();
    embed("sources", "", "SOURCES", &mut sources);
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("sources.rs");
    std::fs::write(dest, sources).unwrap();
}
