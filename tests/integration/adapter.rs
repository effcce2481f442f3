//! The AWS SDK adapters against the emulator: translation over the wire,
//! error kinds, tags, targets, and CloudWatch metrics over CBOR.

use crate::status::weighted;
use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::state_tags::{self, RunRecord};
use alb_rollout::alb::*;
use alb_rollout::provider::cloudwatch::CloudWatchTraffic;
use alb_rollout::provider::{Arrival, MetricTarget, TrafficQuery, TrafficSource};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[tokio::test]
async fn reads_writes_and_reads_back_routes() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let lb = AwsLoadBalancer::new(&emu.sdk_config().await);
    let l = lb.listener(&d.listener).await.unwrap();
    assert_eq!(
        l.default_action,
        RouteAction::Forward(Forward::single(&d.blue))
    );
    assert_eq!(lb.target_group("demo-green").await.unwrap().arn, d.green);
    assert_eq!(lb.target_group(&d.green).await.unwrap().name, "demo-green");
    let route = RouteRef::new(&d.listener, None);
    let mut w = weighted(&[(&d.blue, 995), (&d.green, 5)]);
    w.stickiness = Stickiness {
        enabled: true,
        duration_seconds: Some(120),
    };
    lb.write_forward(&route, &w).await.unwrap();
    let back = lb.read_route(&route).await.unwrap();
    assert!(back.as_forward().unwrap().same_routing(&w), "{back:?}");
    let rules = lb.rules(&d.listener).await.unwrap();
    assert!(rules.last().unwrap().is_default);
}

#[tokio::test]
async fn missing_things_are_not_found_errors_naming_them() {
    let emu = Emulator::start();
    let lb = AwsLoadBalancer::new(&emu.sdk_config().await);
    let e = lb.target_group("ghost").await.unwrap_err();
    assert_eq!(e.kind, AlbErrorKind::NotFound, "{e}");
    assert_eq!(e.resource.as_deref(), Some("ghost"));
    let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2";
    let e = lb.listener(arn).await.unwrap_err();
    assert_eq!(e.kind, AlbErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains(arn));
}

#[tokio::test]
async fn the_run_record_survives_the_tag_round_trip() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let lb = AwsLoadBalancer::new(&emu.sdk_config().await);
    let record = RunRecord {
        run_id: "r-1".into(),
        strategy: "canary".into(),
        started: 1_800_000_000,
        generation: 0,
        step: "1 of 3 at 5".into(),
        green_arn: d.green.clone(),
        original: weighted(&[
            (&d.blue, 999),
            (
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/old/1",
                0,
            ),
        ]),
        registered: vec![state_tags::parse_target("127.0.0.9:8080")],
        deregistered: None,
        rules: vec![],
        routes: vec![],
    };
    let tags = state_tags::encode(&record);
    lb.add_tags(&d.listener, &tags).await.unwrap();
    lb.add_tags(
        &d.listener,
        &BTreeMap::from([("team".to_string(), "web".to_string())]),
    )
    .await
    .unwrap();
    let read = lb.tags(&d.listener).await.unwrap();
    assert_eq!(state_tags::decode(&read).unwrap(), Some(record));
    lb.remove_tags(&d.listener, &state_tags::record_keys(&read))
        .await
        .unwrap();
    assert_eq!(
        lb.tags(&d.listener).await.unwrap(),
        BTreeMap::from([("team".to_string(), "web".to_string())]),
        "user tags untouched"
    );
}

#[tokio::test]
async fn targets_register_turn_healthy_and_drain() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--no-register-green"]);
    let lb = AwsLoadBalancer::new(&emu.sdk_config().await);
    let target = state_tags::parse_target(&d.green_target);
    lb.register_targets(&d.green, std::slice::from_ref(&target))
        .await
        .unwrap();
    // Nothing forwards to green yet: AWS does not health-check it.
    let h = lb.target_health(&d.green).await.unwrap();
    assert_eq!(
        (h[0].state, h[0].reason.as_deref()),
        (HealthState::Unused, Some("Target.NotInUse"))
    );
    lb.write_forward(
        &RouteRef::new(&d.listener, None),
        &weighted(&[(&d.blue, 999), (&d.green, 0)]),
    )
    .await
    .unwrap();
    let mut state = HealthState::Unavailable;
    for _ in 0..40 {
        state = lb.target_health(&d.green).await.unwrap()[0].state;
        if state == HealthState::Healthy {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        state,
        HealthState::Healthy,
        "real HTTP health check of the green app, once attached at weight 0"
    );
    lb.deregister_targets(&d.green, &[target]).await.unwrap();
    assert_eq!(
        lb.target_health(&d.green).await.unwrap()[0].state,
        HealthState::Draining
    );
}

