//! Typed parameter values: Postfix booleans, times with units, integers.

use std::time::Duration;

/// `yes`/`no` (Postfix also reads `true`/`false`), case-insensitive.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Some(true),
        "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// The unit letter a time default is written with (`5d` -> `d`).
pub fn time_unit(default: &str) -> Option<char> {
    let d = default.trim();
    let unit = d.chars().last()?;
    let digits = &d[..d.len() - unit.len_utf8()];
    (matches!(unit, 's' | 'm' | 'h' | 'd' | 'w')
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit()))
    .then_some(unit)
}

/// A Postfix time value: a number with an optional unit (`ms`, s, m, h, d,
/// w); a bare number takes `default_unit`, as in Postfix.
pub fn parse_time(v: &str, default_unit: char) -> Option<Duration> {
    let v = v.trim();
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    if digits == 0 {
        return None;
    }
    let n: u64 = v[..digits].parse().ok()?;
    let unit = &v[digits..];
    let secs = |mult: u64| n.checked_mul(mult).map(Duration::from_secs);
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "" => parse_time(&format!("{n}{default_unit}"), 's'),
        "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86400),
        "w" => secs(7 * 86400),
        _ => None,
    }
}

/// A plain non-negative integer (sizes, counts).
pub fn parse_u64(v: &str) -> Option<u64> {
    v.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("300s", 's'), Some(Duration::from_secs(300)));
        assert_eq!(parse_time("5d", 's'), Some(Duration::from_secs(5 * 86400)));
        assert_eq!(parse_time("2", 'd'), Some(Duration::from_secs(2 * 86400)));
        assert_eq!(parse_time("1w", 's'), Some(Duration::from_secs(604800)));
        assert_eq!(parse_time("100ms", 's'), Some(Duration::from_millis(100)));
        assert_eq!(parse_time("3x", 's'), None);
        assert_eq!(parse_time("", 's'), None);
        assert_eq!(time_unit("5d"), Some('d'));
        assert_eq!(time_unit("10240000"), None);
        assert_eq!(parse_bool("Yes"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }
}
