//! Unit tests for the YAML reader.

use super::*;

fn one(text: &str) -> Node<'_> {
    let mut docs = parse_yaml(text, &Limits::default()).expect("parses");
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

fn map_get<'a>(n: &'a Node<'a>, key: &str) -> &'a Node<'a> {
    match &n.value {
        Value::Map(entries) => &entries.iter().find(|(k, _)| k.name == key).expect("key").1,
        other => panic!("not a map: {other:?}"),
    }
}

#[test]
fn core_schema_scalars() {
    let n = one(
        "a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: yes\ng: 0x1f\nh: .inf\ni: -7\nj: 1e3\nk: \"x\"\n",
    );
    assert_eq!(map_get(&n, "a").value, Value::Int(1));
    assert_eq!(map_get(&n, "b").value, Value::Float(1.5));
    assert_eq!(map_get(&n, "c").value, Value::Bool(true));
    assert_eq!(map_get(&n, "d").value, Value::Null);
    assert_eq!(map_get(&n, "e").value, Value::Str("1".into()));
    assert_eq!(map_get(&n, "f").value, Value::Str("yes".into()));
    assert_eq!(map_get(&n, "g").value, Value::Int(31));
    assert_eq!(map_get(&n, "h").value, Value::Float(f64::INFINITY));
    assert_eq!(map_get(&n, "i").value, Value::Int(-7));
    assert_eq!(map_get(&n, "j").value, Value::Float(1000.0));
    assert_eq!(map_get(&n, "k").value, Value::Str("x".into()));
}

#[test]
fn positions_are_one_based() {
    let n = one("flags:\n  - key: a\n    name: b\n");
    assert_eq!(n.pos, Pos::new(1, 1));
    let Value::Seq(items) = &map_get(&n, "flags").value else {
        panic!()
    };
    assert_eq!(items[0].pos, Pos::new(2, 5));
    assert_eq!(map_get(&items[0], "name").pos, Pos::new(3, 11));
}

#[test]
fn duplicate_keys_are_refused_with_both_positions() {
    let e = parse_yaml("a: 1\nb: 2\na: 3\n", &Limits::default()).unwrap_err();
    assert_eq!(e.pos, Pos::new(3, 1));
    assert!(
        e.message.contains("duplicate key `a`") && e.message.contains("line 1"),
        "{}",
        e.message
    );
}

#[test]
fn merge_keys_apply_without_overriding() {
    let n = one("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n");
    let d = map_get(&n, "derived");
    assert_eq!(map_get(d, "x").value, Value::Int(1));
    assert_eq!(map_get(d, "y").value, Value::Int(3));
}

#[test]
fn billion_laughs_is_refused_quickly() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let start = std::time::Instant::now();
    let e = parse_yaml(&text, &Limits::default()).unwrap_err();
    assert!(e.message.contains("billion laughs"), "{}", e.message);
    // Refused while counting, long before anything is expanded (a generous bound, not a benchmark).
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn depth_limit() {
    let text = "[".repeat(100) + &"]".repeat(100);
    let e = parse_yaml(&text, &Limits::default()).unwrap_err();
    assert!(
        e.message.contains("nesting deeper than 64"),
        "{}",
        e.message
    );
}

#[test]
fn document_limit() {
    let limits = Limits {
        max_documents_per_file: 2,
        ..Limits::default()
    };
    let e = parse_yaml("a: 1\n---\nb: 2\n---\nc: 3\n", &limits).unwrap_err();
    assert!(e.message.contains("more than 2 documents"), "{}", e.message);
}

#[test]
fn streams_skip_empty_documents() {
    let docs = parse_yaml(
        "---\n# only a comment\n---\na: 1\n---\nb: 2\n",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].pos.line, 6);
}

#[test]
fn syntax_errors_have_positions() {
    let e = parse_yaml("a: [1, 2\nb: 3\n", &Limits::default()).unwrap_err();
    assert!(e.message.starts_with("invalid YAML"), "{}", e.message);
    assert!(e.pos.line >= 1);
}

#[test]
fn unsupported_tags_are_refused() {
    let e = parse_yaml("a: !custom x\n", &Limits::default()).unwrap_err();
    assert!(e.message.contains("unsupported YAML tag"), "{}", e.message);
    let n = one("a: !!str 12\n");
    assert_eq!(map_get(&n, "a").value, Value::Str("12".into()));
}

#[test]
fn json_values_concatenated_with_positions() {
    let docs = parse_json("{\"a\": 1}\n  {\"b\": [true, \"x\"]}", &Limits::default()).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].pos, Pos::new(2, 3));
    let b = map_get(&docs[1], "b");
    assert_eq!(b.pos, Pos::new(2, 9));
    let e = parse_json("{\"a\": }", &Limits::default()).unwrap_err();
    assert!(e.message.starts_with("invalid JSON"), "{}", e.message);
    assert_eq!(e.pos.line, 1);
}
