//! The vendors' samples in `tests/fixtures/vendor/` are copies of what the vendors published,
//! never written here: each parses, names its source beside it (a URL, or a repository, a path and
//! a commit), and goes through its consumer in some test of this crate.

use std::{
    fs,
    path::{Path, PathBuf},
};

use vivid_tests::repo_root;

/// Every file under `dir`, at any depth, whose extension is `ext`.
fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a folder of the repository").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

#[test]
fn every_vendor_sample_parses_names_its_source_and_is_run_by_a_test() {
    let root = repo_root().join("tests/fixtures/vendor");
    let mut found = Vec::new();
    files(&root, "json", &mut found);
    found.sort();
    assert!(found.len() >= 30, "at least 30 vendor samples: {}", found.len());
    // The test sources at any depth (the black-box tier is one binary of modules, some of them
    // folders); a test naming a sample in a string runs it.
    let mut sources = Vec::new();
    files(&repo_root().join("tests/tests"), "rs", &mut sources);
    assert!(sources.len() >= 30, "the test sources were not found: {}", sources.len());
    let tests: String = sources
        .iter()
        .filter(|p| !p.ends_with("vendor_fixtures.rs"))
        .map(|p| fs::read_to_string(p).unwrap_or_default())
        .collect();
    let mut problems = Vec::new();
    for sample in &found {
        let name = sample.strip_prefix(&root).expect("under the folder").to_string_lossy().replace('\\', "/");
        let text = fs::read_to_string(sample).unwrap_or_default();
        if serde_json::from_str::<serde_json::Value>(&text).is_err() {
            problems.push(format!("{name}: not JSON"));
        }
        let source = sample.with_extension("source.md");
        let provenance = fs::read_to_string(&source).unwrap_or_default();
        let has_url = provenance.contains("https://");
        let has_commit = provenance.to_ascii_lowercase().contains("commit")
            && provenance.split(|c: char| !c.is_ascii_hexdigit()).any(|w| w.len() >= 7);
        if !(has_url || has_commit) {
            problems.push(format!("{name}: no source (a URL, or repository + path + commit) in {}", source.display()));
        }
        if !tests.contains(&format!("\"{name}\"")) {
            problems.push(format!("{name}: no test runs it through its consumer"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
