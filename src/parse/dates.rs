//! Dates as feeds really write them. RFC 3339 and RFC 822 first, then the variants seen in
//! the wild: single-digit parts, named zones, slash dates, ISO 8601 without seconds or
//! separators, stray spaces. Anything else is `None`, never a made-up date.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};

/// Parses one date string from a feed.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    DateTime::parse_from_rfc3339(&text)
        .or_else(|_| DateTime::parse_from_rfc2822(&text))
        .ok()
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| numeric_date(&text))
        .or_else(|| named_month_date(&text))
}

/// `2024-01-05T10:00Z`, `2024/1/5 10:00:00 +0100`, `20240105T1000Z`, `2024-01-05`, ….
fn numeric_date(text: &str) -> Option<DateTime<Utc>> {
    let mut c = Cursor::new(text);
    let compact = text.len() >= 8 && text.as_bytes()[..8].iter().all(u8::is_ascii_digit);
    let (year, month, day) = if compact {
        (c.digits(4, 4)?, c.digits(2, 2)?, c.digits(2, 2)?)
    } else {
        let year = c.digits(4, 4)?;
        let sep = c.one_of(b"-/.")?;
        let month = c.digits(1, 2)?;
        c.eat(sep).then_some(())?;
        (year, month, c.digits(1, 2)?)
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    c.skip(b" ");
    if c.done() {
        return Some(date.and_time(NaiveTime::MIN).and_utc());
    }
    c.eat(b'T');
    c.skip(b" ");
    let time = clock(&mut c, compact)?;
    c.skip(b" ");
    let zone = zone(c.rest())?;
    local_to_utc(date.and_time(time), zone)
}

/// `Tue, 5 Jan 2024 9:05 EST`, `5 January 2024 09:05:00 GMT`, `Jan 5, 2024 09:05 PM`, ….
fn named_month_date(text: &str) -> Option<DateTime<Utc>> {
    let tokens: Vec<&str> = text
        .split([' ', ','])
        .filter(|t| !t.is_empty() && !is_weekday(t))
        .collect();
    let month_at = tokens.iter().position(|t| month(t).is_some())?;
    let month = month(tokens[month_at])?;
    let mut numbers = tokens
        .iter()
        .enumerate()
        .filter(|(i, t)| *i != month_at && t.bytes().all(|b| b.is_ascii_digit()))
        .map(|(_, t)| (t.len(), t.parse::<u32>().ok()));
    let (day, year) = match (numbers.next()?, numbers.next()?) {
        ((1..=2, Some(day)), (4, Some(year))) | ((4, Some(year)), (1..=2, Some(day))) => {
            (day, year as i32)
        }
        ((1..=2, Some(day)), (2, Some(year))) => {
            (day, 2000 + year as i32 - 100 * i32::from(year >= 70))
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time_at = tokens.iter().position(|t| t.contains(':'));
    let time = match time_at {
        Some(i) => {
            let mut c = Cursor::new(tokens[i]);
            let time = clock(&mut c, false)?;
            c.done().then_some(())?;
            let meridiem = tokens.get(i + 1).map(|t| t.to_ascii_uppercase());
            match (meridiem.as_deref(), time.hour()) {
                (Some("PM"), 1..=11) => time + chrono::Duration::hours(12),
                (Some("AM"), 12) => time - chrono::Duration::hours(12),
                _ => time,
            }
        }
        None => NaiveTime::MIN,
    };
    let zone_token = tokens
        .iter()
        .skip(time_at.map_or(tokens.len(), |i| i + 1))
        .find(|t| !matches!(t.to_ascii_uppercase().as_str(), "AM" | "PM"));
    let zone = zone_token.map_or(Some(0), |z| zone(z))?;
    local_to_utc(date.and_time(time), zone)
}

/// `H:MM[:SS[.fff]]`, or `HHMM[SS]` in compact dates.
fn clock(c: &mut Cursor, compact: bool) -> Option<NaiveTime> {
    let hour = c.digits(if compact { 2 } else { 1 }, 2)?;
    let colon = c.eat(b':');
    let minute = c.digits(2, 2)?;
    let second = if (colon && c.eat(b':')) || (!colon && c.peek_digit()) {
        c.digits(2, 2)?
    } else {
        0
    };
    if c.eat(b'.') || c.eat(b',') {
        c.digits(1, 9)?;
    }
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// A zone as seconds east of UTC: empty (UTC), `Z`, `+01:00`, `-0500`, `+01`, or a name.
fn zone(text: &str) -> Option<i32> {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    let named = match upper.as_str() {
        "" | "Z" | "UT" | "UTC" | "GMT" | "WET" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" | "AKDT" => -8,
        "AKST" => -9,
        "HST" => -10,
        "CET" | "BST" | "WEST" => 1,
        "CEST" | "EET" => 2,
        "EEST" | "MSK" => 3,
        "JST" | "KST" => 9,
        "AEST" => 10,
        "AEDT" => 11,
        "NZST" => 12,
        "NZDT" => 13,
        _ => return numeric_zone(text),
    };
    Some(named * 3600)
}

fn numeric_zone(text: &str) -> Option<i32> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let mut c = Cursor::new(&text[1..]);
    let hours = c.digits(2, 2)?;
    c.eat(b':');
    let minutes = if c.done() { 0 } else { c.digits(2, 2)? };
    c.done().then_some(())?;
    (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60) as i32)
}

fn local_to_utc(local: NaiveDateTime, offset_seconds: i32) -> Option<DateTime<Utc>> {
    let offset = FixedOffset::east_opt(offset_seconds)?;
    Some(
        offset
            .from_local_datetime(&local)
            .single()?
            .with_timezone(&Utc),
    )
}

fn month(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = token.trim_end_matches('.').to_ascii_lowercase();
    let head = lower.get(..3)?;
    let index = MONTHS.iter().position(|m| *m == head)?;
    // "Sept", "June", "January": a known prefix of the full name, not any word.
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL[index].starts_with(&lower).then_some(index as u32 + 1)
}

fn is_weekday(token: &str) -> bool {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lower = token.trim_end_matches('.').to_ascii_lowercase();
    lower.len() >= 3 && DAYS.iter().any(|d| d.starts_with(&lower))
}

/// A byte cursor for the small grammars above.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.at;
        while self.at - start < max && self.peek_digit() {
            self.at += 1;
        }
        let run = &self.bytes[start..self.at];
        if run.len() < min {
            return None;
        }
        run.iter().try_fold(0u32, |n, b| {
            n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        })
    }

    fn peek_digit(&self) -> bool {
        self.bytes.get(self.at).is_some_and(u8::is_ascii_digit)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(hit);
        hit
    }

    fn one_of(&mut self, set: &[u8]) -> Option<u8> {
        let byte = *self.bytes.get(self.at).filter(|b| set.contains(b))?;
        self.at += 1;
        Some(byte)
    }

    fn skip(&mut self, set: &[u8]) {
        while self.bytes.get(self.at).is_some_and(|b| set.contains(b)) {
            self.at += 1;
        }
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn rest(&self) -> &'a str {
        std::str::from_utf8(&self.bytes[self.at..]).unwrap_or("?")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test date")
            .with_timezone(&Utc)
    }

    #[test]
    fn standard_dates_parse() {
        let at = utc("2024-01-05T09:05:00Z");
        assert_eq!(parse_date("2024-01-05T09:05:00Z"), Some(at));
        assert_eq!(parse_date("Fri, 05 Jan 2024 09:05:00 GMT"), Some(at));
        assert_eq!(parse_date("Fri, 05 Jan 2024 10:05:00 +0100"), Some(at));
    }

    #[test]
    fn variants_seen_in_real_feeds_parse() {
        let at = utc("2024-01-05T09:05:00Z");
        for text in [
            "Fri, 5 Jan 2024 9:05:00 GMT",
            "Fri, 5 Jan 2024 4:05 EST",
            "Friday, 05 January 2024 09:05:00 UTC",
            "05 Jan 2024 10:05:00 CET",
            "Jan 5, 2024 09:05 AM",
            "Jan 5, 2024 9:05:00 AM GMT",
            "5 Jan. 2024 09:05 +0000",
            "2024-01-05T09:05Z",
            "2024-01-05 09:05:00",
            "2024-01-05T10:05:00+01",
            "2024-01-05T10:05:00 +01:00",
            "2024-01-05T10:05:00.123+0100",
            "2024/01/05 09:05",
            "2024/1/5 9:05:00",
            "20240105T0905Z",
            "20240105T090500",
            " 2024-01-05T09:05:00Z ",
            "2024-01-05 T 09:05:00 Z",
        ] {
            assert_eq!(parse_date(text), Some(at), "{text:?}");
        }
        assert_eq!(parse_date("5 Sept 2024"), Some(utc("2024-09-05T00:00:00Z")));
        assert_eq!(parse_date("2024-01-05"), Some(utc("2024-01-05T00:00:00Z")));
        assert_eq!(
            parse_date("Jan 5, 2024 12:30 PM"),
            Some(utc("2024-01-05T12:30:00Z"))
        );
        assert_eq!(
            parse_date("Jan 5, 2024 1:30 pm"),
            Some(utc("2024-01-05T13:30:00Z"))
        );
        assert_eq!(
            parse_date("5 Jan 99 10:00 GMT"),
            Some(utc("1999-01-05T10:00:00Z"))
        );
    }

    #[test]
    fn nonsense_is_no_date() {
        for text in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-02-30T00:00:00Z",
            "Fri, 5 Foo 2024 09:05 GMT",
            "5 Jan 2024 25:00 GMT",
            "5 Jan 2024 10:00 +9999",
            "Mayday 5 2024",
            "12345678901234567890",
        ] {
            assert_eq!(parse_date(text), None, "{text:?}");
        }
    }
}
