//! Imports run one way: every top-level module of `src/` sits in a layer of the table in
//! `docs/architecture.md`, and a module imports (`crate::x`, `$crate::x`, `super::` paths that leave the
//! module) only from layers below its own. A violation fails naming `file:line`, the import and both
//! layers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Module -> (layer number, layer name), from the table's rows `| N | name | `a`, `b` | ... |`.
fn layers() -> BTreeMap<String, (u32, String)> {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/architecture.md")).expect("docs/architecture.md");
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(n), Some(name), Some(modules)) = (cells.get(1), cells.get(2), cells.get(3)) else { continue };
        let Ok(n) = n.parse::<u32>() else { continue };
        for m in modules.split(',') {
            let m = m.trim().trim_matches('`');
            assert!(!m.is_empty(), "docs/architecture.md: layer {n} lists an empty module");
            assert!(out.insert(m.to_string(), (n, name.to_string())).is_none(), "{m} is in two layers");
        }
    }
    assert!(out.len() > 5, "no layer table found in docs/architecture.md");
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file with comments blanked (kept line for line), so that doc links and prose do not
/// count as imports; string literals are kept (no `crate::` path is ever spelled in one).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") {
                String::new()
            } else {
                match l.find(" //") {
                    Some(i) if !l[..i].contains('"') => l[..i].to_string(),
                    _ => l.to_string(),
                }
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segment of every item of a `{...}` group starting at `s[0] == '{'`.
fn group_heads(s: &str) -> Vec<String> {
    let mut depth = 0;
    let mut heads = Vec::new();
    let mut item = String::new();
    for c in s.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    heads.push(std::mem::take(&mut item));
                    break;
                }
            }
            ',' if depth == 1 => {
                heads.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        if depth >= 1 {
            item.push(c);
        }
    }
    heads
        .iter()
        .map(|i| i.trim().split("::").next().unwrap_or("").trim().to_string())
        .filter(|h| !h.is_empty())
        .collect()
}

fn ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// (line, the import as written, target module) of every path that leaves the file's module.
fn imports(file: &Path, src: &Path, root_names: &BTreeMap<String, String>) -> Vec<(usize, String, String)> {
    let text = std::fs::read_to_string(file).expect("read");
    let code = code(&text);
    let rel = file.strip_prefix(src).expect("under src");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    // Module depth below the crate root: src/a.rs and src/a/mod.rs are 1, src/a/b.rs is 2, ...
    let depth = parts.len() - usize::from(parts.last().is_some_and(|f| f == "mod.rs"));
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let resolve = |head: &str| -> Option<String> {
        if root_names.contains_key(head) {
            return root_names.get(head).cloned();
        }
        Some(head.to_string())
    };
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let heads = if rest.starts_with('{') { group_heads(rest) } else { vec![ident(rest)] };
        for h in heads {
            if let Some(t) = resolve(&h) {
                out.push((line_of(at), format!("crate::{h}"), t));
            }
        }
    }
    for (at, _) in code.match_indices("super::") {
        // Count the whole chain once, from its first `super::`.
        if code[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut n = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            n += 1;
            rest = r;
        }
        if n < depth {
            continue; // stays inside the file's top-level module
        }
        let heads = if rest.starts_with('{') { group_heads(rest) } else { vec![ident(rest)] };
        for h in heads {
            if let Some(t) = resolve(&h) {
                out.push((line_of(at), format!("{}{h}", "super::".repeat(n)), t));
            }
        }
    }
    out
}

/// Names `lib.rs` re-exports at the crate root (`pub use error::{Error, ...}`) -> their module; the
/// root's own items (`VERSION`) belong to the floor.
fn root_names(layers: &BTreeMap<String, (u32, String)>) -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).expect("lib.rs");
    let mut out = BTreeMap::new();
    for line in code(&lib).lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else { continue };
        let module = ident(rest);
        let names = rest[module.len()..].trim_start_matches("::").trim_end_matches(';');
        let names = if names.starts_with('{') { group_heads(names) } else { vec![ident(names)] };
        for n in names {
            out.insert(n, module.clone());
        }
    }
    let floor = layers.iter().find(|(_, (n, _))| *n == 0).map(|(m, _)| m.clone()).expect("a layer 0");
    out.insert("VERSION".into(), floor);
    out
}

#[test]
fn imports_run_down_the_layers() {
    let layers = layers();
    let src = Path::new(ROOT).join("src");
    let roots = root_names(&layers);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let first = rel.iter().next().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        if first == "bin" || first == "lib.rs" {
            continue; // the binary is a host crate; lib.rs only declares and re-exports
        }
        let top = first.trim_end_matches(".rs").to_string();
        let Some((level, name)) = layers.get(&top) else {
            violations.push(format!("src/{}: module `{top}` is in no layer of docs/architecture.md", rel.display()));
            continue;
        };
        for (line, import, target) in imports(file, &src, &roots) {
            if target == top {
                continue;
            }
            // Paths to items that are not modules of the crate (`crate::Result` goes through the
            // root re-exports above; anything else must be a module).
            let Some((tl, tn)) = layers.get(&target) else { continue };
            if tl >= level {
                let how = if tl == level { "beside it" } else { "above it" };
                violations.push(format!(
                    "src/{}:{line}: `{import}`: `{top}` (layer {level} {name}) imports `{target}` (layer {tl} {tn}), \
                     {how}; imports must run down",
                    rel.display()
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{} import(s) against the layers:\n{}", violations.len(), violations.join("\n"));
}

#[test]
fn the_table_places_every_module_of_lib_rs_and_nothing_else() {
    let layers = layers();
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).expect("lib.rs");
    let declared: Vec<String> = code(&lib)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").map(|r| r.trim_end_matches(';').trim().to_string()))
        .collect();
    for m in &declared {
        assert!(layers.contains_key(m), "src/lib.rs declares `{m}`, which docs/architecture.md places in no layer");
    }
    for m in layers.keys() {
        assert!(declared.contains(m), "docs/architecture.md places `{m}`, which src/lib.rs does not declare");
    }
}

#[test]
fn the_checker_sees_grouped_nested_and_super_imports() {
    assert_eq!(group_heads("{data::{self, Record}, eval, model::Model}"), ["data", "eval", "model"]);
    assert_eq!(group_heads("{\n    a,\n    b::c,\n}"), ["a", "b"]);
    assert_eq!(
        code("use crate::x; // crate::y\n/// [`crate::z`]\nlet s = \"a // b\";"),
        "use crate::x;\n\nlet s = \"a // b\";"
    );
}
