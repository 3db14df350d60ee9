use super::*;
use crate::eval::bucket::{threshold_bucket, variant_bucket};
use crate::{Limits, SourceFile, compile_environment, diff};

fn env(yaml: &str) -> Environment {
    compile_environment(
        "default",
        &[SourceFile::new("features.yaml", yaml.trim_start())],
        &Limits::default(),
    )
    .unwrap()
}

fn of(old: &str, new: &str, samples: &[SampleContext]) -> Impact {
    let (a, b) = (env(old), env(new));
    impact(&a, &b, &diff(&a, &b), samples)
}

const SPLIT: &str = r#"
version: "1.4"
namespace: default
flags:
  - key: checkout
    name: Checkout
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants: [{key: old}, {key: new}]
    rules:
      - segment: everyone
        distributions: [{variant: old, rollout: 50}, {variant: new, rollout: 50}]
segments:
  - key: everyone
    name: Everyone
    match_type: ALL_MATCH_TYPE
"#;

fn moves(s: &Share) -> Vec<(String, String, u32)> {
    s.moves
        .iter()
        .map(|m| (m.from.to_string(), m.to.to_string(), m.buckets))
        .collect()
}

#[test]
fn fifty_fifty_to_twenty_five_seventy_five_moves_exactly_a_quarter() {
    let new = SPLIT.replace(
        "rollout: 50}, {variant: new, rollout: 50}",
        "rollout: 25}, {variant: new, rollout: 75}",
    );
    let i = of(SPLIT, &new, &[]);
    assert_eq!(i.flags.len(), 1);
    let s = i.flags[0].exact().expect("no constrained segment: exact");
    assert_eq!((s.changed, s.total), (250, 1000));
    assert_eq!(s.percent(), "25%");
    assert_eq!(moves(s), vec![("old".into(), "new".into(), 250)]);
    assert!(i.changes_entities());
    assert_eq!(
        i.lines(),
        vec!["flag checkout: 25% of all entities change (old -> new 25%)"]
    );
}

#[test]
fn the_exact_share_agrees_with_evaluating_real_entities() {
    let new = SPLIT.replace(
        "rollout: 50}, {variant: new, rollout: 50}",
        "rollout: 25}, {variant: new, rollout: 75}",
    );
    let samples: Vec<SampleContext> = (0..4000)
        .map(|n| SampleContext {
            entity_id: format!("user-{n}"),
            context: BTreeMap::new(),
            namespace: None,
            flag_key: None,
        })
        .collect();
    let i = of(SPLIT, &new, &samples);
    let sample = i.flags[0].sample.as_ref().unwrap();
    let expected = samples
        .iter()
        .filter(|s| (250..500).contains(&variant_bucket("checkout", &s.entity_id)))
        .count();
    assert_eq!(sample.evaluated, 4000);
    assert_eq!(sample.changed, expected);
    assert!(sample.examples.len() == MAX_EXAMPLES);
    assert!(
        sample
            .examples
            .iter()
            .all(|e| e.from.to_string() == "old" && e.to.to_string() == "new")
    );
}

#[test]
fn reordering_distributions_reshuffles_everyone_though_the_diff_is_silent() {
    let new = SPLIT.replace(
        "[{variant: old, rollout: 50}, {variant: new, rollout: 50}]",
        "[{variant: new, rollout: 50}, {variant: old, rollout: 50}]",
    );
    let (a, b) = (env(SPLIT), env(&new));
    assert!(diff(&a, &b).is_empty(), "same percentages per variant");
    let i = impact(&a, &b, &diff(&a, &b), &[]);
    let s = i.flags[0].exact().unwrap();
    assert_eq!(s.percent(), "100%");
    assert_eq!(
        moves(s),
        vec![
            ("new".into(), "old".into(), 500),
            ("old".into(), "new".into(), 500)
        ]
    );
}

const DARK: &str = r#"
version: "1.4"
namespace: default
flags:
  - key: darkMode
    name: Dark mode
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - threshold: {percentage: 30, value: true}
"#;

#[test]
fn boolean_rollout_thirty_to_fifty_moves_twenty_percent_off_to_on() {
    let i = of(DARK, &DARK.replace("percentage: 30", "percentage: 50"), &[]);
    let s = i.flags[0].exact().unwrap();
    assert_eq!((s.changed, s.total), (20, 100));
    assert_eq!(moves(s), vec![("off".into(), "on".into(), 20)]);
    // and for real entities: exactly those in threshold buckets 30..50
    let e = (0..1000)
        .map(|n| format!("e{n}"))
        .find(|e| (30..50).contains(&threshold_bucket(e, "darkMode")))
        .unwrap();
    let sample = SampleContext {
        entity_id: e.clone(),
        context: BTreeMap::new(),
        namespace: Some("default".into()),
        flag_key: Some("darkMode".into()),
    };
    let i = of(
        DARK,
        &DARK.replace("percentage: 30", "percentage: 50"),
        &[sample],
    );
    let s = i.flags[0].sample.as_ref().unwrap();
    assert_eq!((s.evaluated, s.changed), (1, 1));
    assert_eq!(s.examples[0].entity_id, e);
}

