//! Table tests for masking secrets in URLs and in text around them.

use super::*;

#[test]
fn url_table() {
    let cases = [
        (
            "userinfo",
            "http://user:pa55@127.0.0.1:9090/x",
            "http://***@127.0.0.1:9090/x",
        ),
        (
            "user only (a token as user)",
            "https://ghp_tok@127.0.0.1/",
            "https://***@127.0.0.1/",
        ),
        (
            "query token",
            "http://127.0.0.1/h?token=s3cr3t",
            "http://127.0.0.1/h?token=***",
        ),
        (
            "every value, names kept",
            "http://127.0.0.1/h?a=1&api_key=k&X-Amz-Signature=abc&empty=",
            "http://127.0.0.1/h?a=***&api_key=***&X-Amz-Signature=***&empty=",
        ),
        (
            "bare item",
            "http://127.0.0.1/h?SECRET",
            "http://127.0.0.1/h?***",
        ),
        (
            "percent-encoded name and userinfo",
            "http://us%40er:p%3Ass@127.0.0.1/h?t%6Fken=s%65cret",
            "http://***@127.0.0.1/h?t%6Fken=***",
        ),
        (
            "fragment",
            "http://127.0.0.1/cb#access_token=x",
            "http://127.0.0.1/cb#***",
        ),
        (
            "IPv6 host",
            "http://u:p@[::1]:8080/h?sig=zz",
            "http://***@[::1]:8080/h?sig=***",
        ),
        (
            "IPv6 no userinfo",
            "http://[::1]:8080/",
            "http://[::1]:8080/",
        ),
        (
            "no scheme",
            "user:pw@127.0.0.1:9090/x?key=v",
            "***@127.0.0.1:9090/x?key=***",
        ),
        ("no scheme, no secret", "127.0.0.1:9090", "127.0.0.1:9090"),
        (
            "@ in the path is not userinfo",
            "http://127.0.0.1/@me",
            "http://127.0.0.1/@me",
        ),
        (
            "raw @ in password",
            "http://u:p@ss@127.0.0.1/",
            "http://***@127.0.0.1/",
        ),
        (
            "raw / in password",
            "http://u:pa/ss@127.0.0.1/h",
            "http://***@127.0.0.1/h",
        ),
        (
            "raw # in password",
            "http://u:pa#ss@127.0.0.1/h",
            "http://***@127.0.0.1/h",
        ),
        (
            "probe spec status kept out of query",
            "http://127.0.0.1/h=200",
            "http://127.0.0.1/h=200",
        ),
        ("empty", "", ""),
    ];
    for (name, input, want) in cases {
        assert_eq!(url(input), want, "{name}");
        assert_eq!(url(want), want, "{name}: masking is idempotent");
    }
}

#[test]
fn malformed_input_never_panics_and_never_leaks() {
    let inputs = [
        "http://",
        "://",
        "://@",
        "@",
        "?",
        "#",
        "[",
        "http://[",
        "http://[::1",
        "http://u:p@",
        "a://b://c@d",
        "\u{e9}://\u{e9}@\u{e9}?\u{e9}=\u{e9}",
        "http://h?=&&=",
        "::::@@@??##",
        "http://u:p\u{e9}ss@h",
    ];
    for s in inputs {
        let _ = url(s);
        let _ = text(s);
    }
    assert!(!url("http://u:p\u{e9}ss@h").contains("ss"));
}

#[test]
fn text_masks_every_url_inside_it() {
    let reqwest_error = "error sending request for url (http://127.0.0.1:1/api/v1/query?query=up&token=s3cr3t): client error (Connect)";
    assert_eq!(
        text(reqwest_error),
        "error sending request for url (http://127.0.0.1:1/api/v1/query?query=***&token=***): client error (Connect)"
    );
    assert_eq!(
        text("GET 'https://u:pw@127.0.0.1/h?k=v' failed; also http://127.0.0.1/ok."),
        "GET 'https://***@127.0.0.1/h?k=***' failed; also http://127.0.0.1/ok."
    );
    assert_eq!(
        text("a value (x) then http://127.0.0.1/h?sig=a)b)"),
        "a value (x) then http://127.0.0.1/h?sig=***)"
    );
    assert_eq!(text("no url here: a://"), "no url here: a://");
    assert_eq!(text("odd :// alone"), "odd :// alone");
    assert_eq!(text("caf\u{e9}://x@y"), "caf\u{e9}://***@y");
}

#[test]
fn the_log_writer_masks_what_passes_through() {
    use std::io::Write;
    let mut w = MaskingWriter(Vec::new());
    writeln!(
        w,
        "\x1b[33mWARN\x1b[0m GET http://127.0.0.1/h?token=tok-123\x1b[0m done"
    )
    .unwrap();
    let out = String::from_utf8(w.0).unwrap();
    assert_eq!(
        out,
        "\x1b[33mWARN\x1b[0m GET http://127.0.0.1/h?token=***\x1b[0m done\n"
    );
}

#[test]
fn a_registered_secret_is_masked_in_text_wherever_it_appears() {
    register("oidc-Secret-value-9");
    register("ab"); // too short to mask safely: ignored
    let shown = text("CreateRule failed: ClientSecret=oidc-Secret-value-9 (about ab)");
    assert_eq!(shown, "CreateRule failed: ClientSecret=*** (about ab)");
}
