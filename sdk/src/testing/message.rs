//! Builders for the message arguments of hooks: addresses, headers, body chunks.

use crate::{Address, BodyChunk, Header};

/// An address without parameters.
pub fn addr(address: &str) -> Address {
    Address::new(address)
}

/// One header; `value` is what follows the colon (give the leading space).
pub fn header(name: &str, value: &str) -> Header {
    Header::new(name, value.as_bytes().to_vec())
}

/// The headers of a header block as the host passes them: one per logical
/// header, folded continuation lines joined with `\n`. Lines end in `\n` or
/// `\r\n`; the block ends at the first empty line. A line without a colon
/// is skipped (the host never passes one).
pub fn headers(block: &str) -> Vec<Header> {
    let mut out: Vec<Header> = Vec::new();
    for line in block.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.value.push(b'\n');
                last.value.extend_from_slice(line.as_bytes());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            out.push(Header::new(name, value.as_bytes().to_vec()));
        }
    }
    out
}

/// A body chunk starting at `offset` bytes, with these lines (no line endings).
pub fn body(offset: u64, lines: &[&str], last: bool) -> BodyChunk {
    BodyChunk {
        offset,
        lines: lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
        last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_unfolded_with_newlines() {
        let hs = headers("Subject: one\r\n two\r\nFrom: a@b\r\n\r\nbody: not a header\r\n");
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0].name, "Subject");
        assert_eq!(hs[0].value, b" one\n two");
        assert_eq!(hs[1].value_str(), " a@b");
    }
}
