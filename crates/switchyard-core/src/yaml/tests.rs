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

#[test]
fn duplicates_in_large_mappings_are_found_with_both_positions() {
    // Past the size where the key index takes over from the linear search.
    let mut text = String::new();
    for i in 0..5_000 {
        text.push_str(&format!("k{i}: {i}\n"));
    }
    text.push_str("k4321: again\n");
    let e = parse_yaml(&text, &Limits::default()).unwrap_err();
    assert_eq!(e.pos, Pos::new(5_001, 1));
    assert_eq!(
        e.message,
        "duplicate key `k4321` (first defined at line 4322 column 1)"
    );
    // Each size around the switch-over finds a duplicate of its first and of its last key.
    for n in [1, 2, 15, 16, 17, 40] {
        for dup in [0, n - 1] {
            let mut t: String = (0..n).map(|i| format!("k{i}: 1\n")).collect();
            t.push_str(&format!("k{dup}: 2\n"));
            let e = parse_yaml(&t, &Limits::default()).unwrap_err();
            assert_eq!(e.pos, Pos::new(n as u32 + 1, 1), "n={n} dup={dup}");
        }
    }
}

#[test]
fn merges_of_large_mappings_keep_own_keys_and_first_merge_wins() {
    let mut base = String::from("a: &a {");
    let mut other = String::from("b: &b {");
    for i in 0..100 {
        base.push_str(&format!("m{i}: a{i}, "));
        other.push_str(&format!("m{i}: b{i}, n{i}: b{i}, "));
    }
    let mut text = format!("{base}}}\n{other}}}\nd:\n  <<: [*a, *b]\n");
    for i in (0..100).step_by(2) {
        text.push_str(&format!("  m{i}: own{i}\n"));
    }
    let n = one(&text);
    let d = map_get(&n, "d");
    let Value::Map(entries) = &d.value else {
        panic!("not a map")
    };
    assert_eq!(entries.len(), 200);
    assert_eq!(map_get(d, "m0").value, Value::Str("own0".into()));
    assert_eq!(map_get(d, "m1").value, Value::Str("a1".into()));
    assert_eq!(map_get(d, "n1").value, Value::Str("b1".into()));
    // Own keys first, in source order, then merged ones.
    assert_eq!(entries[0].0.name, "m0");
    assert_eq!(entries[50].0.name, "m1");
}

#[test]
fn alias_expansion_has_its_own_budget() {
    let limits = Limits {
        max_alias_nodes_per_file: 100,
        ..Limits::default()
    };
    // 10 aliases of a 10-node list: 100 nodes, at the limit.
    let list = "[1, 2, 3, 4, 5, 6, 7, 8, 9]";
    let ok = format!("a: &a {list}\nb: [{}]\n", ["*a"; 10].join(", "));
    parse_yaml(&ok, &limits).expect("at the limit");
    let over = format!("a: &a {list}\nb: [{}]\n", ["*a"; 11].join(", "));
    let e = parse_yaml(&over, &limits).unwrap_err();
    assert_eq!(e.pos, Pos::new(2, 45));
    assert!(
        e.message
            .starts_with("aliases expand to more than 100 nodes in one file (limit)"),
        "{}",
        e.message
    );
}

#[test]
fn json_positions_of_many_documents_on_one_line_and_many_lines() {
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!("{{\"k\": \"{i:03}\"}} "));
    }
    text.push_str("\n\n   {\"last\": [1, \"two\"]}");
    let docs = parse_json(&text, &Limits::default()).unwrap();
    assert_eq!(docs.len(), 301);
    assert_eq!(docs[0].pos, Pos::new(1, 1));
    assert_eq!(docs[1].pos, Pos::new(1, 14));
    assert_eq!(docs[299].pos, Pos::new(1, 299 * 13 + 1));
    assert_eq!(docs[300].pos, Pos::new(3, 4));
    assert_eq!(map_get(&docs[300], "last").pos, Pos::new(3, 13));
    // Columns count characters, not bytes.
    let docs = parse_json("{\"é\": 1} {\"x\": 2}", &Limits::default()).unwrap();
    assert_eq!(docs[1].pos, Pos::new(1, 10));
}

#[test]
fn json_documents_share_one_node_budget() {
    let limits = Limits {
        max_nodes_per_file: 10,
        ..Limits::default()
    };
    let e = parse_json(&"[1, 2] ".repeat(4), &limits).unwrap_err();
    assert!(e.message.contains("more than 10 nodes"), "{}", e.message);
}

