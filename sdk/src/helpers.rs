//! Typed helpers on the generated types: what a filter asks of an address,
//! a header, its configuration and its description.

use std::borrow::Cow;

use crate::{Address, Capability, Config, Description, EsmtpParam, Header, Stage, TableSource};

impl Address {
    /// An address without ESMTP parameters.
    pub fn new(address: impl Into<String>) -> Address {
        Address {
            address: address.into(),
            params: Vec::new(),
        }
    }

    /// Whether this is the null sender `<>`.
    pub fn is_null(&self) -> bool {
        self.address.is_empty()
    }

    /// The local part and the domain, split at the last `@` outside a quoted
    /// local part (`"a@b"@example.com` has local part `"a@b"`). An address
    /// without a domain (e.g. `postmaster`) has `None`.
    pub fn split(&self) -> (&str, Option<&str>) {
        match domain_separator(&self.address) {
            Some(at) => (&self.address[..at], Some(&self.address[at + 1..])),
            None => (&self.address, None),
        }
    }

    /// The local part, quotes kept as sent.
    pub fn local_part(&self) -> &str {
        self.split().0
    }

    /// The domain, as sent (compare it case-insensitively).
    pub fn domain(&self) -> Option<&str> {
        self.split().1
    }

    /// The value of an ESMTP parameter (keyword matched case-insensitively);
    /// `Some(None)` for a parameter given without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_deref())
    }
}

/// The index of the `@` that separates local part and domain: the last one
/// outside double quotes, honouring backslash escapes inside them.
fn domain_separator(address: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    let mut last = None;
    for (i, c) in address.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '@' if !quoted => last = Some(i),
            _ => {}
        }
    }
    last
}

impl EsmtpParam {
    /// A parameter such as `SIZE=1024` (`value` `None` for e.g. `SMTPUTF8`).
    pub fn new(name: impl Into<String>, value: Option<&str>) -> EsmtpParam {
        EsmtpParam {
            name: name.into(),
            value: value.map(str::to_string),
        }
    }
}

impl Header {
    /// A header; `value` is what follows the colon, leading space included.
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    /// Whether the header has this name, compared case-insensitively as
    /// RFC 5322 requires.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value as text, invalid UTF-8 replaced by U+FFFD, leading and
    /// trailing whitespace kept (it is part of what was sent).
    pub fn value_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.value)
    }

    /// The value with folding undone and surrounding whitespace removed:
    /// what a human reads.
    pub fn value_unfolded(&self) -> String {
        self.value_str().replace('\n', "").trim().to_string()
    }

    /// The header as one logical line, `Name: value`, as header_checks(5)
    /// patterns see it (folding line breaks kept as `\n`).
    pub fn line(&self) -> String {
        format!("{}:{}", self.name, self.value_str())
    }
}

impl Config {
    /// An empty configuration, to build on in tests.
    pub fn empty() -> Config {
        Config {
            settings: Vec::new(),
            tables: Vec::new(),
        }
    }

    /// Add a setting (it wins over earlier ones of the same name).
    pub fn with_setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Config {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Add a table with the text of its file (pattern tables) or `None`
    /// (indexed tables, queried through [`crate::lookup`]).
    pub fn with_table(mut self, name: impl Into<String>, source: Option<&str>) -> Config {
        self.tables.push(TableSource {
            name: name.into(),
            source: source.map(str::to_string),
        });
        self
    }

    /// The value of a setting. The host lists main.cf parameters first and
    /// the sidecar's settings after them, so the last one of a name wins.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A setting or a default when it is absent.
    pub fn setting_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.setting(name).unwrap_or(default)
    }

    /// A setting parsed into `T`; `Ok(None)` when absent, an error naming
    /// the setting and the value when it does not parse.
    pub fn parse_setting<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.setting(name) {
            None => Ok(None),
            Some(raw) => raw
                .trim()
                .parse()
                .map(Some)
                .map_err(|e| format!("{name} = {raw}: {e}")),
        }
    }

    /// A Postfix time setting (`300`, `300s`, `5m`, `2h`, `35d`, `1w`) in
    /// seconds; `Ok(None)` when absent. A bare number is in seconds.
    pub fn time_setting(&self, name: &str) -> Result<Option<u64>, String> {
        match self.setting(name) {
            None => Ok(None),
            Some(raw) => parse_time(raw)
                .map(Some)
                .map_err(|e| format!("{name} = {raw}: {e}")),
        }
    }

    /// The configured table of this name.
    pub fn table(&self, name: &str) -> Option<&TableSource> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The text of a configured pattern table (regexp, pcre), as the host
    /// read it; `None` when the table is not configured or is indexed.
    pub fn table_source(&self, name: &str) -> Option<&str> {
        self.table(name).and_then(|t| t.source.as_deref())
    }
}

/// Parse a Postfix time value: digits with an optional unit s, m, h, d or w.
fn parse_time(raw: &str) -> Result<u64, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| "expected a number with an optional unit s, m, h, d or w".to_string())?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => return Err(format!("unknown time unit `{other}` (use s, m, h, d or w)")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| "time value too large".to_string())
}

