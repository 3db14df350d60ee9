//! The public positioned tree: positions of keys and values, errors, suggestions.

use super::*;

#[test]
fn keys_and_values_keep_their_positions() {
    let docs = parse_tree("a:\n  b: 10x\n  c: [1, true]\n", &Limits::default()).expect("valid");
    assert_eq!(docs.len(), 1);
    let TreeValue::Map(top) = &docs[0].value else {
        panic!("a mapping");
    };
    let (name, pos, inner) = &top[0];
    assert_eq!((name.as_str(), *pos), ("a", Pos::new(1, 1)));
    let TreeValue::Map(entries) = &inner.value else {
        panic!("a mapping");
    };
    assert_eq!(entries[0].0, "b");
    assert_eq!(entries[0].1, Pos::new(2, 3));
    assert_eq!(entries[0].2.value, TreeValue::Str("10x".into()));
    assert_eq!(entries[0].2.pos, Pos::new(2, 6));
    assert_eq!(entries[1].2.value.kind(), "a list");
}

#[test]
fn syntax_errors_and_duplicate_keys_are_located() {
    let e = parse_tree("a: 1\na: 2\n", &Limits::default()).expect_err("duplicate");
    assert_eq!(e.pos.line, 2, "{e}");
    assert!(parse_tree("a: [\n", &Limits::default()).is_err());
}

#[test]
fn closest_name_suggests_typos_only() {
    assert_eq!(
        closest_name("pol_interval", &["poll_interval", "branch"]),
        Some("poll_interval")
    );
    assert_eq!(
        closest_name("storge", &["storage", "server"]),
        Some("storage")
    );
    assert_eq!(closest_name("zzz", &["storage", "server"]), None);
}
