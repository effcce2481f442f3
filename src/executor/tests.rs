//! Component tests: whole canary runs on the fake load balancer and scripted
//! metrics, under paused time, so a half-hour canary runs in milliseconds.
