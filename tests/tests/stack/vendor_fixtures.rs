//! The vendors' samples in `tests/fixtures/vendor/` are copies of what the vendors published,
//! never written here: each parses, names its source beside it (a URL, or a repository, a path and
//! a commit), and goes through its consumer in some test of this crate.

use std::{
    fs,
    path::{Path, PathBuf},
};

use vivid_tests::repo_root;

fn samples(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("vendor folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            samples(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[test]
fn every_vendor_sample_parses_names_its_source_and_is_run_by_a_test() {
    let root = repo_root().join("tests/fixtures/vendor");
    let mut found = Vec::new();
    samples(&root, &mut found);
    found.sort();
    assert!(found.len() >= 30, "at least 30 vendor samples: {}", found.len());
    let tests: String = fs::read_dir(repo_root().join("tests/tests"))
        .expect("tests")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .filter(|e| e.file_name() != "vendor_fixtures.rs")
        .map(|e| fs::read_to_string(e.path()).unwrap_or_default())
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
