//! Delivery status notifications (RFC 3464), Postfix style: a
//! multipart/report with a human part, a message/delivery-status part and
//! the original message's headers (text/rfc822-headers).
//!
//! Who gets one is decided by the queue manager: the sender, never the null
//! sender; a failed bounce goes to the postmaster (double bounce).

use super::RcptResult;
use std::time::{SystemTime, UNIX_EPOCH};

/// Failure (`Action: failed`) or delay warning (`Action: delayed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Failure,
    Delay,
}

/// One recipient line of the report.
#[derive(Debug, Clone)]
pub struct Entry {
    pub recipient: String,
    pub original: String,
    pub result: RcptResult,
}

/// What the report is about.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub kind: Kind,
    pub queue_id: &'a str,
    pub myhostname: &'a str,
    /// The failed message's envelope sender.
    pub sender: &'a str,
    /// Who the report goes to (`To:` header).
    pub to: &'a str,
    pub arrival: SystemTime,
    pub entries: &'a [Entry],
    /// The original message (only its header is quoted).
    pub original: &'a [u8],
}

/// RFC 5322 date in UTC, e.g. `Sun, 22 Nov 2026 04:05:06 +0000`.
pub fn rfc5322_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000",
        WD[days.rem_euclid(7) as usize],
        d,
        MON[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The header section of a message (up to the first empty line), CRLF.
pub fn header_section(msg: &[u8]) -> Vec<u8> {
    let norm = super::wire::crlf_lines(msg);
    match norm.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => norm[..p + 2].to_vec(),
        None => norm,
    }
}

/// Build the whole notification message (header + body, CRLF).
pub fn build(r: &Report<'_>) -> Vec<u8> {
    let now = SystemTime::now();
    let stamp = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let boundary = format!("{}.{}/{}", r.queue_id, stamp, r.myhostname);
    let (subject, action) = match r.kind {
        Kind::Failure => ("Undelivered Mail Returned to Sender", "failed"),
        Kind::Delay => ("Delayed Mail (still being retried)", "delayed"),
    };
    let mut m = String::new();
    m.push_str(&format!(
        "From: MAILER-DAEMON@{} (Mail Delivery System)\r\n",
        r.myhostname
    ));
    m.push_str(&format!("To: {}\r\n", r.to));
    m.push_str(&format!("Subject: {subject}\r\n"));
    m.push_str(&format!("Date: {}\r\n", rfc5322_date(now)));
    m.push_str(&format!(
        "Message-Id: <{}.{}@{}>\r\n",
        stamp, r.queue_id, r.myhostname
    ));
    m.push_str("Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
    m.push_str(&format!(
        "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n"
    ));
    m.push_str(
        "Content-Transfer-Encoding: 8bit\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n",
    );

    m.push_str(&format!("--{boundary}\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"));
    m.push_str(&format!(
        "This is the mail system at host {}.\r\n\r\n",
        r.myhostname
    ));
    match r.kind {
        Kind::Failure => m.push_str(
            "I'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients. It's attached below.\r\n\r\n\
             For further assistance, please send mail to postmaster.\r\n\r\n\
             If you do so, please include this problem report. You can\r\ndelete your own text from the attached returned message.\r\n\r\n\
             \x20                  The mail system\r\n\r\n",
        ),
        Kind::Delay => m.push_str(
            "####################################################################\r\n\
             # THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n\
             ####################################################################\r\n\r\n\
             Your message could not be delivered for some time.\r\nIt will be retried until it is too old.\r\n\r\n\
             \x20                  The mail system\r\n\r\n",
        ),
    }
    for e in r.entries {
        m.push_str(&format!(
            "<{}>: {}\r\n",
            e.recipient,
            one_line(&e.result.reason)
        ));
    }
    m.push_str("\r\n");

    m.push_str(&format!("--{boundary}\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"));
    m.push_str(&format!(
        "Reporting-MTA: dns; {}\r\nX-Postfix-Queue-ID: {}\r\n",
        r.myhostname, r.queue_id
    ));
    m.push_str(&format!(
        "X-Postfix-Sender: rfc822; {}\r\nArrival-Date: {}\r\n",
        r.sender,
        rfc5322_date(r.arrival)
    ));
    for e in r.entries {
        m.push_str(&format!("\r\nFinal-Recipient: rfc822; {}\r\n", e.recipient));
        if !e.original.is_empty() && e.original != e.recipient {
            m.push_str(&format!("Original-Recipient: rfc822;{}\r\n", e.original));
        }
        m.push_str(&format!("Action: {action}\r\nStatus: {}\r\n", e.result.dsn));
        if let Some(host) = e
            .result
            .relay
            .split('[')
            .next()
            .filter(|h| !h.is_empty() && *h != "none" && *h != "local")
        {
            m.push_str(&format!("Remote-MTA: dns; {host}\r\n"));
        }
        match &e.result.remote_reply {
            Some(reply) => m.push_str(&format!("Diagnostic-Code: smtp; {}\r\n", one_line(reply))),
            None => m.push_str(&format!(
                "Diagnostic-Code: X-Postfix; {}\r\n",
                one_line(&e.result.reason)
            )),
        }
    }
    m.push_str("\r\n");

    m.push_str(&format!(
        "--{boundary}\r\nContent-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    ));
    let mut out = m.into_bytes();
    out.extend_from_slice(&header_section(r.original));
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Status;

    #[test]
    fn dates_are_rfc5322() {
        assert_eq!(rfc5322_date(UNIX_EPOCH), "Thu, 1 Jan 1970 00:00:00 +0000");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_320_306);
        assert_eq!(rfc5322_date(t), "Sun, 22 Nov 2026 04:05:06 +0000");
    }

    #[test]
    fn report_has_all_three_parts() {
        let mut res = RcptResult::new(
            Status::Bounced,
            "5.1.1",
            "mx.example.net[192.0.2.1]:25",
            "host said: 550 no",
        );
        res.remote_reply = Some("550 5.1.1 <b@example.net>: User unknown".into());
        let entries = [Entry {
            recipient: "b@example.net".into(),
            original: "B@example.net".into(),
            result: res,
        }];
        let msg = build(&Report {
            kind: Kind::Failure,
            queue_id: "ABC",
            myhostname: "mta.example.org",
            sender: "a@example.org",
            to: "a@example.org",
            arrival: SystemTime::now(),
            entries: &entries,
            original: b"Subject: hello\nFrom: a@example.org\n\nsecret body\n",
        });
        let s = String::from_utf8(msg).unwrap();
        assert!(s.contains("Content-Type: multipart/report; report-type=delivery-status;"));
        assert!(s.contains("Content-Type: message/delivery-status"));
        assert!(s.contains("Final-Recipient: rfc822; b@example.net\r\nOriginal-Recipient: rfc822;B@example.net\r\nAction: failed\r\nStatus: 5.1.1"));
        assert!(s.contains("Diagnostic-Code: smtp; 550 5.1.1 <b@example.net>: User unknown"));
        assert!(s.contains("Remote-MTA: dns; mx.example.net"));
        assert!(s.contains("Subject: hello\r\nFrom: a@example.org\r\n"));
        assert!(!s.contains("secret body"), "only headers are returned");
        assert!(
            !s.contains("\n\n") && !s.replace("\r\n", "").contains('\n'),
            "CRLF only"
        );
    }
}
