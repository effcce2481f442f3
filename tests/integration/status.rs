//! `status` output and the emulated data plane honouring live weights.

use crate::support::*;
use alb_rollout::alb::aws::AwsLoadBalancer;
use alb_rollout::alb::{Forward, LoadBalancerPort, RouteRef};

pub fn weighted(groups: &[(&str, u16)]) -> Forward {
    Forward::weighted(groups)
}

pub async fn set_route(emu: &Emulator, listener: &str, f: &Forward) {
    let lb = AwsLoadBalancer::new(&emu.sdk_config().await);
    lb.write_forward(&RouteRef::new(listener, None), f)
        .await
        .expect("set route");
}

#[tokio::test]
async fn status_shows_the_real_weights_of_a_weighted_listener() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    set_route(
        &emu,
        &d.listener,
        &weighted(&[(&d.blue, 700), (&d.green, 300)]),
    )
    .await;
    let text = emu.run(&["status", "--listener", &d.listener]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout
            .contains("demo-blue 700 (70.0%), demo-green 300 (30.0%)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("demo-green") && text.stdout.contains("1 healthy"),
        "{}",
        text.stdout
    );
    let json = emu
        .run(&["status", "--listener", &d.listener, "--output", "json"])
        .json();
    let groups = json["listener"]["default_action"]["groups"]
        .as_array()
        .unwrap();
    let weight_of = |arn: &str| {
        groups
            .iter()
            .find(|g| g["target_group_arn"] == arn)
            .unwrap()["weight"]
            .as_u64()
            .unwrap()
    };
    assert_eq!((weight_of(&d.blue), weight_of(&d.green)), (700, 300));
    assert_eq!(json["target_groups"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_data_plane_splits_real_requests_by_the_current_weights() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    set_route(
        &emu,
        &d.listener,
        &weighted(&[(&d.blue, 800), (&d.green, 200)]),
    )
    .await;
    // Like ALB nodes, the emulated data plane applies a listener change a few
    // seconds (--propagation-delay, default 3) after ModifyListener returned;
    // this test is about the split once applied, not about the lag.
    emu.wait_propagated();
    let mut v2 = 0;
    for _ in 0..400 {
        let (status, head, _) = http("GET", &format!("{}/", d.listener_url), None, &[]).unwrap();
        assert_eq!(status, 200);
        if head.to_ascii_lowercase().contains("x-app-version: v2") {
            v2 += 1;
        }
    }
    // 20% of 400 is 80; binomial sd is 8, so 50..110 fails only on a real bug.
    assert!((50..=110).contains(&v2), "green got {v2} of 400");
    set_route(&emu, &d.listener, &Forward::single(&d.blue)).await;
    emu.wait_propagated(); // as above: new requests follow the old weights until then
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for _ in 0..20 {
        let (_, head, _) = http("GET", &format!("{}/", d.listener_url), None, &[]).unwrap();
        assert!(
            head.to_ascii_lowercase().contains("x-app-version: v1"),
            "weights changed live"
        );
    }
    // The data plane's own count agrees: nothing reached green since the switch.
    let served = emu.served(Some(since));
    let since_of = |arn: &str| served["target_groups"][arn]["requests_since"].as_u64();
    assert_eq!((since_of(&d.blue), since_of(&d.green)), (Some(20), Some(0)));
}

#[tokio::test]
async fn status_of_a_missing_listener_is_exit_2_naming_it() {
    let emu = Emulator::start();
    let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/nope/1/2";
    let r = emu.run(&["status", "--listener", arn]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(arn), "{}", r.stderr);
}
