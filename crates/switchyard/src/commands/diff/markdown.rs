//! `switchyard diff --format markdown`: GitHub-flavoured Markdown for a pull-request comment.

use std::fmt::Write as _;

use switchyard_core::impact::{percent, qualified, sample_words};
use switchyard_core::{Diff, Impact};

/// Lines of the plain-words diff shown before the rest is folded into a count.
const DIFF_LINES_SHOWN: usize = 200;

/// The preview as Markdown: a verdict, a table of shares per flag and population, the sample
/// figures, and the plain-words diff folded in a `<details>` block.
pub fn render(environment: &str, (base, head): (&str, &str), d: &Diff, i: &Impact) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Switchyard impact preview: `{}` `{}` → `{}`\n",
        cell(environment),
        cell(base),
        cell(head)
    );
    let verdict = if i.changes_entities() {
        let n = i.flags.iter().filter(|f| f.changes_entities()).count();
        format!(
            "**{n} flag{} change{} answers for some entities.**",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        )
    } else if d.is_empty() && i.flags.is_empty() {
        "**No changes.**".to_string()
    } else {
        "**No entity gets a different answer.**".to_string()
    };
    let _ = writeln!(out, "{verdict}\n");
    if !i.flags.is_empty() {
        out.push_str("| Flag | Entities | Changed | Moves |\n|---|---|---:|---|\n");
        for f in &i.flags {
            let name = qualified(&f.namespace, &f.key);
            for s in &f.shares {
                let moves: Vec<String> = s
                    .moves
                    .iter()
                    .map(|m| {
                        format!(
                            "{} → {} {}",
                            cell(&m.from.to_string()),
                            cell(&m.to.to_string()),
                            percent(m.buckets, s.total)
                        )
                    })
                    .collect();
                let exact = if f.exact().is_some() { " (exact)" } else { "" };
                let _ = writeln!(
                    out,
                    "| `{}` | {}{exact} | {} | {} |",
                    cell(&name),
                    cell(&s.population.to_string()),
                    if s.changed > 0 {
                        format!("**{}**", s.percent())
                    } else {
                        "0%".to_string()
                    },
                    if moves.is_empty() {
                        "–".to_string()
                    } else {
                        moves.join("<br>")
                    }
                );
            }
        }
        out.push('\n');
        for f in i.flags.iter().filter(|f| !f.changed_segments.is_empty()) {
            let _ = writeln!(
                out,
                "- `{}`: segment{} {} changed; entities may move between populations (counted by sample contexts only).",
                cell(&qualified(&f.namespace, &f.key)),
                if f.changed_segments.len() == 1 {
                    ""
                } else {
                    "s"
                },
                f.changed_segments
                    .iter()
                    .map(|s| format!("`{}`", cell(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let sampled: Vec<_> = i.flags.iter().filter(|f| f.sample.is_some()).collect();
        if !sampled.is_empty() {
            let _ = writeln!(out, "\n**Sample contexts** ({} given):\n", i.samples);
            for f in sampled {
                if let Some(s) = &f.sample {
                    let _ = writeln!(
                        out,
                        "- `{}`: {}",
                        cell(&qualified(&f.namespace, &f.key)),
                        cell(&sample_words(s))
                    );
                }
            }
        }
        out.push('\n');
    }
    let lines = d.lines();
    if !lines.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Diff ({} line{})</summary>\n\n```text",
            lines.len(),
            if lines.len() == 1 { "" } else { "s" }
        );
        for l in lines.iter().take(DIFF_LINES_SHOWN) {
            let _ = writeln!(out, "{}", l.replace("```", "'''"));
        }
        if lines.len() > DIFF_LINES_SHOWN {
            let _ = writeln!(out, "… {} more", lines.len() - DIFF_LINES_SHOWN);
        }
        out.push_str("```\n\n</details>\n");
    }
    out
}

/// Text safe inside a table cell and inline code: pipes escaped, backticks and newlines out.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('`', "'").replace('\n', " ")
}
