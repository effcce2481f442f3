//! Pure planners, one per strategy: from validated input and the live route
//! to the exact sequence of routes a run will write. No I/O.

pub mod canary;
