//! HTTP probe provider (being written).
