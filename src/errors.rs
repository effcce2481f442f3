//! Error helpers shared by the adapters.

/// The full cause chain of an error, joined with `: `, since the AWS SDK's
/// and reqwest's top-level messages are often terse ("dispatch failure").
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.join(": ")
}
