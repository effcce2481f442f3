//! The conditions of a rule that splits another rule's traffic (the
//! preview rule of a `--rule` canary): that rule's conditions and its own,
//! all of which must match, so it only takes requests the split rule would
//! have taken. Checked against ALB's per-rule limits before anything is
//! sent, naming the rule, since a refused CreateRule would end the run.
//!
//! Sources: the ELBv2 `Rule.Conditions` reference ("zero or one of
//! http-request-method, host-header, path-pattern and source-ip, and zero or
//! more of http-header and query-string"); the ALB quotas page (5 condition
//! values and 5 wildcards per rule).

use super::rules::{MAX_VALUES_PER_RULE, MAX_WILDCARDS_PER_RULE};
use crate::alb::Condition;

/// Fields a rule may hold at most one condition of.
const ONCE_PER_RULE: &[&str] = &[
    "host-header",
    "http-request-method",
    "path-pattern",
    "source-ip",
];

/// `split`'s conditions followed by `own`, or why ALB would refuse them
/// together (`rule` names the split rule).
pub fn merged_conditions(
    rule: &str,
    split: &[Condition],
    own: &[Condition],
) -> Result<Vec<Condition>, String> {
    let all: Vec<Condition> = split.iter().chain(own).cloned().collect();
    for field in ONCE_PER_RULE {
        if all.iter().filter(|c| c.field == *field).count() > 1 {
            return Err(format!(
                "rule {rule} already has a {field} condition, and an ALB rule holds at most one"
            ));
        }
    }
    let values: usize = all
        .iter()
        .map(|c| c.values.len() + c.regex_values.len())
        .sum();
    if values > MAX_VALUES_PER_RULE {
        return Err(format!(
            "rule {rule}'s conditions and this one come to {values} condition values; ALB allows {MAX_VALUES_PER_RULE} per rule"
        ));
    }
    let wildcards: usize = all
        .iter()
        .flat_map(|c| &c.values)
        .map(|v| v.matches(['*', '?']).count())
        .sum();
    if wildcards > MAX_WILDCARDS_PER_RULE {
        return Err(format!(
            "rule {rule}'s conditions and this one use {wildcards} wildcards; ALB allows {MAX_WILDCARDS_PER_RULE} per rule"
        ));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(field: &str, key: Option<&str>, values: &[&str]) -> Condition {
        Condition {
            field: field.into(),
            key: key.map(str::to_string),
            values: values.iter().map(|v| v.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_split_rule_keeps_the_rules_conditions_and_adds_its_own() {
        let split = [
            cond("path-pattern", None, &["/api/*"]),
            cond("host-header", None, &["a.example.com"]),
        ];
        let own = [cond("http-header", Some("X-Preview"), &["1"])];
        let got = merged_conditions("r", &split, &own).expect("merged");
        assert_eq!(got, [split[0].clone(), split[1].clone(), own[0].clone()]);
    }

    #[test]
    fn merged_conditions_are_held_to_albs_limits_naming_the_rule() {
        let own = [cond("http-header", Some("X-Preview"), &["1"])];
        let many = [
            cond("host-header", None, &["a", "b", "c"]),
            cond("path-pattern", None, &["/x", "/y"]),
        ];
        let e = merged_conditions("arn:rule/9", &many, &own).unwrap_err();
        assert!(
            e.contains("arn:rule/9") && e.contains("6 condition values"),
            "{e}"
        );
        let twice = [cond("path-pattern", None, &["/a"])];
        let e = merged_conditions("r", &twice, &[cond("path-pattern", None, &["/b"])]).unwrap_err();
        assert!(e.contains("at most one"), "{e}");
        let wild = [
            cond("path-pattern", None, &["/*/*/*/*"]),
            cond("host-header", None, &["*.a", "?"]),
        ];
        let e = merged_conditions("r", &wild, &own).unwrap_err();
        assert!(e.contains("6 wildcards"), "{e}");
    }
}
