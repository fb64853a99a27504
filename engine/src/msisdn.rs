//! MSISDNs: mobile numbers as E.164 digits without '+', validated with `phonenumber` so that
//! a payout is never sent to a fixed line, a short code or a malformed number.

use std::fmt;

use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber, Type as NumberType};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

mod rwanda;

/// The region a number without a country code is read in (e.g. `Region::RW` for "0788…").
pub use phonenumber::country::Id as Region;

/// Digits an input may hold before we refuse it without asking `phonenumber`: E.164 allows
/// 15, plus room for a national trunk prefix and an international call prefix.
pub const MSISDN_INPUT_DIGITS_MAX: usize = 20;

/// Digits of a stored E.164 number: the country code is at least 1 digit and the whole
/// number at most 15 (ITU-T E.164); the shortest valid mobile numbers have 7.
const E164_DIGITS_MIN: usize = 7;
const E164_DIGITS_MAX: usize = 15;

/// Why a text is not a mobile number we can pay. Messages never repeat the number, so the
/// error can be logged.
#[derive(Debug, thiserror::Error)]
pub enum MsisdnError {
    #[error("the phone number is empty")]
    Empty,
    #[error(
        "the phone number contains {character:?}: only digits, spaces, '-' and a leading '+' are allowed"
    )]
    InvalidCharacter { character: char },
    #[error("the phone number has more than {max} digits", max = MSISDN_INPUT_DIGITS_MAX)]
    TooLong,
    #[error("the phone number cannot be read: {0}")]
    Unreadable(#[source] phonenumber::ParseError),
    #[error("the phone number is not a valid number")]
    Invalid,
    #[error("the phone number is not a mobile number (it looks like {kind:?})")]
    NotMobile { kind: NumberType },
}

/// A valid mobile number in E.164 form without the '+': "250788123456".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Msisdn(String);

impl Msisdn {
    /// Reads a number as people write it: "+250788123456", "250788123456", or the national
    /// form "0788123456" read in `default_region`; spaces and dashes inside are ignored.
    ///
    /// Digits without '+' are first read as a national number of `default_region`
    /// (`phonenumber` itself recognises a leading country code of that region, so
    /// "250788123456" works with RW); if that does not give a mobile number they are read as
    /// international, which is how MTN's sandbox number "46733123450" (Swedish mobile) is
    /// accepted with region RW.
    ///
    /// Rwandan mobile numbers, nearly every line of a payroll, are decided without
    /// `phonenumber` (module `rwanda`), with the same result and a fraction of the time.
    pub fn parse(input: &str, default_region: Region) -> Result<Msisdn, MsisdnError> {
        let compact = compact(input)?;
        match rwanda::mobile(&compact, default_region) {
            Some(msisdn) => Ok(msisdn),
            None => read_compact(&compact, default_region),
        }
    }

    /// Reads E.164 digits without '+' (as stored, or as an operator sends them back),
    /// validating them as a mobile number.
    pub fn from_e164(digits: &str) -> Result<Msisdn, MsisdnError> {
        if let Some(character) = digits.chars().find(|character| !character.is_ascii_digit()) {
            return Err(MsisdnError::InvalidCharacter { character });
        }
        if digits.is_empty() {
            return Err(MsisdnError::Empty);
        }
        match rwanda::mobile_e164(digits) {
            Some(msisdn) => Ok(msisdn),
            None => read(None, &format!("+{digits}")),
        }
    }

    /// The E.164 digits without '+'.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number for logs: the first 6 and last 2 digits, the rest as '*' ("250788****56").
    /// Numbers shorter than 12 digits show fewer leading digits so that at least 4 stay hidden.
    #[must_use]
    pub fn masked(&self) -> String {
        const SHOWN_PREFIX_MAX: usize = 6;
        const SHOWN_SUFFIX: usize = 2;
        const HIDDEN_MIN: usize = 4;
        let length = self.0.len();
        let prefix = SHOWN_PREFIX_MAX.min(length.saturating_sub(SHOWN_SUFFIX + HIDDEN_MIN));
        let suffix = SHOWN_SUFFIX.min(length - prefix);
        let hidden = length - prefix - suffix;
        // The number is ASCII digits only, so byte offsets are character offsets.
        format!(
            "{}{}{}",
            &self.0[..prefix],
            "*".repeat(hidden),
            &self.0[length - suffix..]
        )
    }
}

