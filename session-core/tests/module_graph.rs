//! The house rule of core: its top-level modules (a file or a folder under `src/`) import
//! each other without a circle, errors and small leaves at the bottom; and so do the rooms
//! inside each folder (`token_manager/cache.rs` and `flight.rs`, say). Drawn from the code's
//! own `crate::` and `super::` paths (test modules left out, `{…}` groups read), so a new
//! import that closes a circle fails here, naming it.
//! `cargo test -p thoughtspot-session-core --test module_graph -- --nocapture` prints the
//! graphs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The first path segment of every path that follows `prefix` in `code`, a `{…}` group
/// read one level deep: `super::{a::X, b}` names `a` and `b`.
fn named_after(code: &str, prefix: &str) -> Vec<String> {
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        // `crate::` inside `super::crate::` or `foo_crate::` is not the crate's root.
        if code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group's items: split at its own commas, up to its own closing brace.
            let (mut depth, mut item) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.push(ident(&group[item..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(ident(&group[item..i]));
                        item = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(ident(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// The code of `file` above its unit tests (they may reach anywhere).
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("readable");
    text.split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or("")
        .to_owned()
}

/// The modules directly in `dir` (a file or a folder; not `mod.rs`, `lib.rs` or
/// `proptests.rs`, the roots and the test module) -> the siblings their code names.
/// `route` is `dir`'s path from the crate's root (`["token_manager"]`; empty for `src/`).
fn graph_of(src: &Path, route: &[String]) -> Graph {
    let dir = route.iter().fold(src.to_path_buf(), |d, part| d.join(part));
    let sibling = |name: &str| dir.join(format!("{name}.rs")).exists() || dir.join(name).is_dir();
    let absolute = format!(
        "crate::{}",
        route.iter().map(|r| format!("{r}::")).collect::<String>()
    );
    let mut graph = Graph::new();
    let mut files = Vec::new();
    collect(&dir, &mut files);
    for file in files {
        let relative = file.strip_prefix(&dir).expect("under the folder");
        let first = relative.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if ["lib", "mod", "proptests"].contains(&module.as_str()) {
            continue;
        }
        let code = code_of(&file);
        let mut names = named_after(&code, &absolute);
        // `super::` in a file directly in the folder names the folder's siblings.
        if !route.is_empty() && relative.components().count() == 1 {
            names.extend(named_after(&code, "super::"));
        }
        let deps = graph.entry(module.clone()).or_default();
        for name in names {
            if sibling(&name) && name != module {
                deps.insert(name);
            }
        }
    }
    graph
}

/// Top-level module -> the top-level modules its code names through `crate::`.
fn graph() -> Graph {
    graph_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &[])
}

/// Every folder under `src/`, as its route from the crate's root.
fn folders() -> Vec<Vec<String>> {
    fn walk(dir: &Path, route: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("readable dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_dir())
            .collect();
        entries.sort();
        for path in entries {
            route.push(path.file_name().expect("a name").to_string_lossy().into_owned());
            out.push(route.clone());
            walk(&path, route, out);
            route.pop();
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut Vec::new(),
        &mut out,
    );
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A circle through `from`, if any, as the modules along it.
fn circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn core_modules_import_each_other_without_a_circle() {
    let graph = graph();
    for (module, deps) in &graph {
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        println!("{module} -> {}", deps.join(", "));
    }
    assert!(graph.len() > 10, "the modules were found: {graph:?}");
    if let Some(circle) = circle(&graph) {
        panic!(
            "core's modules import each other in a circle: {}",
            circle.join(" -> ")
        );
    }
}

#[test]
fn the_rooms_of_each_folder_import_each_other_without_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders = folders();
    assert!(
        folders.iter().any(|f| f == &["token_manager"]),
        "the folders were found: {folders:?}"
    );
    let mut circles = Vec::new();
    for route in folders {
        let graph = graph_of(&src, &route);
        println!("{}/:", route.join("/"));
        for (module, deps) in &graph {
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            println!("  {module} -> {}", deps.join(", "));
        }
        if let Some(circle) = circle(&graph) {
            circles.push(format!("{}/: {}", route.join("/"), circle.join(" -> ")));
        }
    }
    assert!(
        circles.is_empty(),
        "rooms of a folder import each other in a circle:\n  {}",
        circles.join("\n  ")
    );
    // The reading sees what it must: the token manager's cache names its flights.
    let graph = graph_of(&src, &["token_manager".to_owned()]);
    assert!(graph["cache"].contains("flight"), "{graph:?}");
}

#[test]
fn paths_are_read_through_groups_and_only_from_the_root() {
    let code = "use super::{Inner, flight::{Flight, FlightState}, key::TokenKey};\n\
                use crate::error::Error; let x = some_crate::time::now();";
    assert_eq!(named_after(code, "super::"), ["Inner", "flight", "key"]);
    assert_eq!(named_after(code, "crate::"), ["error"]);
}

#[test]
fn a_circle_is_found_and_named() {
    let mut graph = Graph::new();
    for (from, to) in [("error", "headers"), ("auth", "error"), ("error", "auth")] {
        graph.entry(from.into()).or_default().insert(to.into());
        graph.entry(to.into()).or_default();
    }
    assert_eq!(
        circle(&graph),
        Some(vec!["auth".into(), "error".into(), "auth".into()])
    );
    graph.get_mut("error").expect("error").remove("auth");
    assert_eq!(circle(&graph), None);
}

#[test]
fn errors_and_leaves_stand_at_the_bottom() {
    let graph = graph();
    for leaf in ["secret", "time", "limit", "headers"] {
        assert_eq!(
            graph.get(leaf),
            Some(&BTreeSet::new()),
            "{leaf} imports nothing of core"
        );
    }
    let error: Vec<&str> = graph["error"].iter().map(String::as_str).collect();
    assert_eq!(error, ["headers"], "errors stand on the header rules alone");
}
