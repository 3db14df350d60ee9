//! A pre-pass that bounds YAML flow collections (`[…]`, `{…}`) started in block context.
//!
//! saphyr-parser keeps every token of such a collection until it ends (the collection could
//! still turn out to be an implicit key), about 100 bytes per token: an 8 MiB `[0,0,0,…]` would
//! cost 1.4 GB and seconds before the first event, so the node limit could not stop it in
//! time. This pass counts the entries of each such collection in one cheap scan (quotes,
//! comments and block scalars skipped) and refuses a file whose collection is too long, with a
//! message saying how to write it instead. It only needs to be right for valid YAML; a
//! mistaken count on broken YAML refuses a file the parser would refuse anyway.

use crate::diagnostic::Pos;

/// Where the first flow collection with more than `max` entries (commas + 1, nested ones
/// included) starts, if there is one.
pub(super) fn too_long_flow(text: &str, max: usize) -> Option<Pos> {
    let b = text.as_bytes();
    let (mut i, mut line, mut line_start) = (0usize, 1u32, 0usize);
    // Flow nesting, entries of the current top-level collection and where it started.
    let (mut depth, mut entries, mut start) = (0usize, 0usize, Pos::new(1, 1));
    // Indentation of the line holding a block scalar indicator (`|`, `>`), while skipping it.
    let mut block_scalar: Option<usize> = None;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            line_start = i + 1;
            i += 1;
            if let Some(indent) = block_scalar {
                // Skip the block scalar's lines: blank, or indented deeper than its parent.
                loop {
                    let spaces = b[i..].iter().take_while(|&&c| c == b' ').count();
                    let rest = b.get(i + spaces).copied();
                    if matches!(rest, Some(b'\n') | Some(b'\r'))
                        || (rest.is_some() && spaces > indent)
                    {
                        let end = b[i..]
                            .iter()
                            .position(|&c| c == b'\n')
                            .map_or(b.len(), |p| i + p + 1);
                        if end >= b.len() {
                            return None;
                        }
                        line += 1;
                        i = end;
                        line_start = i;
                    } else {
                        break;
                    }
                }
                block_scalar = None;
            }
            continue;
        }
        let after_space = i == line_start || matches!(b[i - 1], b' ' | b'\t');
        let starts_node = || depth > 0 || node_start(b, line_start, i);
        match c {
            b'#' if after_space => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p);
                continue;
            }
            b'"' | b'\'' if starts_node() => {
                // A quoted scalar: skip to its closing quote, counting the lines it spans.
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' if c == b'"' => i += 1,
                        b'\'' if c == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
                        q if q == c => break,
                        b'\n' => {
                            line += 1;
                            line_start = i + 1;
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'[' | b'{' if starts_node() => {
                if depth == 0 {
                    entries = 1;
                    let col = text[line_start..i].chars().count() as u32 + 1;
                    start = Pos::new(line, col);
                }
                depth += 1;
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            b',' if depth > 0 => {
                entries += 1;
                if entries > max {
                    return Some(start);
                }
            }
            b'|' | b'>' if depth == 0 && node_start(b, line_start, i) => {
                let indent = b[line_start..].iter().take_while(|&&c| c == b' ').count();
                block_scalar = Some(indent);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether byte `i` starts a node in block context: only spaces, `:`, `-`, `?`, `---`, anchors
/// and tags before it on its line. (Inside a flow collection every quote and bracket counts.)
fn node_start(b: &[u8], line_start: usize, i: usize) -> bool {
    let mut j = i;
    loop {
        while j > line_start && matches!(b[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        if j == line_start {
            return true;
        }
        if matches!(b[j - 1], b':' | b'-' | b'?' | b'[' | b'{' | b',') && j != i {
            return true;
        }
        // The token before: an anchor, a tag or a document marker lets a node follow.
        let k = b[line_start..j]
            .iter()
            .rposition(|&c| c == b' ' || c == b'\t')
            .map_or(line_start, |p| line_start + p + 1);
        if matches!(b[k], b'&' | b'!') || &b[k..j] == b"---" {
            j = k;
        } else {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_entries_of_block_context_flow_collections() {
        assert_eq!(too_long_flow("a: [1, 2, 3]\n", 2), Some(Pos::new(1, 4)));
        assert_eq!(too_long_flow("a: [1, 2, 3]\n", 3), None);
        assert_eq!(
            too_long_flow("- {x: [1, 2], y: 3}\n", 2),
            Some(Pos::new(1, 3))
        );
        // Separate collections are counted separately.
        assert_eq!(too_long_flow("a: [1, 2]\nb: [3, 4]\n", 2), None);
    }

    #[test]
    fn anchors_tags_and_document_markers_do_not_hide_a_collection() {
        for text in [
            "a: &x [1, 2, 3]\n",
            "a: !!seq [1, 2, 3]\n",
            "--- [1, 2, 3]\n",
            "? [1, 2, 3]\n: v\n",
        ] {
            assert!(too_long_flow(text, 2).is_some(), "{text}");
        }
        // A quote inside a plain scalar does not start a quoted run that hides what follows.
        assert!(too_long_flow("a: 5\" screen\nb: [1, 2, 3]\nc: \"\n", 2).is_some());
    }

    #[test]
    fn ignores_commas_in_quotes_comments_plain_scalars_and_block_scalars() {
        let text = "a: \"x, [y, z\" # [, , ,\nb: 'it''s, [a, b'\nc: x[1, 2, 3]\nd: |\n  [1, 2, 3,\n  4]\ne: [\"a,b,c\", 'd,e']\n";
        assert_eq!(too_long_flow(text, 2), None);
        assert_eq!(too_long_flow(text, 1), Some(Pos::new(7, 4)));
    }
}
