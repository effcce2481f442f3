//! Unit tests for settings: defaults, precedence, every bad value reported,
//! thresholds that would switch a check off.

use super::*;

#[test]
fn defaults_apply_when_nothing_is_given() {
    let s = resolve(&AnalysisArgs::default(), FileSettings::default()).unwrap();
    assert_eq!(s.interval, Duration::from_secs(30));
    assert_eq!(s.metric_period, Duration::from_secs(60));
    assert_eq!(s.thresholds.max_error_rate, 0.01);
    assert_eq!(s.failure_limit, 1);
    assert_eq!(s.on_no_data, NoDataPolicy::Fail);
}

#[test]
fn flags_override_the_file() {
    let f: FileSettings = toml::from_str(
        "interval = \"10s\"\nmax-error-rate = \"5%\"\non-no-data = \"pause\"\nfailure-limit = 3",
    )
    .unwrap();
    let a = AnalysisArgs {
        max_error_rate: Some("2%".into()),
        ..Default::default()
    };
    let s = resolve(&a, f).unwrap();
    assert_eq!(s.interval, Duration::from_secs(10));
    assert_eq!(s.thresholds.max_error_rate, 0.02);
    assert_eq!(s.on_no_data, NoDataPolicy::Pause);
    assert_eq!(s.failure_limit, 3);
}

#[test]
fn every_bad_value_is_reported() {
    let a = AnalysisArgs {
        interval: Some("soon".into()),
        max_error_rate: Some("200%".into()),
        failure_limit: Some(0),
        prometheus_url: Some("http://127.0.0.1:9090".into()),
        probe: Some("ftp://x".into()),
        ..Default::default()
    };
    let errs = resolve(&a, FileSettings::default()).unwrap_err();
    let culprits: Vec<&str> = errs.iter().map(|e| e.culprit.as_str()).collect();
    assert_eq!(
        culprits,
        vec![
            "--prometheus-url/--prometheus-query/--prometheus-max",
            "--interval",
            "--max-error-rate",
            "--probe",
            "--failure-limit"
        ]
    );
}

/// The culprit and a fragment of the message, or the accepted fraction.
fn rate_from(flag: Option<&str>, file: &str) -> Result<f64, (String, String)> {
    let a = AnalysisArgs {
        max_error_rate: flag.map(String::from),
        ..Default::default()
    };
    let f: FileSettings = toml::from_str(file).expect("valid toml");
    resolve(&a, f)
        .map(|s| s.thresholds.max_error_rate)
        .map_err(|e| (e[0].culprit.clone(), e[0].message.clone()))
}

#[test]
fn error_rate_forms_from_flag_and_file() {
    assert_eq!(rate_from(Some("1%"), ""), Ok(0.01));
    assert_eq!(rate_from(Some("0.01"), ""), Ok(0.01));
    assert_eq!(rate_from(None, "max-error-rate = \"2%\""), Ok(0.02));
    assert_eq!(rate_from(None, "max-error-rate = 0.05"), Ok(0.05));
    assert_eq!(rate_from(None, "max-error-rate = \"0.05\""), Ok(0.05));
    let (culprit, msg) = rate_from(Some("1"), "").unwrap_err();
    assert_eq!(culprit, "--max-error-rate");
    assert!(msg.contains("write 1% for a percentage, or 0.01"), "{msg}");
    for file in [
        "max-error-rate = 1",
        "max-error-rate = \"1\"",
        "max-error-rate = 1.0",
    ] {
        let (culprit, msg) = rate_from(None, file).unwrap_err();
        assert_eq!(culprit, "max-error-rate in the --config file", "{file}");
        assert!(msg.contains("or 0.01 as a fraction"), "{file}: {msg}");
    }
    let (culprit, msg) = rate_from(None, "max-error-rate = \"100%\"").unwrap_err();
    assert_eq!(culprit, "max-error-rate in the --config file");
    assert!(msg.contains("could never fail"), "{msg}");
    // The flag wins over the file, and is the culprit when bad.
    let (culprit, _) = rate_from(Some("100%"), "max-error-rate = \"1%\"").unwrap_err();
    assert_eq!(culprit, "--max-error-rate");
    assert_eq!(rate_from(Some("3%"), "max-error-rate = 1"), Ok(0.03));
}

#[test]
fn zero_min_requests_is_refused_from_flag_and_file() {
    let a = AnalysisArgs {
        min_requests: Some(0),
        ..Default::default()
    };
    let e = resolve(&a, FileSettings::default()).unwrap_err();
    assert_eq!(e[0].culprit, "--min-requests");
    assert!(e[0].message.contains("use at least 1"), "{}", e[0].message);
    let f: FileSettings = toml::from_str("min-requests = 0").unwrap();
    let e = resolve(&AnalysisArgs::default(), f).unwrap_err();
    assert_eq!(e[0].culprit, "min-requests in the --config file");
    let f: FileSettings = toml::from_str("min-requests = 1").unwrap();
    let s = resolve(&AnalysisArgs::default(), f).unwrap();
    assert_eq!(s.thresholds.min_requests, 1);
}

#[test]
fn debug_output_masks_urls() {
    let a = AnalysisArgs {
        probe: Some("http://u:hunter2@127.0.0.1/h?token=tok-1".into()),
        prometheus_url: Some("http://127.0.0.1:9090/?token=tok-2".into()),
        prometheus_query: Some("up".into()),
        prometheus_max: Some(1.0),
        ..Default::default()
    };
    let s = format!("{:?}", resolve(&a, FileSettings::default()).unwrap());
    assert!(!s.contains("hunter2") && !s.contains("tok-"), "{s}");
    assert!(s.contains("http://***@127.0.0.1/h?token=***"), "{s}");
}

#[test]
fn unknown_file_keys_are_refused() {
    assert!(toml::from_str::<FileSettings>("intervall = \"10s\"").is_err());
}

#[test]
fn an_interval_under_one_second_is_refused() {
    for short in ["0", "0s", "500ms", "999ms"] {
        let a = AnalysisArgs {
            interval: Some(short.into()),
            ..Default::default()
        };
        let errs = resolve(&a, FileSettings::default()).expect_err(short);
        assert_eq!(errs.len(), 1, "{short}: {errs:?}");
        assert_eq!(errs[0].culprit, "--interval");
        assert!(errs[0].message.contains("at least 1s"), "{errs:?}");
    }
    let a = AnalysisArgs {
        interval: Some("1s".into()),
        ..Default::default()
    };
    assert_eq!(
        resolve(&a, FileSettings::default()).unwrap().interval,
        Duration::from_secs(1)
    );
}

#[test]
fn an_interval_longer_than_a_week_is_refused() {
    let a = AnalysisArgs {
        interval: Some("18446744073709551615".into()),
        no_data_timeout: Some("30d".into()),
        ..Default::default()
    };
    let errs = resolve(&a, FileSettings::default()).unwrap_err();
    let culprits: Vec<&str> = errs.iter().map(|e| e.culprit.as_str()).collect();
    assert_eq!(culprits, vec!["--interval", "--no-data-timeout"]);
}
