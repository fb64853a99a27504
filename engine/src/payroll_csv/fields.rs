//! One line split into its fields, RFC 4180 without its one ambiguity: fields are separated
//! by commas; a field may be quoted, and inside quotes `""` is one quote and a comma is
//! text; a quoted field ends on its own line. Anything else that looks like a field is
//! refused with what is wrong, rather than read some way the writer did not mean.

use std::borrow::Cow;

/// Why a line could not be split into fields. Field numbers count from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldFault {
    #[error("field {field} opens a quote that is not closed on this line")]
    UnclosedQuote { field: usize },
    #[error("field {field} has text after its closing quote")]
    TextAfterQuote { field: usize },
    #[error(
        "field {field} has a quote inside an unquoted value: put the field in quotes and double the quote (\"\")"
    )]
    BareQuote { field: usize },
}

/// Splits `line` into `fields` (cleared first); the fields borrow the line unless they
/// held a doubled quote.
pub fn split<'a>(line: &'a str, fields: &mut Vec<Cow<'a, str>>) -> Result<(), FieldFault> {
    fields.clear();
    let mut rest = line;
    loop {
        let field = fields.len() + 1;
        if let Some(quoted) = rest.strip_prefix('"') {
            let (value, after) = quoted_field(quoted).ok_or(FieldFault::UnclosedQuote { field })?;
            fields.push(value);
            match after.strip_prefix(',') {
                Some(next) => rest = next,
                None if after.is_empty() => return Ok(()),
                None => return Err(FieldFault::TextAfterQuote { field }),
            }
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let value = &rest[..end];
            if value.contains('"') {
                return Err(FieldFault::BareQuote { field });
            }
            fields.push(Cow::Borrowed(value));
            if end == rest.len() {
                return Ok(());
            }
            rest = &rest[end + 1..];
        }
    }
}

/// The value of a quoted field whose opening quote is already taken, and what follows its
/// closing quote; `None` when the line ends inside the quotes.
fn quoted_field(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let mut value: Option<String> = None;
    let mut start = 0;
    loop {
        let at = start + text[start..].find('"')?;
        if text[at + 1..].starts_with('"') {
            value
                .get_or_insert_with(String::new)
                .push_str(&text[start..=at]);
            start = at + 2;
            continue;
        }
        let value = match value {
            None => Cow::Borrowed(&text[..at]),
            Some(mut owned) => {
                owned.push_str(&text[start..at]);
                Cow::Owned(owned)
            }
        };
        return Some((value, &text[at + 1..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Result<Vec<String>, FieldFault> {
        let mut out = Vec::new();
        split(line, &mut out)?;
        Ok(out.into_iter().map(Cow::into_owned).collect())
    }

    #[test]
    fn commas_separate_and_quotes_protect_commas_and_quotes() {
        assert_eq!(fields("a,b,c").expect("plain"), ["a", "b", "c"]);
        assert_eq!(
            fields("0788123456,\"Uwase, Alice\",\"Bob \"\"B\"\"\",").expect("quoted"),
            ["0788123456", "Uwase, Alice", "Bob \"B\"", ""]
        );
        assert_eq!(fields("").expect("one empty field"), [""]);
        assert_eq!(fields("\"\"").expect("an empty quoted field"), [""]);
        assert_eq!(fields("\"\"\"\"").expect("one quote"), ["\""]);
        assert_eq!(fields(" a , b ").expect("spaces kept"), [" a ", " b "]);
    }

    #[test]
    fn a_quote_left_open_is_refused_with_its_field() {
        assert_eq!(
            fields("0788123456,100,\"Alice,u-1"),
            Err(FieldFault::UnclosedQuote { field: 3 })
        );
        assert_eq!(
            fields("\"a\"\""),
            Err(FieldFault::UnclosedQuote { field: 1 })
        );
    }

    #[test]
    fn stray_quotes_are_refused_rather_than_guessed() {
        assert_eq!(
            fields("a,\"b\"c"),
            Err(FieldFault::TextAfterQuote { field: 2 })
        );
        assert_eq!(
            fields("a,O\"Brien"),
            Err(FieldFault::BareQuote { field: 2 })
        );
        assert_eq!(fields("a, \"b\""), Err(FieldFault::BareQuote { field: 2 }));
    }

    #[test]
    fn fields_borrow_the_line_unless_they_held_a_doubled_quote() {
        let mut out = Vec::new();
        split("a,\"b,c\",\"d\"\"\"", &mut out).expect("valid");
        assert!(matches!(out[0], Cow::Borrowed("a")));
        assert!(matches!(out[1], Cow::Borrowed("b,c")));
        assert!(matches!(&out[2], Cow::Owned(value) if value == "d\""));
    }
}
