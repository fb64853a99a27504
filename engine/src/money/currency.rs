//! Currencies: the ISO code we store and send, and the exponent of the minor unit that
//! every amount is counted in.

use std::fmt;
use std::str::FromStr;

use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{MoneyError, SqlBuffer, SqlError};

/// A currency we pay out in.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Currency {
    /// Rwandan franc: no minor unit.
    #[serde(rename = "RWF")]
    Rwf,
    /// Euro: the currency of MTN's sandbox.
    #[serde(rename = "EUR")]
    Eur,
}

impl Currency {
    /// Every currency, RWF first.
    pub const ALL: [Currency; 2] = [Currency::Rwf, Currency::Eur];

    /// The ISO 4217 code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Rwf => "RWF",
            Currency::Eur => "EUR",
        }
    }

    /// Decimal places of the minor unit: an amount of 1 is 10^-exponent of the major unit.
    #[must_use]
    pub const fn exponent(self) -> u32 {
        match self {
            Currency::Rwf => 0,
            Currency::Eur => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    /// Only the exact uppercase code: "rwf" is refused so that stored and sent codes agree.
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|currency| currency.code() == code)
            .ok_or_else(|| MoneyError::UnknownCurrency {
                code: code.to_owned(),
            })
    }
}

impl ToSql for Currency {
    fn to_sql(&self, ty: &Type, out: &mut SqlBuffer) -> Result<IsNull, SqlError> {
        self.code().to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Currency {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, SqlError> {
        Ok(<&str as FromSql>::from_sql(ty, raw)?.parse()?)
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_and_exponents() {
        assert_eq!(Currency::Rwf.code(), "RWF");
        assert_eq!(Currency::Eur.code(), "EUR");
        assert_eq!(Currency::Rwf.exponent(), 0);
        assert_eq!(Currency::Eur.exponent(), 2);
        assert_eq!(Currency::ALL[0], Currency::Rwf);
    }

    #[test]
    fn currency_parses_only_exact_uppercase_codes() {
        for currency in Currency::ALL {
            assert_eq!(currency.code().parse::<Currency>(), Ok(currency));
            assert_eq!(currency.to_string(), currency.code());
        }
        for bad in ["rwf", "Eur", " RWF", "USD", ""] {
            assert!(bad.parse::<Currency>().is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn unknown_currency_error_lists_every_accepted_code() {
        let message = "USD".parse::<Currency>().expect_err("unknown").to_string();
        for currency in Currency::ALL {
            assert!(message.contains(currency.code()), "{message}");
        }
    }

    #[test]
    fn currency_serializes_as_its_code() {
        assert_eq!(
            serde_json::to_string(&Currency::Rwf).expect("serializes"),
            "\"RWF\""
        );
        let eur: Currency = serde_json::from_str("\"EUR\"").expect("deserializes");
        assert_eq!(eur, Currency::Eur);
        assert!(serde_json::from_str::<Currency>("\"eur\"").is_err());
    }

    #[test]
    fn currency_is_text_in_postgres() {
        let mut buffer = SqlBuffer::new();
        Currency::Eur
            .to_sql_checked(&Type::TEXT, &mut buffer)
            .expect("encodes");
        assert_eq!(&buffer[..], b"EUR");
        assert_eq!(
            Currency::from_sql(&Type::TEXT, b"RWF").expect("decodes"),
            Currency::Rwf
        );
        assert!(Currency::from_sql(&Type::TEXT, b"USD").is_err());
    }
}
