//! Unit tests for overrides: what each one answers, its errors, when Git matches, the patch.

use super::*;
use crate::eval::Reason;
use crate::{compile_environment, evaluate_boolean, evaluate_variant};

const FLAGS: &str = "\
namespace: default
flags:
  - key: checkout
    name: Checkout
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - key: old
        default: true
      - key: new
    rules:
      - segment: everyone
        distributions:
          - variant: old
            rollout: 50
          - variant: new
            rollout: 50

  - key: banner
    name: Banner
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - threshold:
          percentage: 10
          value: true
segments:
  - key: everyone
    name: Everyone
    match_type: ALL_MATCH_TYPE
";

const OTHER: &str = "\
namespace: other
flags:
  - key: x
    name: X
    type: BOOLEAN_FLAG_TYPE
    enabled: true
";

fn files(text: &str) -> Vec<SourceFile> {
    vec![
        SourceFile::new("features.yaml", text),
        SourceFile::new("other/features.yaml", OTHER),
    ]
}

fn env_of(text: &str) -> Environment {
    match compile_environment("default", &files(text), &Limits::default()) {
        Ok(e) => e,
        Err(d) => panic!("fixture does not compile:\n{d}"),
    }
}

fn o(flag: &str, forced: Forced) -> FlagOverride {
    FlagOverride {
        namespace: "default".into(),
        flag: flag.into(),
        forced,
    }
}

fn flag<'e>(env: &'e Environment, key: &str) -> &'e Flag {
    env.namespace("default")
        .and_then(|n| n.flag(key))
        .map(Arc::as_ref)
        .expect("flag in fixture")
}

const NO_CONTEXT: [(&str, &str); 0] = [];

#[test]
fn disabling_a_variant_flag_answers_disabled_and_moves_only_its_digest() {
    let env = env_of(FLAGS);
    let out = overlay(&env, &[o("checkout", Forced::Enabled(false))]).expect("overlay");
    let e = evaluate_variant(flag(&out, "checkout"), "u1", &NO_CONTEXT[..]).expect("eval");
    assert_eq!(e.reason, Reason::FlagDisabled);
    assert_ne!(out.digest, env.digest);
    assert_ne!(
        out.namespaces["default"].digest,
        env.namespaces["default"].digest
    );
    assert_eq!(
        out.namespaces["other"].digest,
        env.namespaces["other"].digest
    );
    assert!(Arc::ptr_eq(
        &out.namespaces["other"],
        &env.namespaces["other"]
    ));
    // The base is untouched.
    let e = evaluate_variant(flag(&env, "checkout"), "u1", &NO_CONTEXT[..]).expect("eval");
    assert_eq!(e.reason, Reason::Match);
}

#[test]
fn a_forced_variant_is_everyones_answer() {
    let env = env_of(FLAGS);
    let out = overlay(&env, &[o("checkout", Forced::Variant("new".into()))]).expect("overlay");
    for i in 0..200 {
        let e = evaluate_variant(flag(&out, "checkout"), &format!("u{i}"), &NO_CONTEXT[..])
            .expect("eval");
        assert_eq!(e.variant_key(), "new");
        assert_eq!(e.reason, Reason::Default);
    }
}

#[test]
fn a_forced_rollout_answers_as_the_same_threshold_written_in_git() {
    let env = env_of(FLAGS);
    let out = overlay(&env, &[o("banner", Forced::Rollout(25.0))]).expect("overlay");
    let written = env_of(&FLAGS.replace("percentage: 10", "percentage: 25"));
    let mut on = 0;
    for i in 0..1000 {
        let id = format!("entity-{i}");
        let a = evaluate_boolean(flag(&out, "banner"), &id, &NO_CONTEXT[..]).expect("eval");
        let b = evaluate_boolean(flag(&written, "banner"), &id, &NO_CONTEXT[..]).expect("eval");
        assert_eq!(a.enabled, b.enabled, "{id}");
        on += usize::from(a.enabled);
    }
    assert!((200..300).contains(&on), "{on} of 1000 on");
    // And turning the boolean flag on answers true to everyone, rollouts or not.
    let out = overlay(&env, &[o("banner", Forced::Enabled(true))]).expect("overlay");
    for i in 0..100 {
        let e = evaluate_boolean(flag(&out, "banner"), &format!("e{i}"), &NO_CONTEXT[..])
            .expect("eval");
        assert!(e.enabled);
    }
}

