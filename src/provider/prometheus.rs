//! Prometheus instant-query provider (being written).
