use roxmltree::{Document, Node};

use super::*;
use crate::report::graph::fixtures::{hostile, random, small, HOSTILE};
use crate::report::graph::text::shown;

/// The elements and attributes this code writes: anything else came from a name.
const ELEMENTS: [&str; 7] = ["svg", "title", "rect", "g", "path", "text", "tspan"];
const ATTRIBUTES: [&str; 21] = [
    "xmlns",
    "width",
    "height",
    "viewBox",
    "font-family",
    "role",
    "fill",
    "transform",
    "class",
    "font-size",
    "x",
    "y",
    "rx",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "d",
    "text-anchor",
    "font-weight",
    "stroke-linejoin",
    "paint-order",
];

fn parse(svg: &str) -> Document<'_> {
    match Document::parse(svg) {
        Ok(doc) => doc,
        Err(e) => panic!("not XML: {e}\n{svg}"),
    }
}

/// All the text inside `node`, its tspans' included.
fn text_of(node: Node) -> String {
    (node.descendants())
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

fn with_class<'a>(doc: &'a Document, class: &str) -> Vec<Node<'a, 'a>> {
    let class = class.to_owned();
    doc.descendants()
        .filter(move |n| n.attribute("class") == Some(class.as_str()))
        .collect()
}

fn child<'a>(node: Node<'a, 'a>, tag: &str) -> Option<Node<'a, 'a>> {
    node.children().find(|c| c.has_tag_name(tag))
}

#[test]
fn every_node_and_edge_is_drawn_with_its_figures() {
    let t = small();
    let out = svg(&t);
    let doc = parse(&out);
    let root = doc.root_element();
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let (width, height) = (root.attribute("width"), root.attribute("height"));
    assert!(width.is_some() && height.is_some());
    let view_box = format!("0 0 {} {}", width.unwrap_or(""), height.unwrap_or(""));
    assert_eq!(root.attribute("viewBox"), Some(view_box.as_str()));

    let nodes = with_class(&doc, "node");
    let names: Vec<Option<String>> = (nodes.iter())
        .map(|n| child(*n, "text").map(text_of))
        .collect();
    let expected = ["front", "users", "auth", "10.0.0.7:5432"];
    assert_eq!(names, expected.map(|name| Some(name.to_owned())));
    let dashed: Vec<bool> = (nodes.iter())
        .map(|n| {
            child(*n, "rect")
                .and_then(|r| r.attribute("stroke-dasharray"))
                .is_some()
        })
        .collect();
    assert_eq!(dashed, [false, false, false, true]);

    let edges = with_class(&doc, "edge");
    let titles: Vec<String> = (edges.iter())
        .filter_map(|e| child(*e, "title").map(text_of))
        .collect();
    assert_eq!(
        titles,
        [
            "front → users: 120 calls, 3 err, p99 12.5 ms",
            "users → 10.0.0.7:5432: 240 calls, p99 850 µs",
            "users → auth: 60 calls",
            "auth → users: 5 calls, 5 err, p99 2 s",
            "auth → auth: 1 call, p99 999 ns",
        ]
    );
    let colors: Vec<Option<&str>> = (edges.iter())
        .map(|e| child(*e, "path").and_then(|p| p.attribute("stroke")))
        .collect();
    let (red, grey) = (Some(ERROR_COLOR), Some(EDGE_COLOR));
    assert_eq!(colors, [red, grey, grey, red, grey]);
    // Each edge a line and an arrowhead.
    for e in &edges {
        assert_eq!(e.children().filter(|c| c.has_tag_name("path")).count(), 2);
    }

    let figures: Vec<String> = (with_class(&doc, "figures").iter())
        .flat_map(|g| g.children().filter(|c| c.has_tag_name("text")))
        .map(text_of)
        .collect();
    assert_eq!(
        figures,
        [
            "120 calls, 3 err",
            "p99 12.5 ms",
            "240 calls",
            "p99 850 µs",
            "60 calls",
            "5 calls, 5 err",
            "p99 2 s",
            "1 call",
            "p99 999 ns",
        ]
    );
    let legend = with_class(&doc, "legend");
    assert!(legend
        .iter()
        .any(|l| text_of(*l).contains("calls with errors")));
}

#[test]
fn the_element_is_the_document_without_its_declaration() {
    let t = small();
    let element = svg_element(&t);
    assert!(element.starts_with("<svg "));
    assert_eq!(
        svg(&t),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{element}")
    );
    // Deterministic: the same bytes every time.
    let big = random(60, 90, 7, false);
    assert_eq!(svg(&big), svg(&big));
    parse(&svg(&big));
}

#[test]
fn an_empty_topology_says_so() {
    let out = svg(&Topology::default());
    let doc = parse(&out);
    assert!(text_of(doc.root_element()).contains("No calls recorded."));
    assert!(with_class(&doc, "node").is_empty());
}

#[test]
fn hostile_names_are_only_text() {
    let t = hostile();
    let out = svg(&t);
    let doc = parse(&out);
    for node in doc.descendants().filter(|n| n.is_element()) {
        let tag = node.tag_name().name();
        assert!(ELEMENTS.contains(&tag), "element {tag} came from a name");
        for attribute in node.attributes() {
            let name = attribute.name();
            assert!(
                ATTRIBUTES.contains(&name),
                "attribute {name} came from a name"
            );
            let value = attribute.value();
            for fragment in ["alert", "script", "onerror", "<", ">", "\"", "\\u{"] {
                assert!(!value.contains(fragment), "{name}={value:?}");
            }
        }
    }
    for text in doc.descendants().filter_map(|n| n.text()) {
        assert!(
            !text.contains(|c: char| c.is_control() && c != '\n'),
            "{text:?}"
        );
    }
    let nodes = with_class(&doc, "node");
    assert_eq!(nodes.len(), HOSTILE.len());
    for (node, name) in nodes.iter().zip(HOSTILE) {
        // The box shows the name (control characters visible, a long one cut); the
        // tooltip holds all of it.
        let label = child(*node, "text").map(text_of);
        assert_eq!(label, Some(shown(name)));
        let title = child(*node, "title").map(text_of);
        assert_eq!(title.as_deref(), Some(&*escape::terminal(name)));
        if name.chars().count() <= text::MAX_NAME_COLUMNS && !name.contains(char::is_control) {
            assert_eq!(label.as_deref(), Some(name));
        }
    }
}