#[test]
fn json_reader_matches_json_syntax() {
    let limits = Limits::default();
    fn ok<'a>(t: &'a str, limits: &Limits) -> Vec<Node<'a>> {
        parse_json(t, limits).unwrap_or_else(|e| panic!("{t}: {e:?}"))
    }
    let docs = ok(
        r#"{"s": "a\"b\\u00e9\ud83d\ude00", "n": -1.5e2, "i": 42, "z": 0, "b": [true, false, null], "e": {}, "l": []}"#,
        &limits,
    );
    let d = &docs[0];
    assert_eq!(map_get(d, "s").value, Value::Str("a\"b\\u00e9😀".into()));
    assert_eq!(map_get(d, "n").value, Value::Float(-150.0));
    assert_eq!(map_get(d, "i").value, Value::Int(42));
    assert_eq!(map_get(d, "z").value, Value::Int(0));
    assert_eq!(map_get(d, "s").pos, Pos::new(1, 7));
    // A top-level null is an empty document.
    assert_eq!(ok("null {\"a\": 1} null", &limits).len(), 1);
    for bad in [
        "{\"a\" 1}",
        "{\"a\": 1,}",
        "[1, 2,]",
        "{a: 1}",
        "[01]",
        "[1.]",
        "[-]",
        "[\"\\x\"]",
        "[\"\\ud800\"]",
        "[\"tab\there\"]",
        "[tru]",
        "{\"a\": 1",
        "\"open",
    ] {
        let e = parse_json(bad, &limits).unwrap_err();
        assert!(
            e.message.starts_with("invalid JSON: "),
            "{bad}: {}",
            e.message
        );
    }
    let e = parse_json("{\"a\": 1, \"a\": 2}", &limits).unwrap_err();
    assert_eq!(
        (e.pos, e.message.as_str()),
        (
            Pos::new(1, 10),
            "duplicate key `a` (first defined at line 1 column 2)"
        )
    );
    let deep = "[".repeat(70) + &"]".repeat(70);
    let e = parse_json(&deep, &limits).unwrap_err();
    assert!(
        e.message.contains("nesting deeper than 64"),
        "{}",
        e.message
    );
}

#[test]
fn long_flow_collections_are_refused_before_parsing() {
    let text = format!("flags: [{}0]\n", "0, ".repeat(100_000));
    let e = parse_yaml(&text, &Limits::default()).unwrap_err();
    assert_eq!(e.pos, Pos::new(1, 8));
    assert_eq!(
        e.message,
        "flow collection (`[…]` or `{…}`) with more than 100000 entries (limit); write a long list as a block list (one `- item` per line)"
    );
    // The same list as a block list is read.
    let block = format!("flags:\n{}", "- 0\n".repeat(100_001));
    assert!(parse_yaml(&block, &Limits::default()).is_ok());
}

#[test]
fn positions_never_lie_past_the_end_of_the_text() {
    // An explicit key with no content at end of input: the scanner places it on line 2.
    let n = one("? ");
    let Value::Map(entries) = &n.value else {
        panic!("not a map")
    };
    assert_eq!(entries[0].0.pos, Pos::new(1, 3));
    assert!(n.pos <= Pos::new(1, 3));
}

/// Number spellings as yaml.v3's `resolve()` (gopkg.in/yaml.v3 resolve.go) reads them.
#[test]
fn yaml_v3_number_spellings() {
    // Each answer is gopkg.in/yaml.v3 v3.0.1's: `yaml.Unmarshal("v: <text>")` into `interface{}`
    // (its `resolve()`), run with Go 1.26 on 2026-12-02; 2^63 is the one exception (yaml.v3
    // answers uint64, Switchyard float64: documented in docs/api.md).
    let cases: &[(&str, Value<'_>)] = &[
        ("0X1F", Value::Int(31)),
        ("0B1", Value::Int(1)),
        ("0O7", Value::Int(7)),
        ("00", Value::Int(0)),
        ("1__0", Value::Int(10)),
        ("_1", Value::Str("_1".into())),
        ("1_", Value::Int(1)),
        ("+0x10", Value::Int(16)),
        ("-010", Value::Int(-8)),
        ("0.1_0", Value::Float(0.1)),
        ("1e3", Value::Float(1000.0)),
        ("-.5", Value::Float(-0.5)),
        ("1_000", Value::Int(1000)),
        ("010", Value::Int(8)),
        ("0b101", Value::Int(5)),
        ("-0b101", Value::Int(-5)),
        ("-0x1F", Value::Int(-31)),
        ("0o17", Value::Int(15)),
        ("+5", Value::Int(5)),
        ("-0", Value::Int(0)),
        ("0", Value::Int(0)),
        ("08", Value::Float(8.0)),
        (".5", Value::Float(0.5)),
        ("+.5", Value::Float(0.5)),
        ("1.", Value::Float(1.0)),
        ("1_000.5", Value::Float(1000.5)),
        ("-9223372036854775808", Value::Int(i64::MIN)),
        ("9223372036854775808", Value::Float(9223372036854775808.0)),
        ("0x", Value::Str("0x".into())),
        ("+", Value::Str("+".into())),
        ("._5", Value::Str("._5".into())),
        ("2024-01-02", Value::Str("2024-01-02".into())),
        ("1.2.3", Value::Str("1.2.3".into())),
    ];
    for (text, want) in cases {
        let doc = format!("v: {text}\n");
        let n = one(&doc);
        assert_eq!(&map_get(&n, "v").value, want, "{text}");
    }
}