/// Drops spaces and dashes and refuses everything but digits and one leading '+'.
fn compact(input: &str) -> Result<String, MsisdnError> {
    let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if let Some(character) = digits.chars().find(|character| !character.is_ascii_digit()) {
        return Err(MsisdnError::InvalidCharacter { character });
    }
    if digits.is_empty() {
        return Err(MsisdnError::Empty);
    }
    if digits.len() > MSISDN_INPUT_DIGITS_MAX {
        return Err(MsisdnError::TooLong);
    }
    Ok(compact)
}

/// `parse` after compaction, all by `phonenumber`: an international number as it is, other
/// digits as a national number of `default_region`, then as international.
fn read_compact(compact: &str, default_region: Region) -> Result<Msisdn, MsisdnError> {
    if compact.starts_with('+') {
        return read(None, compact);
    }
    read(Some(default_region), compact)
        .or_else(|national_error| read(None, &format!("+{compact}")).map_err(|_| national_error))
}

/// Parses with `phonenumber` and keeps only valid mobile numbers. The number's type is
/// what `phonenumber::is_valid` computes too (valid means "of a known type"), so it is
/// computed once: on a payroll of a million lines that halves the time spent here.
fn read(region: Option<Region>, text: &str) -> Result<Msisdn, MsisdnError> {
    let number = phonenumber::parse(region, text).map_err(MsisdnError::Unreadable)?;
    match number.number_type(&DATABASE) {
        NumberType::Unknown => Err(MsisdnError::Invalid),
        // Where the numbering plan cannot tell mobiles from fixed lines (NANPA: the US,
        // Canada) we accept the number: refusing would refuse every mobile there too.
        NumberType::Mobile | NumberType::FixedLineOrMobile => Ok(Msisdn(e164_digits(&number))),
        kind => Err(MsisdnError::NotMobile { kind }),
    }
}

fn e164_digits(number: &PhoneNumber) -> String {
    let e164 = number.format().mode(Mode::E164).to_string();
    e164.trim_start_matches('+').to_owned()
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Msisdn {
    /// Serialized numbers are E.164 digits, so they are read with `from_e164`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let digits = String::deserialize(deserializer)?;
        Msisdn::from_e164(&digits).map_err(serde::de::Error::custom)
    }
}