#[tokio::test]
async fn cloudwatch_sees_what_the_data_plane_served() {
    // fast metrics: this test is about the adapter's numbers, not CloudWatch timing.
    let mut emu = Emulator::start_with(FAST_METRICS);
    let d = emu.demo(&["--green-error-rate", "0.5"]);
    let config = emu.sdk_config().await;
    AwsLoadBalancer::new(&config)
        .write_forward(
            &RouteRef::new(&d.listener, None),
            &weighted(&[(&d.blue, 500), (&d.green, 500)]),
        )
        .await
        .unwrap();
    // The emulated ALB applies the new weights --propagation-delay (3 s) after
    // ModifyListener returned, as AWS's nodes do; 200 requests take less than
    // that, so without this wait green would get none and have no latency.
    emu.wait_propagated();
    let started = SystemTime::now();
    let mut served = (0u64, 0u64);
    for _ in 0..200 {
        let (status, head, _) = http("GET", &format!("{}/", d.listener_url), None, &[]).unwrap();
        if head.to_ascii_lowercase().contains("x-app-version: v2") {
            served.0 += 1;
            served.1 += u64::from(status == 500);
        }
    }
    let cw = CloudWatchTraffic::new(&config);
    let nothing = MetricTarget {
        target_group: "targetgroup/nothing/1".into(),
        load_balancer: alb_rollout::alb::arn_resource(&d.load_balancer).to_string(),
    };
    let targets = [
        MetricTarget::from_arns(&d.green, &d.load_balancer),
        MetricTarget::from_arns(&d.blue, &d.load_balancer),
        nothing,
    ];
    // The tool judges only whole minutes: wait for this one to end.
    let query = TrafficQuery {
        since: minute_start(started),
        minutes: 5,
        after: None,
    };
    wait_for_next_minute().await;
    let got = match cw.traffic(&targets, query).await.unwrap() {
        Arrival::Arrived(a) => a,
        other => panic!("fast metrics are ingested at once: {other:?}"),
    };
    let green = got.stats[0];
    assert_eq!((green.requests as u64, green.target_5xx as u64), served);
    assert!(green.avg_response_seconds.is_some());
    assert_eq!(
        got.stats[1].requests as u64 + served.0,
        200,
        "one call, each group its own numbers"
    );
    assert_eq!(
        got.stats[2].requests, 0.0,
        "an ingested minute without a datapoint is zero requests"
    );
}

fn minute_start(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    UNIX_EPOCH + Duration::from_secs(secs / 60 * 60)
}

async fn wait_for_next_minute() {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let left = 60.0 - secs % 60.0 + 1.0;
    tokio::time::sleep(Duration::from_secs_f64(left)).await;
}

#[tokio::test]
async fn in_aws_metrics_mode_a_minute_is_invisible_until_published() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let started = SystemTime::now();
    for _ in 0..20 {
        let (status, _, _) = http("GET", &format!("{}/", d.listener_url), None, &[]).unwrap();
        assert_eq!(status, 200);
    }
    let config = emu.metrics();
    assert_eq!(
        (config["mode"].as_str(), config["delay"].as_f64()),
        (Some("aws"), Some(90.0))
    );
    let cw = CloudWatchTraffic::new(&emu.sdk_config().await);
    let blue = [MetricTarget::from_arns(&d.blue, &d.load_balancer)];
    let query = TrafficQuery {
        since: minute_start(started),
        minutes: 5,
        after: None,
    };
    wait_for_next_minute().await;
    assert!(
        matches!(
            cw.traffic(&blue, query).await.unwrap(),
            Arrival::Waiting { .. }
        ),
        "a finished minute is not readable before its end + 90 s: {config}"
    );
    emu.flush_metrics();
    let got = match cw.traffic(&blue, query).await.unwrap() {
        Arrival::Arrived(a) => a.stats[0],
        other => panic!("published minute: {other:?}"),
    };
    assert_eq!(got.requests as u64, 20);
    assert_eq!(got.target_5xx as u64, 0, "no 5xx datapoint is no 5xx");
}
