//! Hostile flag files for the parser benchmarks: each is built to make one part of the reader,
//! decoder or compiler do as much work as the limits allow (8 MiB files by default).

use std::fmt::Write as _;

/// The largest file the default limits accept.
pub const MAX_FILE: usize = 8 * 1024 * 1024;

/// A valid flag whose `metadata` is one mapping of `keys` keys.
pub fn wide_metadata(keys: usize) -> String {
    let mut t = String::from("flags:\n- key: f\n  name: F\n  metadata:\n");
    for i in 0..keys {
        let _ = writeln!(t, "    k{i:07}: {i}");
    }
    t
}

/// A document whose top-level mapping has `keys` unknown keys (every one an error).
pub fn wide_unknown(keys: usize) -> String {
    let mut t = String::new();
    for i in 0..keys {
        let _ = writeln!(t, "k{i:07}: {i}");
    }
    t
}

/// The widest valid metadata mapping that fits in `bytes`.
pub fn widest_metadata(bytes: usize) -> String {
    wide_metadata(bytes / "    k0000000: 0000000\n".len())
}

/// A flow sequence of `bytes / 2` zeros: the most nodes per byte (refused at the node limit).
pub fn flat_sequence(bytes: usize) -> String {
    let mut t = String::with_capacity(bytes + 2);
    t.push('[');
    while t.len() + 4 <= bytes {
        t.push_str("0,");
    }
    t.push_str("0]");
    t
}

/// `[` nested `bytes` deep (refused at the depth limit).
pub fn deep_flow(bytes: usize) -> String {
    "[".repeat(bytes)
}

/// A mapping of `keys` keys merged (`<<`) into one with as many keys of its own, half of them
/// overriding.
pub fn merged_maps(keys: usize) -> String {
    let mut t = String::from("flags:\n- key: f\n  name: F\n  metadata:\n    <<: {");
    for i in 0..keys {
        let _ = write!(t, "k{i}: base, ");
    }
    t.push_str("}\n");
    for i in (0..keys * 2).step_by(2) {
        let _ = writeln!(t, "    k{i}: own");
    }
    t
}

/// One flag with `n` variants and a rule with `n` distributions over them.
pub fn many_variants(n: usize) -> String {
    let mut t = String::from(
        "segments:\n- {key: s, name: S, match_type: ALL_MATCH_TYPE}\nflags:\n- key: f\n  name: F\n  variants:\n",
    );
    for i in 0..n {
        let _ = writeln!(t, "  - {{key: v{i}}}");
    }
    t.push_str("  rules:\n  - segment: s\n    distributions:\n");
    for i in 0..n {
        let _ = writeln!(t, "    - {{variant: v{i}, rollout: 0}}");
    }
    t
}

/// `n` segments and a rule that lists all of them.
pub fn many_segment_keys(n: usize) -> String {
    let mut t = String::from("segments:\n");
    for i in 0..n {
        let _ = writeln!(t, "- {{key: s{i}, name: S, match_type: ALL_MATCH_TYPE}}");
    }
    t.push_str("flags:\n- key: f\n  name: F\n  rules:\n  - segment:\n      keys:\n");
    for i in 0..n {
        let _ = writeln!(t, "      - s{i}");
    }
    t
}

/// `docs` JSON documents on one line, together about `bytes` long.
pub fn json_documents(docs: usize, bytes: usize) -> String {
    let pad = "x".repeat((bytes / docs).saturating_sub(64));
    let mut t = String::with_capacity(bytes);
    for i in 0..docs {
        let _ = write!(
            t,
            "{{\"namespace\": \"n{i}\", \"flags\": [], \"x\": \"{pad}\"}}"
        );
    }
    t
}

/// Flags that are each missing their `name`: one error per 12 bytes (the diagnostics cap).
pub fn many_errors(bytes: usize) -> String {
    let mut t = String::from("flags:\n");
    let mut i = 0;
    while t.len() + 20 <= bytes {
        let _ = writeln!(t, "- key: f{i}");
        i += 1;
    }
    t
}

/// A few unknown keys of a megabyte each (suggestions and messages on long names).
pub fn long_keys(bytes: usize) -> String {
    let mut t = String::new();
    let mut i = 0;
    while t.len() + (1 << 20) < bytes {
        let _ = writeln!(t, "? {}{i}\n: 1", "k".repeat(1 << 20));
        i += 1;
    }
    t
}

/// The classic "billion laughs": ten levels of ten aliases each.
pub fn alias_bomb() -> String {
    let mut t = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        let _ = writeln!(t, "a{i}: &a{i} [{}]", vec![format!("*a{p}"); 10].join(", "));
    }
    t
}