#[test]
fn overrides_that_do_not_fit_are_refused_with_the_reason() {
    let env = env_of(FLAGS);
    let err = |x: FlagOverride| check(&env, &x).expect_err("refused").to_string();
    assert_eq!(
        err(o("chekout", Forced::Enabled(false))),
        "flag \"chekout\" does not exist in namespace \"default\" (did you mean \"checkout\"?)"
    );
    assert_eq!(
        err(o("checkout", Forced::Variant("blue".into()))),
        "flag \"checkout\" has no variant \"blue\" (its variants: old, new)"
    );
    assert_eq!(
        err(o("banner", Forced::Variant("x".into()))),
        "flag \"banner\" is a boolean flag: force enabled true or false, or a rollout percentage"
    );
    assert_eq!(
        err(o("checkout", Forced::Rollout(5.0))),
        "flag \"checkout\" is a variant flag: force enabled true or false, or a variant"
    );
    assert_eq!(
        err(o("banner", Forced::Rollout(101.0))),
        "rollout percentage 101 is not within 0 and 100"
    );
    let mut x = o("banner", Forced::Enabled(true));
    x.namespace = "nope".into();
    assert_eq!(
        err(x),
        "namespace \"nope\" does not exist in this environment"
    );
}

#[test]
fn git_matches_when_the_branch_carries_the_same_change() {
    let env = env_of(FLAGS);
    let off = o("checkout", Forced::Enabled(false));
    assert!(!git_matches(&env, &off));
    let fixed = env_of(&FLAGS.replacen("enabled: true", "enabled: false", 1));
    assert!(git_matches(&fixed, &off));
    assert!(!git_matches(&fixed, &o("gone", Forced::Enabled(false))));
}

#[test]
fn the_patch_makes_git_match_for_every_kind_of_override() {
    let env = env_of(FLAGS);
    for x in [
        o("checkout", Forced::Enabled(false)),
        o("checkout", Forced::Variant("new".into())),
        o("banner", Forced::Enabled(true)),
        o("banner", Forced::Rollout(25.0)),
    ] {
        let diff = patch(&env, &files(FLAGS), &x).expect("a patch");
        assert!(diff.starts_with("--- a/features.yaml\n+++ b/features.yaml\n@@ -"));
        let fixed = env_of(&switchyard_testkit::unified::apply(FLAGS, &diff));
        assert!(git_matches(&fixed, &x), "{x:?}\n{diff}");
        // Nothing else moved.
        let changes = crate::diff(&env, &fixed);
        assert!(
            changes.changes.iter().all(|c| c.key == x.flag),
            "{x:?}: {:?}",
            changes.lines()
        );
    }
}

#[test]
fn the_patch_of_a_disabled_flag_is_one_line() {
    let env = env_of(FLAGS);
    let diff = patch(&env, &files(FLAGS), &o("checkout", Forced::Enabled(false))).expect("patch");
    assert_eq!(
        diff,
        "--- a/features.yaml\n+++ b/features.yaml\n@@ -3,7 +3,7 @@\n   - key: checkout\n     name: Checkout\n     type: VARIANT_FLAG_TYPE\n-    enabled: true\n+    enabled: false\n     variants:\n       - key: old\n         default: true\n"
    );
}

#[test]
fn a_patch_is_none_rather_than_wrong_for_files_it_cannot_edit() {
    let env = env_of(FLAGS);
    let off = o("checkout", Forced::Enabled(false));
    // Flow style and CR line breaks: no patch (the override still works).
    let flow = "namespace: default\nflags: [{key: checkout, name: Checkout, type: VARIANT_FLAG_TYPE, enabled: true, variants: [{key: old, default: true}, {key: new}]}]\n";
    let fenv = compile_environment(
        "default",
        &[SourceFile::new("features.yaml", flow)],
        &Limits::default(),
    )
    .expect("compiles");
    assert_eq!(
        patch(&fenv, &[SourceFile::new("features.yaml", flow)], &off),
        None
    );
    let crlf = FLAGS.replace('\n', "\r\n");
    let cenv = env_of(&crlf);
    assert_eq!(patch(&cenv, &files(&crlf), &off), None);
    // The file is not among those given.
    assert_eq!(patch(&env, &[], &off), None);
}