const PREMIUM: &str = r#"
version: "1.4"
namespace: default
flags:
  - key: newPaymentFlow
    name: New payment flow
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants: [{key: on}, {key: off, default: true}]
    rules:
      - segment: premium-users
        distributions: [{variant: on, rollout: 100}]
  - key: unrelated
    name: Unrelated
    type: BOOLEAN_FLAG_TYPE
    enabled: true
segments:
  - key: premium-users
    name: Premium users
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: premium}
"#;

fn ctx(id: &str, plan: &str) -> SampleContext {
    SampleContext {
        entity_id: id.into(),
        context: [("plan".to_string(), plan.to_string())].into(),
        namespace: None,
        flag_key: None,
    }
}

#[test]
fn a_segment_constraint_change_is_counted_on_sample_contexts() {
    let new = PREMIUM.replace(
        "operator: eq, value: premium}",
        "operator: isoneof, value: '[\"premium\",\"gold\"]'}",
    );
    let samples = [
        ctx("alice", "premium"),
        ctx("bob", "gold"),
        ctx("carol", "free"),
        ctx("dave", "gold"),
    ];
    let i = of(PREMIUM, &new, &samples);
    assert_eq!(i.flags.len(), 1, "the unrelated flag is not listed");
    let f = &i.flags[0];
    assert_eq!(f.key, "newPaymentFlow");
    assert_eq!(f.changed_segments, vec!["premium-users"]);
    // per population the rule's answers are unchanged: only membership moved
    assert_eq!(f.shares.len(), 2);
    assert_eq!(
        f.shares[0].population,
        Population::InSegments(vec!["premium-users".into()])
    );
    assert!(f.shares.iter().all(|s| s.changed == 0));
    let s = f.sample.as_ref().unwrap();
    assert_eq!((s.evaluated, s.changed), (4, 2));
    let ex: Vec<(&str, String, String)> = s
        .examples
        .iter()
        .map(|e| (e.entity_id.as_str(), e.from.to_string(), e.to.to_string()))
        .collect();
    assert_eq!(
        ex,
        vec![
            ("bob", "off".into(), "on".into()),
            ("dave", "off".into(), "on".into())
        ]
    );
    assert!(i.changes_entities());
}

#[test]
fn segment_dependent_rules_get_a_share_per_population() {
    let new = PREMIUM.replace(
        "distributions: [{variant: on, rollout: 100}]",
        "distributions: [{variant: on, rollout: 40}, {variant: off, rollout: 60}]",
    );
    let i = of(PREMIUM, &new, &[]);
    let f = &i.flags[0];
    assert!(f.exact().is_none());
    assert_eq!(f.shares[0].percent(), "60%");
    assert_eq!(moves(&f.shares[0]), vec![("on".into(), "off".into(), 600)]);
    assert_eq!(f.shares[1].population, Population::InNoSegment);
    assert_eq!(f.shares[1].changed, 0);
    assert_eq!(
        i.lines(),
        vec![
            "flag newPaymentFlow: 60% of entities in segment premium-users change (on -> off 60%)",
            "flag newPaymentFlow: no change for entities in none of its segments",
        ]
    );
}

#[test]
fn added_removed_and_retyped_flags_change_everyone() {
    let added = of(
        DARK,
        &format!(
            "{DARK}  - key: fresh\n    name: Fresh\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n"
        ),
        &[],
    );
    assert_eq!(added.flags.len(), 1);
    assert_eq!(added.flags[0].kind, ChangeKind::Added);
    assert_eq!(
        moves(added.flags[0].exact().unwrap()),
        vec![("not found".into(), "on".into(), 100)]
    );
    let removed = of(
        &format!(
            "{DARK}  - key: fresh\n    name: Fresh\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n"
        ),
        DARK,
        &[],
    );
    assert_eq!(removed.flags[0].kind, ChangeKind::Removed);
    let retyped = of(
        DARK,
        &DARK
            .replace("BOOLEAN_FLAG_TYPE", "VARIANT_FLAG_TYPE")
            .replace(
                "    rollouts:\n      - threshold: {percentage: 30, value: true}\n",
                "",
            ),
        &[],
    );
    let s = retyped.flags[0].exact().unwrap();
    assert_eq!((s.changed, s.total), (100_000, 100_000));
}

#[test]
fn a_description_change_is_listed_without_entity_changes() {
    let i = of(
        DARK,
        &DARK.replace("name: Dark mode", "name: Dark theme"),
        &[],
    );
    assert_eq!(i.flags.len(), 1);
    assert!(!i.changes_entities());
    assert_eq!(i.lines(), vec!["flag darkMode: no change for all entities"]);
}

#[test]
fn percent_is_exact() {
    assert_eq!(percent(1, 1000), "0.1%");
    assert_eq!(percent(1, 3), "33.333%");
    assert_eq!(percent(0, 100), "0%");
    assert_eq!(percent(100_000, 100_000), "100%");
}
