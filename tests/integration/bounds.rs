//! Bounds the tool enforces before it changes anything: a listener of a
//! load balancer that is not an ALB is refused (exit 2, zero mutating calls).

use crate::support::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{Action, ActionTypeEnum, LoadBalancerTypeEnum, ProtocolEnum};

/// An NLB in the demo's subnets with a TCP listener forwarding to a TCP
/// group: (listener ARN, group ARN).
async fn network_listener(emu: &Emulator, d: &Demo) -> (String, String) {
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let alb = client
        .describe_load_balancers()
        .load_balancer_arns(&d.load_balancer)
        .send()
        .await
        .expect("describe demo lb");
    let alb = &alb.load_balancers()[0];
    let subnets: Vec<String> = (alb.availability_zones().iter())
        .filter_map(|z| z.subnet_id().map(str::to_string))
        .collect();
    let nlb = client
        .create_load_balancer()
        .name("tcp-front")
        .r#type(LoadBalancerTypeEnum::Network)
        .set_subnets(Some(subnets))
        .send()
        .await
        .expect("create nlb");
    let nlb = &nlb.load_balancers()[0];
    assert_eq!(
        nlb.r#type(),
        Some(&LoadBalancerTypeEnum::Network),
        "the emulator returns the Type as AWS does"
    );
    let tg = client
        .create_target_group()
        .name("tcp-blue")
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .vpc_id(alb.vpc_id().unwrap_or_default())
        .send()
        .await
        .expect("create tcp group");
    let tg_arn = tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(&tg_arn)
        .build();
    let listener = client
        .create_listener()
        .load_balancer_arn(nlb.load_balancer_arn().unwrap())
        .protocol(ProtocolEnum::Tcp)
        .port(9000)
        .default_actions(forward)
        .send()
        .await
        .expect("create tcp listener");
    let arn = listener.listeners()[0].listener_arn().unwrap().to_string();
    (arn, tg_arn)
}

#[tokio::test]
async fn a_network_load_balancer_listener_is_refused_with_no_change() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let (listener, blue) = network_listener(&emu, &d).await;
    emu.clear_calls();
    let r = emu.run(&[
        "canary",
        "--listener",
        &listener,
        "--blue",
        &blue,
        "--green",
        "demo-green",
        "--steps",
        "10,100",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&listener)
            && r.stderr.contains("Network Load Balancer (tcp-front)")
            && r.stderr.contains("Application Load Balancer"),
        "{}",
        r.stderr
    );
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}
