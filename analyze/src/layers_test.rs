//! The source layout, checked: the crate's folders form the layers of [`LAYERS`], each using
//! only those it lists, and no modules import each other in a circle.
//!
//! The crate's own sources are read as text: every `crate::…`, `super::…` and `self::…` path
//! outside comments, string literals and `#[cfg(test)]` items (tests may use anything) is
//! resolved to the module it names. Two rules hold:
//!
//! - a module in a folder uses no folder but those its folder lists, and nothing of the crate
//!   root (`lib.rs` is the top: it may use everything, nothing uses it);
//! - at every level, sibling modules (a module with its own submodules counted as one) do not
//!   use each other in a circle: a file and its submodules may refer to each other, as one
//!   file split in parts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use scan::{code_only, paths, without_tests};

mod scan;

/// The folders of `src`, lowest first, with the folders each may use. `lib.rs` sits above
/// them all; `main.rs` and `cli.rs` are the binary, which uses the library as any user does.
const LAYERS: &[(&str, &[&str])] = &[
    ("util", &[]),
    ("model", &[]),
    ("read", &["util", "model"]),
    ("rebuild", &["util", "model", "read"]),
    ("report", &["util", "model", "read", "rebuild"]),
    ("pipeline", &["util", "model", "read", "rebuild", "report"]),
];

/// Files of `src` that are no module of the library.
const BINARY: &[&str] = &["main.rs", "cli.rs"];

/// A module's path from the crate root, e.g. `["rebuild", "attribute"]`; the root is empty.
type ModPath = Vec<String>;

#[test]
fn layers_are_used_downward_only_and_modules_form_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let crate_ = Crate::read(&src);
    let mut problems = crate_.layer_problems();
    problems.extend(crate_.circles());
    assert!(
        problems.is_empty(),
        "the source layout breaks its rules (see layers_test.rs):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_layers_are_listed_lowest_first() {
    for (i, (folder, uses)) in LAYERS.iter().enumerate() {
        for used in *uses {
            let at = LAYERS.iter().position(|(f, _)| f == used);
            assert!(at.is_some_and(|at| at < i), "{folder} uses {used}");
        }
    }
}

/// The modules of the library with the paths each one's code refers to.
struct Crate {
    /// Every module outside `#[cfg(test)]`, with the modules it refers to.
    uses: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

impl Crate {
    fn read(src: &Path) -> Self {
        let mut files = Vec::new();
        rust_files(src, src, &mut files);
        let mut code: BTreeMap<ModPath, String> = BTreeMap::new();
        let mut test_only: BTreeSet<ModPath> = BTreeSet::new();
        for (module, text) in files {
            let (kept, tests) = without_tests(&code_only(&text));
            for name in tests {
                test_only.insert([module.clone(), vec![name]].concat());
            }
            code.insert(module, kept);
        }
        let is_test = |m: &ModPath| (1..=m.len()).any(|n| test_only.contains(&m[..n]));
        code.retain(|m, _| !is_test(m));
        let modules: BTreeSet<ModPath> = code.keys().cloned().collect();
        let uses = code
            .iter()
            .map(|(module, text)| {
                let used = paths(text)
                    .into_iter()
                    .filter_map(|p| resolve(module, &p))
                    .map(|p| longest_module(&modules, &p))
                    .collect();
                (module.clone(), used)
            })
            .collect();
        Crate { uses }
    }

    /// Modules outside every layer, and uses the layers forbid.
    fn layer_problems(&self) -> Vec<String> {
        let layer = |m: &ModPath| m.first().cloned();
        let mut problems = Vec::new();
        for (module, used) in &self.uses {
            let Some(folder) = layer(module) else {
                continue; // the root
            };
            let Some((_, may_use)) = LAYERS.iter().find(|(f, _)| *f == folder) else {
                problems.push(format!("{} belongs to no layer", name(module)));
                continue;
            };
            for u in used {
                match layer(u) {
                    None => problems.push(format!("{} uses the crate root", name(module))),
                    Some(f) if f == folder || may_use.contains(&f.as_str()) => {}
                    Some(_) => problems.push(format!("{} uses {}", name(module), name(u))),
                }
            }
        }
        problems.dedup();
        problems
    }

