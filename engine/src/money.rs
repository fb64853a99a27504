//! Money: currencies and non-negative amounts in the currency's minor unit, with checked
//! arithmetic only and strict parsing (a scale finer than the currency allows is an error).

use std::fmt;

use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, accepts, to_sql_checked};

mod currency;

pub use currency::Currency;

type SqlError = Box<dyn std::error::Error + Sync + Send>;
type SqlBuffer = tokio_postgres::types::private::BytesMut;

/// Largest amount of one line, fee or collection, in minor units. It bounds every input so
/// that summing a whole batch cannot overflow an `i64`: 200,000 lines of (amount + fee), each
/// at most 2 × 10^13, add up to 4 × 10^18, below `i64::MAX` ≈ 9.2 × 10^18. (10^13 is ten
/// trillion francs, or a hundred billion euros.)
pub const AMOUNT_MAX_MINOR: i64 = 10_000_000_000_000;

/// What went wrong turning a number or a text into money.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("the amount is empty")]
    Empty,
    #[error("the amount has a sign: write amounts without + or -, as positive numbers")]
    Signed,
    #[error(
        "the amount contains {character:?} at position {position}: only digits and one '.' are allowed"
    )]
    InvalidCharacter { character: char, position: usize },
    #[error("the amount has a '.' without digits on both sides, or more than one '.'")]
    MisplacedDecimalPoint,
    #[error("the amount has more decimals than {currency} allows ({exponent})")]
    TooManyDecimals { currency: Currency, exponent: u32 },
    #[error("the amount {minor} is negative")]
    Negative { minor: i64 },
    #[error("the amount exceeds the maximum of {max} minor units", max = AMOUNT_MAX_MINOR)]
    Overflow,
    #[error("unknown currency {code:?}: accepted codes are RWF, EUR")]
    UnknownCurrency { code: String },
}

