//! Escaping text for the XML writers.

use crate::error::{Error, Position, Result};

/// Escapes text for element content and attribute values. `\r` is written as a character
/// reference so that it survives end-of-line normalization. Characters XML 1.0 cannot hold
/// are an error at `pos`.
pub(crate) fn escape(s: &str, pos: &Position) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                return Err(Error::invalid_value(
                    s,
                    format!("character U+{:04X} cannot be written in XML", c as u32),
                )
                .at(pos));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}