impl Description {
    /// A description hooking no stage and wanting no capability yet.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Description {
        Description {
            name: name.into(),
            version: version.into(),
            stages: Vec::new(),
            capabilities: Vec::new(),
            parameters: Vec::new(),
            body_limit: None,
        }
    }

    /// The stages whose hooks the host should call.
    pub fn stages(mut self, stages: impl IntoIterator<Item = Stage>) -> Description {
        self.stages.extend(stages);
        self
    }

    /// The capabilities the plugin uses; each must be granted.
    pub fn capabilities(
        mut self,
        capabilities: impl IntoIterator<Item = Capability>,
    ) -> Description {
        self.capabilities.extend(capabilities);
        self
    }

    /// main.cf parameters whose values `init` should receive.
    pub fn parameters<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Description {
        self.parameters.extend(names.into_iter().map(Into::into));
        self
    }

    /// The most body bytes the plugin wants to see.
    pub fn body_limit(mut self, bytes: u64) -> Description {
        self.body_limit = Some(bytes);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_plain_address() {
        let a = Address::new("User@Example.COM");
        assert_eq!(a.split(), ("User", Some("Example.COM")));
    }

    #[test]
    fn split_keeps_at_inside_quotes() {
        let a = Address::new("\"a@b\"@example.com");
        assert_eq!(a.local_part(), "\"a@b\"");
        assert_eq!(a.domain(), Some("example.com"));
        let quoted_only = Address::new("\"x@y\"");
        assert_eq!(quoted_only.domain(), None);
        let escaped = Address::new("\"a\\\"@b\"@d.example");
        assert_eq!(escaped.domain(), Some("d.example"));
    }

    #[test]
    fn split_without_domain_and_null_sender() {
        assert_eq!(Address::new("postmaster").split(), ("postmaster", None));
        assert!(Address::new("").is_null());
        assert_eq!(Address::new("").domain(), None);
    }

    #[test]
    fn param_lookup_is_case_insensitive() {
        let mut a = Address::new("a@b");
        a.params.push(EsmtpParam::new("SIZE", Some("10")));
        a.params.push(EsmtpParam::new("SMTPUTF8", None));
        assert_eq!(a.param("size"), Some(Some("10")));
        assert_eq!(a.param("smtputf8"), Some(None));
        assert_eq!(a.param("body"), None);
    }

    #[test]
    fn header_helpers() {
        let h = Header::new("SUBJECT", b" hello\n\tw\xffrld".to_vec());
        assert!(h.is("subject"));
        assert!(!h.is("subjec"));
        assert_eq!(h.value_str(), " hello\n\tw\u{fffd}rld");
        assert_eq!(h.value_unfolded(), "hello\tw\u{fffd}rld");
        assert_eq!(h.line(), "SUBJECT: hello\n\tw\u{fffd}rld");
    }

    #[test]
    fn later_settings_win() {
        let c = Config::empty()
            .with_setting("a", "main.cf")
            .with_setting("a", "sidecar");
        assert_eq!(c.setting("a"), Some("sidecar"));
        assert_eq!(c.setting("b"), None);
        assert_eq!(c.setting_or("b", "dflt"), "dflt");
    }

    #[test]
    fn parse_and_time_settings() {
        let c = Config::empty()
            .with_setting("n", "42")
            .with_setting("bad", "x")
            .with_setting("t", "35d")
            .with_setting("u", "5y");
        assert_eq!(c.parse_setting::<u32>("n"), Ok(Some(42)));
        assert!(c
            .parse_setting::<u32>("bad")
            .unwrap_err()
            .contains("bad = x"));
        assert_eq!(c.time_setting("t"), Ok(Some(35 * 86_400)));
        assert!(c
            .time_setting("u")
            .unwrap_err()
            .contains("unknown time unit"));
        assert_eq!(c.time_setting("missing"), Ok(None));
        assert_eq!(parse_time("300"), Ok(300));
        assert_eq!(parse_time("2h"), Ok(7200));
    }

    #[test]
    fn table_source_only_for_pattern_tables() {
        let c = Config::empty()
            .with_table(
                "regexp:/etc/postfix/header_checks",
                Some("/^X-Spam/ REJECT\n"),
            )
            .with_table("hash:/etc/postfix/access", None);
        assert_eq!(
            c.table_source("regexp:/etc/postfix/header_checks"),
            Some("/^X-Spam/ REJECT\n")
        );
        assert_eq!(c.table_source("hash:/etc/postfix/access"), None);
        assert!(c.table("hash:/etc/postfix/access").is_some());
        assert!(c.table("cidr:/x").is_none());
    }

    #[test]
    fn description_builder() {
        let d = Description::new("x", "1")
            .stages([Stage::Rcpt, Stage::Headers])
            .capabilities([Capability::Kv])
            .parameters(["myhostname"])
            .body_limit(1024);
        assert_eq!(d.stages, vec![Stage::Rcpt, Stage::Headers]);
        assert_eq!(d.capabilities, vec![Capability::Kv]);
        assert_eq!(d.parameters, vec!["myhostname".to_string()]);
        assert_eq!(d.body_limit, Some(1024));
    }
}
