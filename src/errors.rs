//! Error helpers shared by the adapters.

/// The full cause chain of an error, joined with `: `, since the AWS SDK's
/// and reqwest's top-level messages are often terse ("dispatch failure").
/// A cause whose text its parent already shows is left out: hyper and the
/// SDK repeat the OS error at each level ("Connection refused" three times).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = c.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn a_cause_repeated_by_its_parent_is_shown_once() {
        let refused = "Connection refused (os error 111)";
        let e = E(
            "dispatch failure",
            Some(Box::new(E(
                "io error",
                Some(Box::new(E(
                    "tcp connect error: Connection refused (os error 111)",
                    Some(Box::new(E(refused, None))),
                ))),
            ))),
        );
        let text = chain(&e);
        assert_eq!(text.matches("Connection refused").count(), 1, "{text}");
        assert_eq!(
            text,
            "dispatch failure: io error: tcp connect error: Connection refused (os error 111)"
        );
    }
}
