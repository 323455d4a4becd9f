//! Tests that read the adapter's own source, every file of `src/` as it is at test time (a new
//! file is read too): attribute names in DynamoDB expressions come from [`crate::attrs`], and key
//! prefixes are spelled only in [`crate::keys`] (its test reads [`sources`]).
//!
//! An expression text is a string literal passed (directly or through `format!`) to
//! `condition_expression`, `filter_expression`, `update_expression`, `key_condition_expression`,
//! `projection_expression` or a [`crate::expr::Changes`] condition (`when`), or any literal that
//! reads like one (`attribute_exists(`, `begins_with(`, `= :value`, `SET …`). Each bare name in it
//! must be the value of a constant of `attrs.rs` (or a DynamoDB keyword or function): a name spelled
//! inline outlives a rename of its constant and then tests an attribute no item has —
//! `attribute_not_exists(deleting)` holds of every item once the mark is called something else.
//! `#name` and `:value` placeholders are bound elsewhere (an unbound one is refused loudly by
//! DynamoDB), but a `#name` must not be bound to a literal (`named("…")`) either, nor an attribute
//! set, counted or removed through `Changes` be named by one. `{…}` holes of a
//! `format!` are filled from code and not read. Tests (`#[cfg(test)] mod`) are not read.

use std::path::{Path, PathBuf};

/// Every `.rs` file under the crate's `src/`, recursively: its path relative to `src/` and its text.
pub(crate) fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.map(|e| e.path()).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let name = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                out.push((name, text));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    assert!(out.len() > 20, "the adapter's sources under {}: {}", root.display(), out.len());
    out
}

/// A file's text without its tests (from `#[cfg(test)]` before a `mod` on).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod ").map_or(text, |i| &text[..i])
}

/// A string literal of the source: its line, its text (escapes left as written) and the calls it
/// is an argument of, innermost last, each with the argument's position.
#[derive(Debug)]
struct Literal {
    line: usize,
    text: String,
    calls: Vec<(String, usize)>,
}

