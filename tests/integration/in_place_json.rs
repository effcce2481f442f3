//! `rolling --in-place --output json` through the real binary on the
//! emulator: the result records every `--deploy` and `--undo` that ran.

use crate::in_place::{args, failing_at, in_place_stack};
use serde_json::Value;

#[tokio::test]
async fn the_json_result_records_each_deploy_and_undo_with_a_failed_ones_tail() {
    let (emu, s, d) = in_place_stack("json", "4");
    let mut a = args(&s, &d, true);
    a.extend(["--output".to_string(), "json".to_string()]);
    let r = failing_at(&emu, &a, "2");
    assert_eq!(r.code, 1, "{r:?}");
    let j: Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(j["result"], "reverted", "with --undo the group is back");
    let runs = j["batch_commands"].as_array().expect("batch_commands");
    let seen: Vec<(String, u64, bool)> = (runs.iter())
        .map(|c| {
            (
                c["stage"].as_str().unwrap().to_string(),
                c["batch"].as_u64().unwrap(),
                c["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    let want = [
        ("deploy", 1, true),
        ("deploy", 2, false),
        ("undo", 2, true),
        ("undo", 1, true),
    ];
    let want: Vec<(String, u64, bool)> = want
        .iter()
        .map(|(s, b, p)| (s.to_string(), *b, *p))
        .collect();
    assert_eq!(seen, want, "{}", r.stdout);
    let failed = &runs[1];
    assert_eq!(failed["exit_status"], 1);
    assert_eq!(failed["batches"], 2);
    assert_eq!(failed["targets"].as_array().unwrap().len(), 2);
    assert!(failed["duration_seconds"].as_f64().is_some());
    let tail = failed["tail"].to_string();
    assert!(tail.contains("does not install"), "{tail}");
    assert!(
        runs[0].get("tail").is_none(),
        "a passed deploy keeps no tail"
    );
}
