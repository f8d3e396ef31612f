//! Postfix's syntax for list-valued parameters, shared by the host (main.cf,
//! master.cf, restriction lists) and the plugins that read the same values
//! from their settings, so both sides cut a value into the same items.
//!
//! Items are separated by commas and/or whitespace; a `{ ... }` group (such
//! as `inline:{ a=b, c=d }`) is one item however many separators it holds,
//! as in Postfix 3.x.

/// The items of a list value: `a, b c` is `[a, b, c]`. An unbalanced brace
/// is kept as text; [`tokenize`] reports it instead.
pub fn split_list(value: &str) -> Vec<String> {
    split(value, |c| c == ',' || c.is_whitespace()).0
}

/// The whitespace-separated words of a value (master.cf fields, where a
/// comma belongs to the word), with `{ ... }` groups kept whole.
pub fn split_words(value: &str) -> Vec<String> {
    split(value, char::is_whitespace).0
}

/// [`split_list`], refusing a value whose braces do not balance, with the
/// value named in the error.
pub fn tokenize(value: &str) -> Result<Vec<String>, String> {
    match split(value, |c| c == ',' || c.is_whitespace()) {
        (items, Balance::Even) => Ok(items),
        (_, Balance::ExtraClose) => Err(format!("unbalanced '}}' in \"{value}\"")),
        (_, Balance::Unclosed) => Err(format!("unbalanced '{{' in \"{value}\"")),
    }
}

enum Balance {
    Even,
    ExtraClose,
    Unclosed,
}

fn split(value: &str, separator: impl Fn(char) -> bool) -> (Vec<String>, Balance) {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut extra_close = false;
    for c in value.chars() {
        match c {
            '{' => {
                depth += 1;
                current.push(c);
            }
            '}' => {
                match depth.checked_sub(1) {
                    Some(d) => depth = d,
                    None => extra_close = true,
                }
                current.push(c);
            }
            c if depth == 0 && separator(c) => {
                if !current.is_empty() {
                    items.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    let balance = if extra_close {
        Balance::ExtraClose
    } else if depth != 0 {
        Balance::Unclosed
    } else {
        Balance::Even
    };
    (items, balance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_whitespace_and_groups() {
        assert_eq!(
            split_list("permit_mynetworks,\n\treject_unauth_destination  check_client_access inline:{ 1.2.3.4=REJECT, 5.6.7.8=OK }"),
            vec![
                "permit_mynetworks",
                "reject_unauth_destination",
                "check_client_access",
                "inline:{ 1.2.3.4=REJECT, 5.6.7.8=OK }",
            ]
        );
        assert!(split_list(" , ,").is_empty());
    }

    #[test]
    fn words_keep_commas() {
        assert_eq!(
            split_words("smtpd -o a=b,c  -o { d = e }"),
            vec!["smtpd", "-o", "a=b,c", "-o", "{ d = e }"]
        );
    }

    #[test]
    fn unbalanced_braces_are_named() {
        assert_eq!(
            tokenize("inline:{ a=b").unwrap_err(),
            "unbalanced '{' in \"inline:{ a=b\""
        );
        assert_eq!(tokenize("a}").unwrap_err(), "unbalanced '}' in \"a}\"");
        assert_eq!(split_list("a}"), vec!["a}"]);
        assert_eq!(tokenize("{a}, b").unwrap(), vec!["{a}", "b"]);
    }
}