impl ToSql for Msisdn {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.as_str().to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Msisdn {
    /// Only numbers that passed `parse` are stored, so reading checks the shape (digits, E.164
    /// length) rather than running `phonenumber` again on every row of a large batch.
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let digits = <&str as FromSql>::from_sql(ty, raw)?;
        let well_formed = (E164_DIGITS_MIN..=E164_DIGITS_MAX).contains(&digits.len())
            && digits.bytes().all(|digit| digit.is_ascii_digit());
        if !well_formed {
            return Err("stored MSISDN is not 7 to 15 digits".into());
        }
        Ok(Msisdn(digits.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(input: &str) -> Result<String, MsisdnError> {
        Msisdn::parse(input, Region::RW).map(|msisdn| msisdn.as_str().to_owned())
    }

    #[test]
    fn international_plain_and_national_forms_give_the_same_msisdn() {
        for input in ["+250788123456", "250788123456", "0788123456", "788123456"] {
            assert_eq!(rw(input).expect(input), "250788123456", "{input}");
        }
    }

    #[test]
    fn spaces_and_dashes_inside_are_ignored() {
        for input in [
            "+250 788 123 456",
            "0788-123-456",
            " 0788 123456 ",
            "250-788-123-456",
        ] {
            assert_eq!(rw(input).expect(input), "250788123456", "{input}");
        }
    }

    #[test]
    fn airtel_rwanda_numbers_are_mobile() {
        assert_eq!(rw("0722123456").expect("airtel"), "250722123456");
        assert_eq!(rw("+250730123456").expect("airtel"), "250730123456");
    }

    #[test]
    fn mtn_sandbox_number_is_a_swedish_mobile_with_or_without_plus() {
        // Read as a Rwandan national number it is invalid; read as international it is +46.
        assert_eq!(rw("+46733123450").expect("with plus"), "46733123450");
        assert_eq!(rw("46733123450").expect("without plus"), "46733123450");
        assert_eq!(
            Msisdn::from_e164("46733123450").expect("e164").as_str(),
            "46733123450"
        );
    }

    #[test]
    fn fixed_lines_are_refused() {
        let error = rw("0252123456").expect_err("Rwandan fixed line");
        assert!(
            matches!(
                error,
                MsisdnError::NotMobile {
                    kind: NumberType::FixedLine
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn nanpa_numbers_that_may_be_mobile_are_accepted() {
        assert_eq!(rw("+12025550143").expect("US number"), "12025550143");
    }

    #[test]
    fn invalid_numbers_are_refused() {
        assert!(matches!(rw("+15551234567"), Err(MsisdnError::Invalid)));
        assert!(matches!(
            rw("0788123"),
            Err(MsisdnError::Invalid | MsisdnError::Unreadable(_))
        ));
        assert!(rw("0788123456789").is_err());
    }

    #[test]
    fn letters_punctuation_and_empty_input_are_refused() {
        assert!(matches!(rw(""), Err(MsisdnError::Empty)));
        assert!(matches!(rw(" - "), Err(MsisdnError::Empty)));
        assert!(matches!(rw("+"), Err(MsisdnError::Empty)));
        for bad in [
            "0788FLOWER",
            "(0788)123456",
            "0788.123.456",
            "++250788123456",
            "0788123456 ext 1",
        ] {
            assert!(
                matches!(rw(bad), Err(MsisdnError::InvalidCharacter { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            rw("123456789012345678901"),
            Err(MsisdnError::TooLong)
        ));
    }

    #[test]
    fn from_e164_refuses_plus_and_national_forms() {
        assert!(Msisdn::from_e164("+250788123456").is_err());
        assert!(Msisdn::from_e164("0788123456").is_err());
        assert!(Msisdn::from_e164("").is_err());
    }

    #[test]
    fn masked_keeps_first_six_and_last_two_digits() {
        let msisdn = Msisdn::parse("0788123456", Region::RW).expect("valid");
        assert_eq!(msisdn.masked(), "250788****56");
        let sandbox = Msisdn::from_e164("46733123450").expect("valid");
        assert_eq!(sandbox.masked(), "46733****50");
        assert_eq!(Msisdn("1234567".to_owned()).masked(), "1****67");
    }

    #[test]
    fn errors_do_not_repeat_the_number() {
        let message = rw("0252123456").expect_err("fixed line").to_string();
        assert!(!message.contains("252123456"), "{message}");
    }

    #[test]
    fn serde_is_the_e164_string_and_validates_on_the_way_in() {
        let msisdn = Msisdn::parse("0788123456", Region::RW).expect("valid");
        let json = serde_json::to_string(&msisdn).expect("serializes");
        assert_eq!(json, "\"250788123456\"");
        assert_eq!(
            serde_json::from_str::<Msisdn>(&json).expect("deserializes"),
            msisdn
        );
        assert!(serde_json::from_str::<Msisdn>("\"250252123456\"").is_err());
    }

    #[test]
    fn postgres_text_round_trip_checks_the_shape() {
        let msisdn = Msisdn::parse("0788123456", Region::RW).expect("valid");
        let mut buffer = tokio_postgres::types::private::BytesMut::new();
        msisdn
            .to_sql_checked(&Type::TEXT, &mut buffer)
            .expect("encodes");
        assert_eq!(
            Msisdn::from_sql(&Type::TEXT, &buffer).expect("decodes"),
            msisdn
        );
        assert!(Msisdn::from_sql(&Type::TEXT, b"+250788123456").is_err());
        assert!(Msisdn::from_sql(&Type::TEXT, b"123").is_err());
    }
}
