//! CloudWatch ALB metrics provider (being written).