    /// Each set of siblings that use each other in a circle, with one circle through them.
    fn circles(&self) -> Vec<String> {
        // Per parent, which of its children use which: a use from inside child `a` of some
        // module to inside its sibling `b` is `a` using `b`.
        let mut siblings: BTreeMap<ModPath, Graph> = BTreeMap::new();
        for (module, used) in &self.uses {
            for u in used {
                let common = module.iter().zip(u).take_while(|(a, b)| a == b).count();
                let (Some(from), Some(to)) = (module.get(common), u.get(common)) else {
                    continue; // a module and its own ancestor or descendant
                };
                siblings
                    .entry(module[..common].to_vec())
                    .or_default()
                    .entry(from.clone())
                    .or_default()
                    .insert(to.clone());
            }
        }
        let mut problems = Vec::new();
        for (parent, graph) in &siblings {
            let path = |s: &String| name(&[parent.clone(), vec![s.clone()]].concat());
            for knot in knots(graph) {
                let within: Graph = graph
                    .iter()
                    .filter(|(n, _)| knot.contains(*n))
                    .map(|(n, to)| (n.clone(), to.intersection(&knot).cloned().collect()))
                    .collect();
                let circle: Vec<String> = find_circle(&within).iter().flatten().map(path).collect();
                let all: Vec<String> = knot.iter().map(path).collect();
                problems.push(format!(
                    "circle: {} (all of {} reach each other)",
                    circle.join(" -> "),
                    all.join(", ")
                ));
            }
        }
        problems
    }
}

/// Which sibling uses which.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The sets of two or more nodes of `graph` that all reach each other.
fn knots(graph: &Graph) -> Vec<BTreeSet<String>> {
    let reach = |from: &String| {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for next in graph.get(&n).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|n| (n, reach(n))).collect();
    let mut knots: Vec<BTreeSet<String>> = Vec::new();
    for (n, from_n) in &reaches {
        let knot: BTreeSet<String> = from_n
            .iter()
            .filter(|m| reaches.get(m).is_some_and(|r| r.contains(*n)))
            .cloned()
            .collect();
        if knot.len() > 1 && !knots.contains(&knot) {
            knots.push(knot);
        }
    }
    knots
}

fn name(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".to_owned()
    } else {
        m.join("::")
    }
}

/// Every `.rs` file under `dir` that is a module of the library, with its module path.
fn rust_files(src: &Path, dir: &Path, out: &mut Vec<(ModPath, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(src, &path, out);
            continue;
        }
        let Ok(rel) = path.strip_prefix(src) else {
            continue;
        };
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if path.extension().is_none_or(|e| e != "rs") || BINARY.contains(&rel_str(&parts)) {
            continue;
        }
        let mut module: ModPath = parts;
        if let Some(last) = module.last_mut() {
            *last = last.trim_end_matches(".rs").to_owned();
        }
        if module.last().is_some_and(|l| l == "mod" || l == "lib") {
            module.pop();
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        out.push((module, text));
    }
}

fn rel_str(parts: &[String]) -> &str {
    match parts {
        [one] => one,
        _ => "",
    }
}

/// `path`, as written in `module`, from the crate root; `None` if it leaves the crate.
fn resolve(module: &ModPath, path: &[String]) -> Option<ModPath> {
    let mut at: ModPath = module.clone();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            at.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().is_some_and(|s| s == "super") {
        at.pop()?;
        rest = &rest[1..];
    }
    at.extend(rest.iter().cloned());
    Some(at)
}

/// The longest start of `path` that is a module.
fn longest_module(modules: &BTreeSet<ModPath>, path: &ModPath) -> ModPath {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
        .unwrap_or_default()
}

/// A circle in `graph`, as the nodes along it with the first repeated at the end.
fn find_circle(graph: &Graph) -> Option<Vec<String>> {
    // Depth first; a node met again while on the current path closes a circle.
    fn visit<'a>(
        node: &'a String,
        graph: &'a Graph,
        path: &mut Vec<&'a String>,
        done: &mut BTreeSet<&'a String>,
    ) -> Option<Vec<String>> {
        if let Some(p) = path.iter().position(|n| *n == node) {
            let mut circle: Vec<String> = path[p..].iter().map(|s| (*s).clone()).collect();
            circle.push(node.clone());
            return Some(circle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}
