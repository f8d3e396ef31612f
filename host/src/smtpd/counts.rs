//! Per-command counters for the `disconnect from` log line, as Postfix 3.x
//! writes it: `disconnect from name[addr] ehlo=1 mail=2 rcpt=2/3 data=1
//! quit=1 unknown=0/1 commands=7/9`. Each command is `name=ok` when every
//! use succeeded, else `name=ok/total`; log watchers (fail2ban's postfix
//! filters, pflogsumm) read exactly this, e.g. `auth=0/1` for a failed login.

/// Command names in Postfix's table order; `help` is ours (Postfix has no
/// HELP and counts it as unknown), `unknown` stays last as in Postfix.
const NAMES: [&str; 14] = [
    "helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "rset", "noop", "vrfy", "etrn",
    "quit", "help", "unknown",
];

#[derive(Debug, Default, Clone)]
pub struct Counts {
    ok: [u32; NAMES.len()],
    total: [u32; NAMES.len()],
}

impl Counts {
    /// Count one use of `verb` (upper or lower case; anything not in the
    /// table is `unknown`, which never succeeds).
    pub fn record(&mut self, verb: &str, ok: bool) {
        let verb = verb.to_ascii_lowercase();
        let i = NAMES[..NAMES.len() - 1]
            .iter()
            .position(|n| *n == verb)
            .unwrap_or(NAMES.len() - 1);
        self.total[i] += 1;
        if ok && i != NAMES.len() - 1 {
            self.ok[i] += 1;
        }
    }

    /// ` ehlo=1 mail=1 ... commands=5` (leading space included).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let (mut ok, mut total) = (0, 0);
        for (i, name) in NAMES.iter().enumerate() {
            if self.total[i] == 0 {
                continue;
            }
            s.push_str(&format!(" {name}={}", self.ok[i]));
            if self.ok[i] != self.total[i] {
                s.push_str(&format!("/{}", self.total[i]));
            }
            ok += self.ok[i];
            total += self.total[i];
        }
        s.push_str(&format!(" commands={ok}"));
        // Postfix writes `commands=0/0` for a client that said nothing.
        if ok != total || total == 0 {
            s.push_str(&format!("/{total}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_postfix_for_the_same_dialogue() {
        // The dialogue and line from postfix-ref 3.7 (HELP aside, which
        // Postfix counts as unknown).
        let mut c = Counts::default();
        for (v, ok) in [
            ("EHLO", true),
            ("FOO", false),
            ("MAIL", true),
            ("RCPT", false),
            ("RCPT", true),
            ("NOOP", true),
            ("RSET", true),
            ("MAIL", true),
            ("RCPT", true),
            ("DATA", true),
            ("XYZZY", true),
            ("QUIT", true),
        ] {
            c.record(v, ok);
        }
        assert_eq!(
            c.summary(),
            " ehlo=1 mail=2 rcpt=2/3 data=1 rset=1 noop=1 quit=1 unknown=0/2 commands=9/12"
        );
        assert_eq!(Counts::default().summary(), " commands=0/0");
    }
}
