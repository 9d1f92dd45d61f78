//! Embeds every `queries/*.sql` and `reports/*.toml` file in the binary, so a new query
//! or scorecard metric needs no Rust change.

use std::fmt::Write;
use std::path::Path;

fn embed(dir: &str, ext: &str, name: &str, out: &mut String) {
    println!("cargo:rerun-if-changed={dir}");
    // The manifest folder of this build (read when the script runs: `env!` would bake
    // in the folder the script was compiled for, which a shared target folder can reuse
    // for another checkout), and a missing folder is an error, never an empty embed.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let root = Path::new(&manifest_dir).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == ext));
    files.sort();
    writeln!(out, "pub const {name}: &[(&str, &str)] = &[").unwrap();
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let file_name = f.file_name().unwrap().to_string_lossy();
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            format!("{dir}/{file_name}"),
            f.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
}

fn main() {
    let mut out = String::new();
    embed("queries", "sql", "QUERIES", &mut out);
    embed("reports", "toml", "REPORTS", &mut out);
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}
