//! Reads a certificate's `notAfter` from its DER encoding (RFC 5280): a short
//! walk over the TBSCertificate, no full X.509 parse.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One DER element: its tag, its contents and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// The certificate's `notAfter`, or `None` if the DER is not a certificate.
pub(crate) fn not_after(der: &[u8]) -> Option<SystemTime> {
    let (SEQUENCE, cert, _) = element(der)? else {
        return None;
    };
    let (SEQUENCE, mut tbs, _) = element(cert)? else {
        return None;
    };
    if tbs.first() == Some(&VERSION) {
        tbs = element(tbs)?.2;
    }
    // serialNumber, signature, issuer, then validity.
    for _ in 0..3 {
        tbs = element(tbs)?.2;
    }
    let (SEQUENCE, validity, _) = element(tbs)? else {
        return None;
    };
    let (_, _, validity) = element(validity)?;
    let (tag, time, _) = element(validity)?;
    let secs = match tag {
        UTC_TIME => parse_time(time, 2)?,
        GENERALIZED_TIME => parse_time(time, 4)?,
        _ => return None,
    };
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}

/// `YYMMDDHHMMSSZ` (UTCTime, `year_digits` 2) or `YYYYMMDDHHMMSSZ`
/// (GeneralizedTime, 4) as seconds since the Unix epoch.
fn parse_time(text: &[u8], year_digits: usize) -> Option<i64> {
    if text.len() != year_digits + 11 || text.last() != Some(&b'Z') {
        return None;
    }
    let number = |from: usize, len: usize| -> Option<i64> {
        text.get(from..from + len)?
            .iter()
            .try_fold(0i64, |acc, &b| {
                b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
            })
    };
    let mut year = number(0, year_digits)?;
    if year_digits == 2 {
        // RFC 5280 4.1.2.5.1: 50-99 are 19xx, 00-49 are 20xx.
        year += if year >= 50 { 1900 } else { 2000 };
    }
    let y = year_digits;
    let (month, day) = (number(y, 2)?, number(y + 2, 2)?);
    let (hour, minute, second) = (number(y + 4, 2)?, number(y + 6, 2)?, number(y + 8, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_to_unix_seconds() {
        assert_eq!(parse_time(b"700101000000Z", 2), Some(0));
        assert_eq!(parse_time(b"491231235959Z", 2), Some(2_524_607_999));
        assert_eq!(parse_time(b"20380119031408Z", 4), Some(2_147_483_648));
        assert_eq!(parse_time(b"20000229120000Z", 4), Some(951_825_600));
        assert_eq!(parse_time(b"2000022912000Z", 4), None);
        assert_eq!(parse_time(b"20001329120000Z", 4), None);
        assert_eq!(parse_time(b"2000022912000aZ", 4), None);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        for der in [
            &b""[..],
            b"\x30",
            b"\x30\x05abc",
            b"\x30\x82\xff\xff",
            b"\x02\x01\x00",
        ] {
            assert_eq!(not_after(der), None, "{der:?}");
        }
    }
}

#[cfg(test)]
mod rcgen_tests {
    use super::*;

    #[test]
    fn reads_not_after_of_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["x.test".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 3, 4);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let expected = UNIX_EPOCH + Duration::from_secs(1_930_348_800);
        assert_eq!(not_after(cert.der()), Some(expected));
    }
}
