//! Reading access logs from S3 without an SDK client (the binary's size):
//! ListObjectsV2 (paged) and GetObject as plain HTTPS GETs, signed with
//! SigV4 (`aws-sigv4`) with the SDK configuration's credentials. The
//! endpoint is `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (path-style
//! addressing, as S3-compatible stores expect), else S3's regional one.
//! Errors name the bucket or key and what to do about them.

use super::keys::{day_prefixes, worth_reading, LogPlace};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use std::io::Read;
use std::time::{Duration, SystemTime};

pub struct S3 {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT` (path-style), or `None`: AWS's own endpoint.
    endpoint: Option<String>,
    region: String,
    credentials: Option<SharedCredentialsProvider>,
}

/// Unreserved characters stay, everything else is `%XX` (SigV4's rule);
/// `/` is kept in keys.
pub fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The text of the first `<tag>` inside `xml`, entities decoded.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(unescape(&xml[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#13;", "\r")
        .replace("&amp;", "&")
}

/// One page of ListObjectsV2: its keys and the next page's token.
pub fn list_page(xml: &str) -> (Vec<String>, Option<String>) {
    let keys = (xml.split("<Contents>").skip(1))
        .filter_map(|c| xml_text(c, "Key"))
        .collect();
    let more = xml_text(xml, "IsTruncated").is_some_and(|t| t == "true");
    (
        keys,
        more.then(|| xml_text(xml, "NextContinuationToken"))
            .flatten(),
    )
}

/// What an S3 error means for the user.
pub fn explain(status: u16, body: &str, bucket: &str, key: Option<&str>) -> String {
    let code = xml_text(body, "Code").unwrap_or_else(|| format!("HTTP {status}"));
    let what = match key {
        Some(k) => format!("s3://{bucket}/{k}"),
        None => format!("s3://{bucket}"),
    };
    let hint = match (code.as_str(), key) {
        ("AccessDenied", None) => format!("allow s3:ListBucket on arn:aws:s3:::{bucket} (`alb-rollout iam-policy --strategy shadow` prints the policy)"),
        ("AccessDenied", Some(k)) => format!("allow s3:GetObject on arn:aws:s3:::{bucket}/{k} (the policy covers PREFIX/AWSLogs/*)"),
        ("NoSuchBucket", _) => "the bucket does not exist: check the load balancer's access_logs.s3.bucket or --access-logs".into(),
        ("PermanentRedirect" | "AuthorizationHeaderMalformed", _) => "the bucket is in another region than the load balancer: ALB writes its logs only to a bucket in its own region".into(),
        _ => xml_text(body, "Message").unwrap_or_else(|| "S3 refused the request".into()),
    };
    format!("{what}: {code}: {hint}")
}

impl S3 {
    pub fn new(config: &aws_config::SdkConfig, region: &str) -> S3 {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let endpoint = (env("AWS_ENDPOINT_URL_S3"))
            .or_else(|| config.endpoint_url().map(str::to_string))
            .map(|e| e.trim_end_matches('/').to_string());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        S3 {
            http,
            endpoint,
            region: region.to_string(),
            credentials: config.credentials_provider(),
        }
    }

    /// Path-style on a given endpoint; virtual-hosted on AWS (a bucket
    /// name with dots stays path-style: its TLS name would not match).
    fn url(&self, bucket: &str, key: &str, query: &str) -> String {
        let key = encode(key, true);
        let base = match &self.endpoint {
            Some(e) => format!("{e}/{bucket}/{key}"),
            None if bucket.contains('.') => {
                format!("https://s3.{}.amazonaws.com/{bucket}/{key}", self.region)
            }
            None => format!("https://{bucket}.s3.{}.amazonaws.com/{key}", self.region),
        };
        match query.is_empty() {
            true => base,
            false => format!("{base}?{query}"),
        }
    }

    async fn get(&self, url: &str) -> Result<(u16, Vec<u8>), String> {
        let provider = (self.credentials.as_ref())
            .ok_or("no AWS credentials are configured to read the access logs")?;
        let creds = (provider.provide_credentials().await)
            .map_err(|e| format!("the AWS credentials could not be loaded: {e}"))?;
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let identity = creds.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| format!("could not sign the S3 request: {e}"))?
            .into();
        let req = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::Bytes(&[]))
            .map_err(|e| format!("could not sign the S3 request: {e}"))?;
        let (instructions, _) = (sign(req, &params))
            .map_err(|e| format!("could not sign the S3 request: {e}"))?
            .into_parts();
        let mut rb = self.http.get(url);
        for (k, v) in instructions.headers() {
            rb = rb.header(k, v);
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| crate::redact::text(&e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, body.to_vec()))
    }

    /// Every key under `prefix`, page by page.
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        let (mut keys, mut token) = (vec![], None::<String>);
        loop {
            let mut q = format!("list-type=2&prefix={}", encode(prefix, false));
            if let Some(t) = &token {
                q = format!("continuation-token={}&{q}", encode(t, false));
            }
            let url = self.url(bucket, "", &q);
            let (status, body) = (self.get(&url).await)
                .map_err(|e| format!("s3://{bucket}: ListObjectsV2 failed: {e}"))?;
            let text = String::from_utf8_lossy(&body);
            if status != 200 {
                return Err(explain(status, &text, bucket, None));
            }
            let (page, next) = list_page(&text);
            keys.extend(page);
            match next {
                Some(t) => token = Some(t),
                None => return Ok(keys),
            }
        }
    }

    /// One object, gunzipped (AWS's objects may hold several gzip members).
    pub async fn object_text(&self, bucket: &str, key: &str) -> Result<String, String> {
        let (status, body) = (self.get(&self.url(bucket, key, "")).await)
            .map_err(|e| format!("s3://{bucket}/{key}: GetObject failed: {e}"))?;
        if status != 200 {
            return Err(explain(
                status,
                &String::from_utf8_lossy(&body),
                bucket,
                Some(key),
            ));
        }
        let mut text = String::new();
        let mut raw = Vec::new();
        flate2::read::MultiGzDecoder::new(body.as_slice())
            .read_to_end(&mut raw)
            .map_err(|e| format!("s3://{bucket}/{key}: not a gzip access log: {e}"))?;
        text.push_str(&String::from_utf8_lossy(&raw));
        Ok(text)
    }
}

/// The access logs of one load balancer in one bucket.
pub struct S3Logs {
    pub s3: S3,
    pub bucket: String,
    pub place: LogPlace,
}

#[async_trait::async_trait]
impl super::LogSource for S3Logs {
    async fn read(&self, since: SystemTime, until: SystemTime) -> Result<super::LogRead, String> {
        let mut read = super::LogRead::default();
        for prefix in day_prefixes(&self.place, since, until) {
            for key in self.s3.list(&self.bucket, &prefix).await? {
                if !worth_reading(&key, since) {
                    continue;
                }
                let text = self.s3.object_text(&self.bucket, &key).await?;
                read.objects += 1;
                read.lines.extend(text.lines().map(str::to_string));
            }
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pages_and_their_tokens() {
        let xml = "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a/b&amp;c.log.gz</Key><Size>3</Size></Contents><Contents><Key>a/d</Key></Contents><NextContinuationToken>t+1/=</NextContinuationToken></ListBucketResult>";
        let (keys, next) = list_page(xml);
        assert_eq!(keys, vec!["a/b&c.log.gz".to_string(), "a/d".into()]);
        assert_eq!(next.as_deref(), Some("t+1/="));
        let last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
        assert_eq!(list_page(last), (vec![], None));
    }

    #[test]
    fn errors_say_what_to_do() {
        let body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        let e = explain(403, body, "logs", None);
        assert!(
            e.contains("s3://logs") && e.contains("s3:ListBucket on arn:aws:s3:::logs"),
            "{e}"
        );
        let e = explain(403, body, "logs", Some("p/AWSLogs/x.log.gz"));
        assert!(
            e.contains("s3:GetObject on arn:aws:s3:::logs/p/AWSLogs/x.log.gz"),
            "{e}"
        );
        let e = explain(
            404,
            "<Error><Code>NoSuchBucket</Code></Error>",
            "nope",
            None,
        );
        assert!(e.contains("does not exist"), "{e}");
        assert!(explain(500, "", "b", None).contains("HTTP 500"));
    }

    #[test]
    fn encoding_is_sigv4s() {
        assert_eq!(encode("a b/c+d=~", false), "a%20b%2Fc%2Bd%3D~");
        assert_eq!(encode("p/AWSLogs/1_x", true), "p/AWSLogs/1_x");
    }
}
