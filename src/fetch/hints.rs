//! What a response says about itself: when to ask again (`Cache-Control: max-age`, `Expires`,
//! `Retry-After`; RFC 9111 §5.2.2.1, §5.3; RFC 9110 §10.2.3) and its `charset`.

use std::time::{Duration, SystemTime};

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, DATE, EXPIRES, HeaderMap, RETRY_AFTER};

/// How long the response may be reused, from `Cache-Control: max-age` or else `Expires`.
pub fn freshness(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let cache_control = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let max_age = cache_control
        .flat_map(|v| v.split(','))
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|s| s.trim_matches('"').parse::<u64>().ok());
    if let Some(seconds) = max_age {
        return Some(Duration::from_secs(seconds));
    }
    let expires = http_date(headers, EXPIRES)?;
    // Expires is relative to the server's clock (its Date header), not ours.
    let reference = http_date(headers, DATE).unwrap_or(now);
    Some(expires.duration_since(reference).unwrap_or_default())
}

/// The `charset` parameter of `Content-Type` (RFC 9110 §8.3.1), unquoted.
pub fn charset(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    value.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The media type of the Content-Type, in lower case, without parameters (`text/html`).
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next()?.trim().to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

/// `Retry-After` as seconds or as a date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

fn http_date(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<SystemTime> {
    httpdate::parse_http_date(headers.get(name)?.to_str().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(name.clone(), HeaderValue::from_str(value).expect("valid"));
        }
        h
    }

    #[test]
    fn max_age_wins_over_expires() {
        let h = headers(&[
            (CACHE_CONTROL, "public, max-age=3600"),
            (EXPIRES, "Thu, 01 Jan 2099 00:00:00 GMT"),
        ]);
        assert_eq!(
            freshness(&h, SystemTime::now()),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn expires_counts_from_the_servers_date() {
        let h = headers(&[
            (DATE, "Mon, 01 Jan 2024 00:00:00 GMT"),
            (EXPIRES, "Mon, 01 Jan 2024 02:00:00 GMT"),
        ]);
        assert_eq!(
            freshness(&h, SystemTime::now()),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(freshness(&HeaderMap::new(), SystemTime::now()), None);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = httpdate::parse_http_date("Mon, 01 Jan 2024 00:00:00 GMT").expect("date");
        assert_eq!(
            retry_after(&headers(&[(RETRY_AFTER, "120")]), now),
            Some(Duration::from_secs(120))
        );
        let dated = headers(&[(RETRY_AFTER, "Mon, 01 Jan 2024 01:00:00 GMT")]);
        assert_eq!(retry_after(&dated, now), Some(Duration::from_secs(3600)));
        assert_eq!(retry_after(&headers(&[(RETRY_AFTER, "soon")]), now), None);
    }
}
