//! The headers cleanup adds: Received (always, Postfix's format) and, for
//! clients in `local_header_rewrite_clients`, a missing Message-ID, Date and
//! From.

use crate::stages::Context;
use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// RFC 5322 date in UTC: `Sun, 22 Nov 2026 04:00:00 +0000 (UTC)`.
pub fn rfc5322_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000 (UTC)",
        WD[days.rem_euclid(7) as usize],
        d,
        MO[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `YYYYMMDDhhmmss`, for Message-ID.
pub fn compact_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d) = civil(secs.div_euclid(86400));
    let rem = secs.rem_euclid(86400);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Postfix's Received header:
/// ```text
/// Received: from HELO (NAME [ADDR])
///         by MYHOSTNAME (MAIL_NAME) with ESMTP id QUEUEID
///         for <RCPT>; DATE
/// ```
/// with a TLS comment line when the session was encrypted, an
/// `(Authenticated sender: user)` line when `sasl_header` is on and the
/// client authenticated, and `for` only when there is exactly one
/// recipient. An authenticated ESMTP session is `ESMTPA`/`ESMTPSA`
/// (RFC 3848), as Postfix writes it.
pub fn received(
    ctx: &Context,
    myhostname: &str,
    mail_name: &str,
    queue_id: &str,
    now: SystemTime,
    sasl_header: bool,
) -> String {
    let s = &ctx.session;
    let helo = s.helo_name.clone().unwrap_or_else(|| s.client_name.clone());
    let clean = |x: &str| {
        x.chars()
            .map(|c| {
                if c.is_control() || c == '(' || c == ')' {
                    ' '
                } else {
                    c
                }
            })
            .collect::<String>()
    };
    let mut out = format!(
        "Received: from {} ({} [{}])\r\n",
        clean(&helo),
        clean(&s.client_name),
        s.client_address
    );
    if let Some(t) = &s.tls {
        out.push_str(&format!(
            "\t(using {} with cipher {})\r\n",
            t.protocol, t.cipher
        ));
    }
    if let (true, Some(a)) = (sasl_header, &s.sasl) {
        out.push_str(&format!(
            "\t(Authenticated sender: {})\r\n",
            clean(&a.username)
        ));
    }
    let protocol = match (&s.sasl, s.protocol.as_str()) {
        (Some(_), p) if p.starts_with("ESMTP") => format!("{p}A"),
        (_, p) => p.to_string(),
    };
    out.push_str(&format!(
        "\tby {myhostname} ({mail_name}) with {protocol} id {queue_id}"
    ));
    if ctx.envelope.recipients.len() == 1 {
        out.push_str(&format!(
            "\r\n\tfor <{}>",
            ctx.envelope.recipients[0].address
        ));
    }
    out.push_str(&format!("; {}", rfc5322_date(now)));
    out
}

/// Postfix's Received header for local submission (pickup):
/// ```text
/// Received: by MYHOSTNAME (MAIL_NAME, from userid UID)
///         id QUEUEID; DATE
/// ```
pub fn received_local(
    uid: u32,
    myhostname: &str,
    mail_name: &str,
    queue_id: &str,
    now: SystemTime,
) -> String {
    format!(
        "Received: by {myhostname} ({mail_name}, from userid {uid})\r\n\tid {queue_id}; {}",
        rfc5322_date(now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_320_000);
        assert_eq!(rfc5322_date(t), "Sun, 22 Nov 2026 04:00:00 +0000 (UTC)");
        assert_eq!(compact_date(t), "20261122040000");
        assert_eq!(
            rfc5322_date(UNIX_EPOCH),
            "Thu, 1 Jan 1970 00:00:00 +0000 (UTC)"
        );
    }
}
