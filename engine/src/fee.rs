//! Fees from a merchant's agreement: a fixed fee per payout (a payout debits amount + fee)
//! and a percentage in basis points per collection, rounded up to the next minor unit.

use crate::money::Amount;

/// Basis points in one whole: 10 000 bps = 100 %, the most a collection fee may take.
pub const BASIS_POINTS_PER_WHOLE: u16 = 10_000;

/// Why a fee agreement was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    #[error("collection fee of {bps} bps is above {max} bps (100 %)", max = BASIS_POINTS_PER_WHOLE)]
    CollectionFeeAboveWhole { bps: u16 },
}

/// What a merchant pays us, as agreed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "FeeAgreementFields", into = "FeeAgreementFields")]
pub struct FeeAgreement {
    payout_fee: Amount,
    collection_fee_bps: u16,
}

/// The serialized form, validated into a `FeeAgreement`.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FeeAgreementFields {
    payout_fee: Amount,
    collection_fee_bps: u16,
}

impl FeeAgreement {
    /// An agreement, if its collection fee is at most 100 %.
    pub fn new(payout_fee: Amount, collection_fee_bps: u16) -> Result<FeeAgreement, FeeError> {
        if collection_fee_bps > BASIS_POINTS_PER_WHOLE {
            return Err(FeeError::CollectionFeeAboveWhole {
                bps: collection_fee_bps,
            });
        }
        Ok(FeeAgreement {
            payout_fee,
            collection_fee_bps,
        })
    }

    /// The fixed fee charged on each payout.
    #[must_use]
    pub const fn payout_fee(&self) -> Amount {
        self.payout_fee
    }

    /// The collection fee in basis points (1 bps = 0.01 %).
    #[must_use]
    pub const fn collection_fee_bps(&self) -> u16 {
        self.collection_fee_bps
    }

    /// What a payout of `amount` takes from the merchant: amount + fee, `None` on overflow.
    #[must_use]
    pub fn payout_debit(&self, amount: Amount) -> Option<Amount> {
        amount.checked_add(self.payout_fee)
    }

    /// The fee on a collection of `amount`: ceil(amount × bps / 10 000), rounded up to the
    /// next minor unit so a fraction of a franc is always ours (10 francs at 150 bps is 0.15
    /// franc, charged as 1). Computed in `i128`, so the product cannot overflow; the fee never
    /// exceeds the amount because bps ≤ 10 000.
    #[must_use]
    pub fn collection_fee(&self, amount: Amount) -> Amount {
        amount
            .checked_mul_div_ceil(
                u32::from(self.collection_fee_bps),
                u32::from(BASIS_POINTS_PER_WHOLE),
            )
            .expect("fee <= amount because bps <= 10 000, and the divisor is not zero")
    }

    /// What a collection of `amount` credits the merchant: amount − fee, never negative.
    #[must_use]
    pub fn collection_net(&self, amount: Amount) -> Amount {
        amount
            .checked_sub(self.collection_fee(amount))
            .expect("fee <= amount because bps <= 10 000")
    }
}

impl From<FeeAgreement> for FeeAgreementFields {
    fn from(agreement: FeeAgreement) -> FeeAgreementFields {
        FeeAgreementFields {
            payout_fee: agreement.payout_fee,
            collection_fee_bps: agreement.collection_fee_bps,
        }
    }
}

impl TryFrom<FeeAgreementFields> for FeeAgreement {
    type Error = FeeError;

    fn try_from(fields: FeeAgreementFields) -> Result<FeeAgreement, FeeError> {
        FeeAgreement::new(fields.payout_fee, fields.collection_fee_bps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(minor: i64) -> Amount {
        Amount::from_minor(minor).expect("test amounts are valid")
    }

    fn agreement(payout_fee: i64, bps: u16) -> FeeAgreement {
        FeeAgreement::new(amount(payout_fee), bps).expect("test agreements are valid")
    }

    #[test]
    fn collection_fee_above_one_whole_is_refused() {
        assert_eq!(
            FeeAgreement::new(Amount::ZERO, BASIS_POINTS_PER_WHOLE + 1),
            Err(FeeError::CollectionFeeAboveWhole { bps: 10_001 })
        );
        assert!(FeeAgreement::new(Amount::ZERO, BASIS_POINTS_PER_WHOLE).is_ok());
    }

    #[test]
    fn payout_debits_amount_plus_fixed_fee() {
        let fees = agreement(100, 0);
        assert_eq!(fees.payout_fee(), amount(100));
        assert_eq!(fees.payout_debit(amount(5_000)), Some(amount(5_100)));
        assert_eq!(
            agreement(0, 0).payout_debit(amount(5_000)),
            Some(amount(5_000))
        );
    }

    #[test]
    fn payout_debit_overflow_is_none() {
        let huge = Amount::from_minor(crate::money::AMOUNT_MAX_MINOR).expect("valid");
        // 922 337 × 10^13 is within 2.1 × 10^12 of i64::MAX, so adding the fee overflows.
        let near_max = huge.checked_mul(922_337).expect("fits below i64::MAX");
        assert_eq!(
            FeeAgreement::new(huge, 0)
                .expect("valid")
                .payout_debit(near_max),
            None
        );
    }

    #[test]
    fn collection_fee_rounds_up_to_next_franc() {
        let fees = agreement(0, 150);
        assert_eq!(fees.collection_fee(amount(10)), amount(1));
        assert_eq!(fees.collection_fee(amount(1)), amount(1));
        assert_eq!(fees.collection_fee(amount(10_000)), amount(150));
        assert_eq!(fees.collection_fee(amount(10_001)), amount(151));
    }

    #[test]
    fn collection_fee_of_zero_amount_or_zero_bps_is_zero() {
        assert_eq!(agreement(0, 150).collection_fee(Amount::ZERO), Amount::ZERO);
        assert_eq!(
            agreement(0, 0).collection_fee(amount(1_000_000)),
            Amount::ZERO
        );
    }

    #[test]
    fn full_collection_fee_takes_everything_and_never_more() {
        let fees = agreement(0, BASIS_POINTS_PER_WHOLE);
        assert_eq!(fees.collection_fee(amount(777)), amount(777));
        assert_eq!(fees.collection_net(amount(777)), Amount::ZERO);
    }

    #[test]
    fn collection_net_is_amount_minus_fee() {
        let fees = agreement(0, 250);
        assert_eq!(fees.collection_net(amount(1_000)), amount(975));
        assert_eq!(fees.collection_net(amount(1)), Amount::ZERO);
    }

    #[test]
    fn collection_fee_on_largest_amount_does_not_overflow() {
        let largest = amount(crate::money::AMOUNT_MAX_MINOR);
        let fees = agreement(0, 9_999);
        let fee = fees.collection_fee(largest);
        assert!(fee <= largest);
        assert_eq!(fee.checked_add(fees.collection_net(largest)), Some(largest));
    }

    #[test]
    fn agreement_deserializes_with_validation() {
        let fees: FeeAgreement =
            serde_json::from_str(r#"{"payout_fee":100,"collection_fee_bps":150}"#).expect("valid");
        assert_eq!(fees, agreement(100, 150));
        assert!(
            serde_json::from_str::<FeeAgreement>(
                r#"{"payout_fee":100,"collection_fee_bps":10001}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<FeeAgreement>(r#"{"payout_fee":-1,"collection_fee_bps":0}"#)
                .is_err()
        );
    }
}
