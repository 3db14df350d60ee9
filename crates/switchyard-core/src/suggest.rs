//! "Did you mean …?" hints for unknown field names and enum values.

/// Returns ` (did you mean `x`?)` for the known name closest to `unknown`, or an empty string.
pub(crate) fn did_you_mean(unknown: &str, known: &[&str]) -> String {
    match closest(unknown, known) {
        Some(k) => format!("; did you mean `{k}`?"),
        None => String::new(),
    }
}

/// The known name closest to `unknown`, if any is close enough to be a plausible typo.
pub(crate) fn closest<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    let norm = normalise(unknown);
    // Same word in another case style (matchType, MATCH_TYPE, match-type).
    if let Some(k) = known.iter().find(|k| normalise(k) == norm) {
        return Some(k);
    }
    // A known field with a suffix such as `_key`/`_id` glued on (the seed's `variant_key`).
    let stripped = ["_key", "_keys", "_id", "_name", "key", "id"]
        .iter()
        .find_map(|s| {
            norm.strip_suffix(&normalise(s))
                .filter(|r| !r.is_empty())
                .map(str::to_string)
        });
    if let Some(base) = stripped
        && let Some(k) = known.iter().find(|k| normalise(k) == base)
    {
        return Some(k);
    }
    // An abbreviation of a longer known name (`VARIANT` for `VARIANT_FLAG_TYPE`).
    if norm.len() >= 3 {
        let mut prefixed = known.iter().filter(|k| normalise(k).starts_with(&norm));
        if let (Some(k), None) = (prefixed.next(), prefixed.next()) {
            return Some(k);
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for k in known {
        let d = levenshtein(&norm, &normalise(k));
        let limit = (k.len().max(unknown.len()) / 3).max(1);
        if d <= limit && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((k, d));
        }
    }
    best.map(|(k, _)| k)
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_variant_key_suggests_variant() {
        assert_eq!(
            closest("variant_key", &["variant", "rollout"]),
            Some("variant")
        );
    }

    #[test]
    fn case_styles_and_typos() {
        assert_eq!(
            closest("matchType", &["key", "match_type"]),
            Some("match_type")
        );
        assert_eq!(closest("enabeld", &["enabled", "name"]), Some("enabled"));
        assert_eq!(closest("zzzzzz", &["enabled", "name"]), None);
    }
}