/// The string literals of Rust source, outside comments, with the calls around each (enough of a
/// lexer for this crate: comments, char literals and lifetimes, plain, raw and byte strings).
fn literals(src: &str) -> Vec<Literal> {
    let cs: Vec<char> = src.chars().collect();
    let (mut i, mut line) = (0, 1);
    let mut out = Vec::new();
    // Open brackets: `(` named by the identifier before it (a function, method or macro), with
    // the index of the argument being read; `[` and `{` unnamed.
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut last_ident: Option<String> = None;
    // `let name = (…` or `name = "…"`: the binding a literal or a tuple is assigned to, which
    // names it as a call does, written `=name` (`let projection = ("PK, SK", …)`: `=projection`).
    let mut binding: Option<String> = None;
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < cs.len() {
        let c = cs[i];
        let next = cs.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < cs.len() && cs[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < cs.len() && !(cs[i] == '*' && cs[i + 1] == '/') {
                line += usize::from(cs[i] == '\n');
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '"'), else a lifetime or a label.
            if next == Some('\\') {
                i += 2;
                while i < cs.len() && cs[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if cs.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
            last_ident = None;
            continue;
        }
        if is_ident(c) {
            let start = i;
            while i < cs.len() && is_ident(cs[i]) {
                i += 1;
            }
            let word: String = cs[start..i].iter().collect();
            let raw = matches!(word.as_str(), "r" | "br") && matches!(cs.get(i), Some('"' | '#'));
            if raw {
                let hashes = cs[i..].iter().take_while(|c| **c == '#').count();
                let body = i + hashes + 1;
                let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let mut end = body;
                while end < cs.len() && !cs[end..].starts_with(&closing) {
                    end += 1;
                }
                let text: String = cs[body..end.min(cs.len())].iter().collect();
                let mut calls = open.clone();
                calls.extend(binding.take().map(|b| (format!("={b}"), 0)));
                out.push(Literal { line, text: text.clone(), calls });
                line += text.matches('\n').count();
                i = end + closing.len();
                last_ident = None;
            } else if word == "b" && cs.get(i) == Some(&'"') {
                last_ident = None;
            } else {
                last_ident = Some(word);
            }
            continue;
        }
        match c {
            '"' => {
                let mut end = i + 1;
                while end < cs.len() && cs[end] != '"' {
                    end += if cs[end] == '\\' { 2 } else { 1 };
                }
                let text: String = cs[i + 1..end.min(cs.len())].iter().collect();
                let mut calls = open.clone();
                calls.extend(binding.take().map(|b| (format!("={b}"), 0)));
                out.push(Literal { line, text: text.clone(), calls });
                line += text.matches('\n').count();
                i = end + 1;
                last_ident = None;
                continue;
            }
            '\n' => line += 1,
            '!' if last_ident.is_some() => {
                i += 1;
                continue;
            }
            '=' if !matches!(next, Some('=' | '>')) && last_ident.is_some() => {
                binding = last_ident.take();
                i += 1;
                continue;
            }
            '(' => {
                let name = last_ident.take().or_else(|| binding.take().map(|b| format!("={b}")));
                open.push((name.unwrap_or_default(), 0));
            }
            '[' | '{' => open.push((String::new(), 0)),
            ')' | ']' | '}' => {
                open.pop();
            }
            ',' => {
                if let Some((_, arg)) = open.last_mut() {
                    *arg += 1;
                }
            }
            _ => {}
        }
        if !c.is_whitespace() {
            last_ident = None;
            binding = None;
        }
        i += 1;
    }
    out
}

/// The calls whose arguments are expression texts (and any call or binding named `…projection`).
const EXPRESSION_CALLS: &[&str] = &[
    "condition_expression",
    "set_condition_expression",
    "filter_expression",
    "update_expression",
    "key_condition_expression",
    "projection_expression",
    "when",
];

/// The calls of [`crate::expr::Changes`] whose first argument is an attribute's name.
const NAMING_CALLS: &[&str] = &["named", "set", "set_some", "increment", "add", "remove"];

/// What only an expression text reads like.
const EXPRESSION_SIGNS: &[&str] = &[
    "attribute_exists(",
    "attribute_not_exists(",
    "attribute_type(",
    "begins_with(",
    "if_not_exists(",
    "list_append(",
    " = :",
    " <> :",
    " < :",
    " <= :",
    " > :",
    " >= :",
    " IN (",
];

/// DynamoDB's keywords and functions an expression of this crate may use.
const KEYWORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "IN",
    "BETWEEN",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "if_not_exists",
    "list_append",
];

fn is_expression(lit: &Literal) -> bool {
    let trimmed = lit.text.trim_start_matches([',', ' ']);
    lit.calls.iter().any(|(call, _)| EXPRESSION_CALLS.contains(&call.as_str()) || call.ends_with("projection"))
        || EXPRESSION_SIGNS.iter().any(|sign| lit.text.contains(sign))
        || ["SET ", "REMOVE ", "ADD "].iter().any(|verb| trimmed.starts_with(verb))
}

/// The bare names of an expression text: not placeholders (`#name`, `:value`), not keywords,
/// not numbers, not a `format!` hole (`{…}`, filled from code) nor a name built around one.
fn bare_names(text: &str) -> Vec<String> {
    const HOLE: char = '\u{1}';
    let mut filled = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    filled.push(HOLE);
                }
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => filled.push(c),
        }
    }
    let cs: Vec<char> = filled.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == HOLE;
    let (mut i, mut names) = (0, Vec::new());
    while i < cs.len() {
        if !word(cs[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < cs.len() && word(cs[i]) {
            i += 1;
        }
        let token: String = cs[start..i].iter().collect();
        let placeholder = start > 0 && matches!(cs[start - 1], '#' | ':');
        let numeric = token.starts_with(|c: char| c.is_ascii_digit());
        if !placeholder && !numeric && !token.contains(HOLE) && !KEYWORDS.contains(&token.as_str()) {
            names.push(token);
        }
    }
    names
}

#[test]
fn expressions_name_attributes_only_through_attrs() {
    let sources = sources();
    let (_, attrs) = sources.iter().find(|(name, _)| name == "attrs.rs").expect("attrs.rs");
    let known: Vec<String> = literals(without_tests(attrs)).into_iter().map(|l| l.text).collect();
    assert!(known.iter().any(|k| k == "deleting"), "the constants of attrs.rs: {known:?}");
    let mut offending = Vec::new();
    let mut expressions = 0;
    for (file, text) in sources.iter().filter(|(name, _)| name != "source_checks.rs" && name != "attrs.rs") {
        for lit in literals(without_tests(text)) {
            let bound_literally = lit.calls.last().is_some_and(|(call, arg)| {
                (NAMING_CALLS.contains(&call.as_str()) && *arg == 0)
                    || (call == "expression_attribute_names" && *arg == 1)
            });
            if bound_literally {
                offending
                    .push(format!("{file}:{}: \"{}\" named by a literal, not an attrs constant", lit.line, lit.text));
            }
            if !is_expression(&lit) {
                continue;
            }
            expressions += 1;
            for name in bare_names(&lit.text) {
                if !known.contains(&name) {
                    offending.push(format!("{file}:{}: {name} (in \"{}\")", lit.line, lit.text));
                }
            }
        }
    }
    assert!(expressions > 50, "the expression texts found: {expressions}");
    assert!(
        offending.is_empty(),
        "attribute names spelled in expressions, not taken from attrs.rs ({}):\n{}",
        offending.len(),
        offending.join("\n")
    );
}

#[test]
fn the_scan_finds_expressions_and_their_bare_names() {
    let src = r##"
        // .when("attribute_not_exists(commented)")
        let c = '"';
        fn f<'a>(x: &'a str) {}
        req.condition_expression("attribute_exists(PK) AND attribute_not_exists(deleting)")
            .update_expression(format!("SET #{} = :v, {n} = :{attr}_delta, captions.#lang = :t", a.b))
            .when(format!("{DELETING} = :x"))
            .named("personal");
        let set = "SET sizeBytes = :size";
        let not_an_expression = "a key: u1#x";
        let projection = ("PK, SK, drawingId", &[("#kind", attrs::KIND)][..]);
        self.put(item, Some(r#"attribute_not_exists(PK)"#));
        let not_a_binding = a == "plain";
    "##;
    let found = literals(src);
    let expressions: Vec<(usize, Vec<String>)> =
        found.iter().filter(|l| is_expression(l)).map(|l| (l.line, bare_names(&l.text))).collect();
    assert_eq!(
        expressions,
        [
            (5, vec!["PK".to_owned(), "deleting".to_owned()]),
            (6, vec!["captions".to_owned()]),
            (7, vec![]),
            (9, vec!["sizeBytes".to_owned()]),
            (11, vec!["PK".to_owned(), "SK".to_owned(), "drawingId".to_owned()]),
            (11, vec![]),
            (12, vec!["PK".to_owned()]),
        ]
    );
    let personal = found.iter().find(|l| l.text == "personal").expect("the bound name");
    assert_eq!(personal.calls.last(), Some(&("named".to_owned(), 0)));
    assert!(!found.iter().any(|l| l.text.contains("commented")));
    let compared = found.iter().find(|l| l.text == "plain").expect("a compared literal");
    assert_eq!(compared.calls, [], "a comparison is no binding");
}
