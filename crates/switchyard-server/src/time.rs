//! Timestamps in responses.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, RFC 3339 UTC.
pub(crate) fn now_rfc3339() -> String {
    switchyard_sync::status::rfc3339(SystemTime::now())
}

/// An RFC 3339 UTC time with milliseconds, written without allocating: the same text as
/// [`switchyard_sync::status::rfc3339`] (trailing zeros of the fraction dropped, no fraction at
/// a whole second, `Z`).
#[derive(Clone, Copy)]
pub struct Timestamp {
    buf: [u8; 24],
    len: u8,
}

impl Timestamp {
    /// Now.
    pub fn now() -> Self {
        Self::at(SystemTime::now())
    }

    /// The time `t` (before 1970 or after 9999: the epoch).
    pub fn at(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs();
        let secs = if secs >= 253_402_300_800 { 0 } else { secs };
        let (y, m, day) = civil(secs / 86_400);
        let rem = secs % 86_400;
        let mut buf = [0u8; 24];
        let mut put = |at: usize, v: u64, width: usize| {
            let mut v = v;
            for i in (0..width).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, y, 4);
        put(5, m, 2);
        put(8, day, 2);
        put(11, rem / 3600, 2);
        put(14, rem % 3600 / 60, 2);
        put(17, rem % 60, 2);
        let ms = u64::from(d.subsec_millis());
        put(20, ms, 3);
        buf[4] = b'-';
        buf[7] = b'-';
        buf[10] = b'T';
        buf[13] = b':';
        buf[16] = b':';
        let mut len = 19;
        if ms != 0 {
            buf[19] = b'.';
            len = 23;
            while buf[len - 1] == b'0' {
                len -= 1;
            }
        }
        buf[len] = b'Z';
        Timestamp {
            buf,
            len: (len + 1) as u8,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn writes_what_the_sync_status_writes() {
        let mut t = 0u64;
        // every day over four centuries at varying times of day, and whole seconds
        while t < 253_402_300_799_000 {
            let at = UNIX_EPOCH + Duration::from_millis(t);
            assert_eq!(
                Timestamp::at(at).as_str(),
                switchyard_sync::status::rfc3339(at),
                "at {t} ms"
            );
            t += 86_400_000 * 37 + 3_601_010 + (t % 7) * 100;
        }
        for ms in [0, 1, 10, 100, 120, 123, 999] {
            let at = UNIX_EPOCH + Duration::from_millis(1_764_648_000_000 + ms);
            assert_eq!(
                Timestamp::at(at).as_str(),
                switchyard_sync::status::rfc3339(at)
            );
        }
    }
}
