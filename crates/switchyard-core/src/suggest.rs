//! "Did you mean …?" hints for unknown field names and enum values.

/// How every suggestion starts; [`has_suggestion`] looks for it.
const HINT: &str = "; did you mean ";

/// Returns `; did you mean `x`?` for the known name closest to `unknown`, or an empty string.
pub(crate) fn did_you_mean(unknown: &str, known: &[&str]) -> String {
    closest(unknown, known).map_or_else(String::new, hint)
}

/// `; did you mean `name`?`.
pub(crate) fn hint(name: &str) -> String {
    format!("{HINT}`{name}`?")
}

/// `; did you mean `a` or `b`?`.
pub(crate) fn hint_either(a: &str, b: &str) -> String {
    format!("{HINT}`{a}` or `{b}`?")
}

/// Whether a diagnostic message carries a suggestion made here.
pub(crate) fn has_suggestion(message: &str) -> bool {
    message.contains(HINT)
}

/// Words people write for Flipt's constraint operators (normalised: lower case, no `_`/`-`),
/// from SQL, programming languages and other flag tools.
const OPERATOR_SYNONYMS: &[(&str, &str)] = &[
    ("equals", "eq"),
    ("equal", "eq"),
    ("equalto", "eq"),
    ("is", "eq"),
    ("==", "eq"),
    ("=", "eq"),
    ("===", "eq"),
    ("notequals", "neq"),
    ("notequal", "neq"),
    ("notequalto", "neq"),
    ("ne", "neq"),
    ("noteq", "neq"),
    ("isnot", "neq"),
    ("!=", "neq"),
    ("<>", "neq"),
    ("!==", "neq"),
    ("lessthan", "lt"),
    ("less", "lt"),
    ("before", "lt"),
    ("<", "lt"),
    ("lessthanorequal", "lte"),
    ("lessthanorequals", "lte"),
    ("lessthanorequalto", "lte"),
    ("lessorequal", "lte"),
    ("<=", "lte"),
    ("greaterthan", "gt"),
    ("greater", "gt"),
    ("after", "gt"),
    (">", "gt"),
    ("greaterthanorequal", "gte"),
    ("greaterthanorequals", "gte"),
    ("greaterthanorequalto", "gte"),
    ("greaterorequal", "gte"),
    ("ge", "gte"),
    (">=", "gte"),
    ("startswith", "prefix"),
    ("beginswith", "prefix"),
    ("startwith", "prefix"),
    ("endswith", "suffix"),
    ("endwith", "suffix"),
    ("includes", "contains"),
    ("include", "contains"),
    ("has", "contains"),
    ("like", "contains"),
    ("notincludes", "notcontains"),
    ("doesnotcontain", "notcontains"),
    ("excludes", "notcontains"),
    ("notlike", "notcontains"),
    ("in", "isoneof"),
    ("oneof", "isoneof"),
    ("isin", "isoneof"),
    ("anyof", "isoneof"),
    ("notin", "isnotoneof"),
    ("notoneof", "isnotoneof"),
    ("isnotin", "isnotoneof"),
    ("noneof", "isnotoneof"),
    ("isempty", "empty"),
    ("blank", "empty"),
    ("isnotempty", "notempty"),
    ("notblank", "notempty"),
    ("nonempty", "notempty"),
    ("exists", "present"),
    ("exist", "present"),
    ("isset", "present"),
    ("set", "present"),
    ("defined", "present"),
    ("ispresent", "present"),
    ("notexists", "notpresent"),
    ("notexist", "notpresent"),
    ("doesnotexist", "notpresent"),
    ("isnotset", "notpresent"),
    ("notset", "notpresent"),
    ("unset", "notpresent"),
    ("missing", "notpresent"),
    ("absent", "notpresent"),
    ("undefined", "notpresent"),
    ("isnotpresent", "notpresent"),
    ("istrue", "true"),
    ("isfalse", "false"),
];

/// The operator among `allowed` that `unknown` is a synonym or a typo of, if any.
pub(crate) fn closest_operator<'k>(unknown: &str, allowed: &[&'k str]) -> Option<&'k str> {
    let norm = normalise(unknown);
    let synonym = OPERATOR_SYNONYMS
        .iter()
        .find(|(word, _)| *word == norm)
        .and_then(|(_, op)| allowed.iter().find(|a| *a == op));
    synonym.copied().or_else(|| closest(unknown, allowed))
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
        let k_norm = normalise(k);
        let limit = (k.len().max(unknown.len()) / 3).max(1);
        // The distance is at least the difference in length: skip names that cannot be close
        // (and a hostile megabyte-long key costs nothing).
        if k_norm.chars().count().abs_diff(norm.chars().count()) > limit {
            continue;
        }
        let d = levenshtein(&norm, &k_norm);
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

    #[test]
    fn operator_synonyms_only_among_allowed_operators() {
        let string_ops = ["eq", "neq", "prefix", "suffix", "contains", "isoneof"];
        assert_eq!(closest_operator("equals", &string_ops), Some("eq"));
        assert_eq!(closest_operator("not_equals", &string_ops), Some("neq"));
        assert_eq!(closest_operator("NotEquals", &string_ops), Some("neq"));
        assert_eq!(closest_operator("starts_with", &string_ops), Some("prefix"));
        assert_eq!(closest_operator("in", &string_ops), Some("isoneof"));
        let number_ops = ["eq", "neq", "lt", "lte", "gt", "gte"];
        assert_eq!(closest_operator("greater_than", &number_ops), Some("gt"));
        assert_eq!(closest_operator(">=", &number_ops), Some("gte"));
        // A synonym of an operator the type does not allow falls back to spelling.
        assert_eq!(closest_operator("greater_than", &string_ops), None);
        assert_eq!(closest_operator("prefx", &string_ops), Some("prefix"));
    }

    #[test]
    fn long_unknown_names_are_cheap_and_unmatched() {
        let long = "x".repeat(1 << 20);
        let start = std::time::Instant::now();
        assert_eq!(closest(&long, &["enabled", "name", "variants"]), None);
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