///
/// Serialized as a bare integer of minor units; deserializing applies `from_minor`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(into = "i64", try_from = "i64")]
pub struct Amount(i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// An amount from minor units, refusing negatives and anything above `AMOUNT_MAX_MINOR`.
    pub fn from_minor(minor: i64) -> Result<Amount, MoneyError> {
        if minor < 0 {
            return Err(MoneyError::Negative { minor });
        }
        if minor > AMOUNT_MAX_MINOR {
            return Err(MoneyError::Overflow);
        }
        Ok(Amount(minor))
    }

    /// The amount in minor units.
    #[must_use]
    pub const fn minor(self) -> i64 {
        self.0
    }

    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The sum, or `None` on `i64` overflow. Sums may exceed `AMOUNT_MAX_MINOR` (a batch
    /// total is an `Amount` too); that bound applies to inputs only.
    #[must_use]
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// The difference, or `None` if it would be negative.
    #[must_use]
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0
            .checked_sub(other.0)
            .filter(|minor| *minor >= 0)
            .map(Amount)
    }

    /// The amount times `factor`, or `None` on overflow.
    #[must_use]
    pub fn checked_mul(self, factor: u32) -> Option<Amount> {
        self.0.checked_mul(i64::from(factor)).map(Amount)
    }

    /// ceil(amount × numerator / denominator), computed in `i128` so the product cannot
    /// overflow; `None` if `denominator` is zero or the result does not fit in an `i64`.
    #[must_use]
    pub fn checked_mul_div_ceil(self, numerator: u32, denominator: u32) -> Option<Amount> {
        if denominator == 0 {
            return None;
        }
        let product = i128::from(self.0) * i128::from(numerator);
        let denominator = i128::from(denominator);
        // Ceiling division of a non-negative integer by a positive one.
        let quotient = (product + denominator - 1) / denominator;
        i64::try_from(quotient).ok().map(Amount)
    }

    /// Parses a decimal text in the currency's major unit ("1500", "12.50") strictly: only
    /// digits and one inner '.', no sign, spaces, separators or exponent. Zeros beyond the
    /// currency's exponent are accepted ("1500.00" RWF), any other finer digit is an error.
    pub fn parse(text: &str, currency: Currency) -> Result<Amount, MoneyError> {
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        if text.starts_with(['-', '+']) {
            return Err(MoneyError::Signed);
        }
        if let Some((position, character)) = text
            .char_indices()
            .find(|(_, character)| !character.is_ascii_digit() && *character != '.')
        {
            return Err(MoneyError::InvalidCharacter {
                character,
                position,
            });
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let has_point = whole.len() < text.len();
        if whole.is_empty() || (has_point && fraction.is_empty()) || fraction.contains('.') {
            return Err(MoneyError::MisplacedDecimalPoint);
        }
        let exponent = currency.exponent();
        let (kept, finer) = fraction.split_at(fraction.len().min(exponent as usize));
        if finer.bytes().any(|digit| digit != b'0') {
            return Err(MoneyError::TooManyDecimals { currency, exponent });
        }
        // Pad the kept fraction to the full exponent: "12.5" EUR is 1250 cents.
        let padding = exponent as usize - kept.len();
        let digits = whole
            .bytes()
            .chain(kept.bytes())
            .chain(std::iter::repeat_n(b'0', padding));
        let mut minor: i64 = 0;
        for digit in digits {
            minor = minor
                .checked_mul(10)
                .and_then(|shifted| shifted.checked_add(i64::from(digit - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        Amount::from_minor(minor)
    }

    /// The amount in the currency's major unit with exactly its exponent's decimals:
    /// "1500" for RWF, "12.50" for EUR. `parse` reads it back.
    #[must_use]
    pub fn format(self, currency: Currency) -> String {
        let exponent = currency.exponent();
        if exponent == 0 {
            return self.0.to_string();
        }
        let divisor = 10_i64.pow(exponent);
        let width = exponent as usize;
        format!("{}.{:0width$}", self.0 / divisor, self.0 % divisor)
    }
}

impl From<Amount> for i64 {
    fn from(amount: Amount) -> i64 {
        amount.0
    }
}

impl TryFrom<i64> for Amount {
    type Error = MoneyError;

    fn try_from(minor: i64) -> Result<Amount, MoneyError> {
        Amount::from_minor(minor)
    }
}

impl ToSql for Amount {
    fn to_sql(&self, ty: &Type, out: &mut SqlBuffer) -> Result<IsNull, SqlError> {
        self.0.to_sql(ty, out)
    }

    accepts!(INT8);
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Amount {
    /// Refuses negatives but not values above `AMOUNT_MAX_MINOR`: columns also hold sums
    /// (balances, batch totals) that may legitimately exceed the bound on one input.
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, SqlError> {
        let minor = i64::from_sql(ty, raw)?;
        if minor < 0 {
            return Err(Box::new(MoneyError::Negative { minor }));
        }
        Ok(Amount(minor))
    }

    accepts!(INT8);
}

/// An amount together with its currency, for display ("1500 RWF", "12.50 EUR").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money {
    pub amount: Amount,
    pub currency: Currency,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount.format(self.currency), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rwf(text: &str) -> Result<i64, MoneyError> {
        Amount::parse(text, Currency::Rwf).map(Amount::minor)
    }

    fn eur(text: &str) -> Result<i64, MoneyError> {
        Amount::parse(text, Currency::Eur).map(Amount::minor)
    }

    #[test]
    fn parse_reads_whole_units_and_pads_fractions() {
        assert_eq!(rwf("1500"), Ok(1500));
        assert_eq!(rwf("0"), Ok(0));
        assert_eq!(eur("12.50"), Ok(1250));
        assert_eq!(eur("12.5"), Ok(1250));
        assert_eq!(eur("12"), Ok(1200));
        assert_eq!(eur("0.01"), Ok(1));
    }

    #[test]
    fn parse_accepts_trailing_zeros_beyond_the_exponent() {
        assert_eq!(rwf("1500.00"), Ok(1500));
        assert_eq!(rwf("1500.0"), Ok(1500));
        assert_eq!(eur("12.5000"), Ok(1250));
    }

    #[test]
    fn parse_refuses_a_scale_finer_than_the_currency_instead_of_rounding() {
        let rwf_error = MoneyError::TooManyDecimals {
            currency: Currency::Rwf,
            exponent: 0,
        };
        assert_eq!(rwf("1500.5"), Err(rwf_error.clone()));
        assert_eq!(rwf("1500.01"), Err(rwf_error));
        let eur_error = MoneyError::TooManyDecimals {
            currency: Currency::Eur,
            exponent: 2,
        };
        assert_eq!(eur("12.501"), Err(eur_error.clone()));
        assert_eq!(eur("0.0001"), Err(eur_error));
    }

    #[test]
    fn parse_refuses_signs_spaces_separators_and_exponents() {
        for bad in [
            " 5", "5 ", "1 000", "1,000", "1_000", "1e3", "1E3", "0x10", "١٢",
        ] {
            assert!(
                matches!(rwf(bad), Err(MoneyError::InvalidCharacter { .. })),
                "{bad:?} must be refused as an invalid character, got {:?}",
                rwf(bad)
            );
        }
        for signed in ["-5", "+5", "-0"] {
            assert_eq!(rwf(signed), Err(MoneyError::Signed), "{signed}");
        }
        assert!(matches!(
            rwf("5-"),
            Err(MoneyError::InvalidCharacter {
                character: '-',
                position: 1
            })
        ));
    }

    #[test]
    fn parse_refuses_empty_text_and_misplaced_points() {
        assert_eq!(rwf(""), Err(MoneyError::Empty));
        for bad in [".", ".5", "5.", "1.2.3", "1..2"] {
            assert_eq!(eur(bad), Err(MoneyError::MisplacedDecimalPoint), "{bad:?}");
        }
    }

    #[test]
    fn parse_refuses_amounts_above_the_maximum_and_i64_overflow() {
        let max = AMOUNT_MAX_MINOR.to_string();
        assert_eq!(rwf(&max), Ok(AMOUNT_MAX_MINOR));
        let above = (AMOUNT_MAX_MINOR + 1).to_string();
        assert_eq!(rwf(&above), Err(MoneyError::Overflow));
        assert_eq!(rwf("99999999999999999999999"), Err(MoneyError::Overflow));
        // 10^17 euros is 10^19 cents: overflows i64 only once the fraction is padded.
        assert_eq!(eur("100000000000000000"), Err(MoneyError::Overflow));
    }

    #[test]
    fn from_minor_refuses_negative_and_above_maximum() {
        assert_eq!(
            Amount::from_minor(-1),
            Err(MoneyError::Negative { minor: -1 })
        );
        assert_eq!(
            Amount::from_minor(AMOUNT_MAX_MINOR + 1),
            Err(MoneyError::Overflow)
        );
        assert_eq!(Amount::from_minor(0), Ok(Amount::ZERO));
        assert!(Amount::ZERO.is_zero());
    }

    #[test]
    fn sum_of_200_000_maximal_debits_fits_in_i64() {
        let line = Amount::from_minor(AMOUNT_MAX_MINOR).expect("the maximum is an amount");
        let debit = line.checked_add(line).expect("amount + fee fits");
        assert!(debit.checked_mul(200_000).is_some());
    }

    #[test]
    fn checked_arithmetic_never_goes_negative_or_wraps() {
        let five = Amount::from_minor(5).expect("valid");
        let three = Amount::from_minor(3).expect("valid");
        assert_eq!(five.checked_add(three).map(Amount::minor), Some(8));
        assert_eq!(five.checked_sub(three).map(Amount::minor), Some(2));
        assert_eq!(five.checked_sub(five), Some(Amount::ZERO));
        assert_eq!(three.checked_sub(five), None);
        assert_eq!(five.checked_mul(4).map(Amount::minor), Some(20));
        assert_eq!(Amount(i64::MAX).checked_add(five), None);
        assert_eq!(Amount(i64::MAX).checked_mul(2), None);
    }

    #[test]
    fn mul_div_ceil_rounds_up_and_refuses_zero_divisor_and_overflow() {
        let ten = Amount::from_minor(10).expect("valid");
        assert_eq!(ten.checked_mul_div_ceil(150, 10_000), Some(Amount(1)));
        assert_eq!(ten.checked_mul_div_ceil(1, 2), Some(Amount(5)));
        assert_eq!(ten.checked_mul_div_ceil(1, 3), Some(Amount(4)));
        assert_eq!(Amount::ZERO.checked_mul_div_ceil(7, 3), Some(Amount::ZERO));
        assert_eq!(ten.checked_mul_div_ceil(1, 0), None);
        assert_eq!(Amount(i64::MAX).checked_mul_div_ceil(2, 1), None);
        assert_eq!(
            Amount(i64::MAX).checked_mul_div_ceil(u32::MAX, u32::MAX),
            Some(Amount(i64::MAX))
        );
    }

    #[test]
    fn format_writes_the_currency_exponent_and_parse_reads_it_back() {
        let amount = Amount::from_minor(1250).expect("valid");
        assert_eq!(amount.format(Currency::Rwf), "1250");
        assert_eq!(amount.format(Currency::Eur), "12.50");
        assert_eq!(
            Amount::from_minor(5).expect("valid").format(Currency::Eur),
            "0.05"
        );
        assert_eq!(Amount::ZERO.format(Currency::Eur), "0.00");
        for currency in Currency::ALL {
            assert_eq!(
                Amount::parse(&amount.format(currency), currency),
                Ok(amount)
            );
        }
    }

    #[test]
    fn money_displays_amount_then_code() {
        let amount = Amount::from_minor(1500).expect("valid");
        assert_eq!(
            Money {
                amount,
                currency: Currency::Rwf
            }
            .to_string(),
            "1500 RWF"
        );
        assert_eq!(
            Money {
                amount,
                currency: Currency::Eur
            }
            .to_string(),
            "15.00 EUR"
        );
    }

    #[test]
    fn amount_serde_is_minor_units_and_refuses_negatives() {
        let amount = Amount::from_minor(1500).expect("valid");
        assert_eq!(serde_json::to_string(&amount).expect("serializes"), "1500");
        assert_eq!(
            serde_json::from_str::<Amount>("1500").expect("deserializes"),
            amount
        );
        assert!(serde_json::from_str::<Amount>("-1").is_err());
        assert!(serde_json::from_str::<Amount>("1.5").is_err());
    }

    #[test]
    fn amount_is_bigint_in_postgres_and_negative_rows_are_refused() {
        let amount = Amount::from_minor(1500).expect("valid");
        let mut buffer = SqlBuffer::new();
        amount
            .to_sql_checked(&Type::INT8, &mut buffer)
            .expect("encodes");
        assert_eq!(
            Amount::from_sql(&Type::INT8, &buffer).expect("decodes"),
            amount
        );
        assert!(
            amount
                .to_sql_checked(&Type::INT4, &mut SqlBuffer::new())
                .is_err()
        );

        let mut negative = SqlBuffer::new();
        (-1_i64)
            .to_sql(&Type::INT8, &mut negative)
            .expect("encodes");
        assert!(Amount::from_sql(&Type::INT8, &negative).is_err());
    }
}
