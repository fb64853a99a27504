//! Whether a callback on a capability URL is the payout's outcome: its token verifies, its
//! body names the same payout, amount and currency (and payee, where it says one), and it
//! says the payout ended. A pure function of the callback and the stored payout.

use crate::callback_token::CallbackKeys;
use crate::ids::PayoutId;
use crate::money::Amount;
use crate::operator::PayoutStatus;
use crate::state::payout::PayoutState;
use crate::store::callback_settlements::CalledBack;

/// What a callback's body says, as the operator's adapter read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackReport {
    /// The payout the body names (MTN's `externalId`, which we set to our payout id).
    pub payout: Option<PayoutId>,
    /// The status it claims, read like a status query's answer.
    pub claimed: Option<PayoutStatus>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    /// The payee's number, when the body names one.
    pub payee: Option<String>,
}

/// What a capability callback was found to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackVerdict {
    /// Authenticated and final: the payout's outcome (`Succeeded` or `Failed`).
    Settles(PayoutStatus),
    /// This node has no callback keys: every callback is a hint.
    Untrusted,
    /// The URL's token is not this payout's under any accepted secret.
    BadToken,
    /// No payout has the URL's id.
    UnknownPayout,
    /// The body lacks the external id, amount or currency it must agree on.
    Incomplete,
    /// The body is about another payout: a callback replayed to this URL.
    Replayed,
    WrongAmount,
    WrongCurrency,
    WrongPayee,
    /// Authenticated, but not final (pending, or a status we do not know).
    NotFinal,
    /// Authenticated, about a payout already ended the same way.
    Duplicate,
    /// Authenticated, about a payout already ended another way: nothing changes.
    ContradictsFinal,
}

impl CallbackVerdict {
    /// The metric's label.
    pub fn as_str(&self) -> &'static str {
        match self {
            CallbackVerdict::Settles(_) => "settled",
            CallbackVerdict::Untrusted => "untrusted",
            CallbackVerdict::BadToken => "bad_token",
            CallbackVerdict::UnknownPayout => "unknown_payout",
            CallbackVerdict::Incomplete => "incomplete",
            CallbackVerdict::Replayed => "replayed",
            CallbackVerdict::WrongAmount => "wrong_amount",
            CallbackVerdict::WrongCurrency => "wrong_currency",
            CallbackVerdict::WrongPayee => "wrong_payee",
            CallbackVerdict::NotFinal => "not_final",
            CallbackVerdict::Duplicate => "duplicate",
            CallbackVerdict::ContradictsFinal => "contradicts_final",
        }
    }

    /// Whether the callback is an authenticated final word (so no status query is brought
    /// forward for it).
    pub fn is_final_word(&self) -> bool {
        matches!(
            self,
            CallbackVerdict::Settles(_)
                | CallbackVerdict::Duplicate
                | CallbackVerdict::ContradictsFinal
        )
    }
}

/// Judges a callback on `payout`'s URL with `token` against the stored payout.
pub fn judge(
    keys: Option<&CallbackKeys>,
    payout: PayoutId,
    token: &str,
    report: &CallbackReport,
    stored: Option<&CalledBack>,
) -> CallbackVerdict {
    let Some(keys) = keys else {
        return CallbackVerdict::Untrusted;
    };
    if !keys.verify(payout, token) {
        return CallbackVerdict::BadToken;
    }
    let Some(stored) = stored else {
        return CallbackVerdict::UnknownPayout;
    };
    let (Some(named), Some(amount), Some(currency)) =
        (report.payout, &report.amount, &report.currency)
    else {
        return CallbackVerdict::Incomplete;
    };
    if named != payout {
        return CallbackVerdict::Replayed;
    }
    if currency.trim() != stored.currency.code() {
        return CallbackVerdict::WrongCurrency;
    }
    if Amount::parse(amount.trim(), stored.currency) != Ok(stored.amount) {
        return CallbackVerdict::WrongAmount;
    }
    if let Some(payee) = &report.payee
        && payee.trim().trim_start_matches('+') != stored.msisdn
    {
        return CallbackVerdict::WrongPayee;
    }
    let claimed = match &report.claimed {
        Some(status @ (PayoutStatus::Succeeded { .. } | PayoutStatus::Failed { .. })) => status,
        Some(PayoutStatus::Pending) | None => return CallbackVerdict::NotFinal,
    };
    let succeeded = matches!(claimed, PayoutStatus::Succeeded { .. });
    match stored.state {
        PayoutState::Succeeded if succeeded => CallbackVerdict::Duplicate,
        PayoutState::Failed if !succeeded => CallbackVerdict::Duplicate,
        PayoutState::Succeeded | PayoutState::Failed | PayoutState::Cancelled => {
            CallbackVerdict::ContradictsFinal
        }
        _ => CallbackVerdict::Settles(claimed.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{MerchantId, Reference};
    use crate::money::Currency;
    use crate::route::RouteName;

    fn stored(state: PayoutState) -> CalledBack {
        CalledBack {
            merchant: MerchantId::new(),
            route: RouteName::new("mtn-rw").expect("a route"),
            reference: Reference::new(),
            amount: Amount::from_minor(1500).expect("an amount"),
            currency: Currency::Rwf,
            msisdn: "250788123456".into(),
            state,
        }
    }

    fn report(payout: PayoutId, claimed: PayoutStatus) -> CallbackReport {
        CallbackReport {
            payout: Some(payout),
            claimed: Some(claimed),
            amount: Some("1500".into()),
            currency: Some("RWF".into()),
            payee: Some("250788123456".into()),
        }
    }

    fn paid() -> PayoutStatus {
        PayoutStatus::Succeeded {
            operator_transaction_id: Some("42".into()),
        }
    }

    #[test]
    fn an_agreeing_final_callback_on_a_verified_url_settles() {
        let keys = CallbackKeys::new(vec![[3; 32]]);
        let payout = PayoutId::new();
        let verdict = judge(
            Some(&keys),
            payout,
            &keys.token(payout),
            &report(payout, paid()),
            Some(&stored(PayoutState::Sending)),
        );
        assert_eq!(verdict, CallbackVerdict::Settles(paid()));
    }

    #[test]
    fn every_disagreement_is_named() {
        let keys = CallbackKeys::new(vec![[3; 32]]);
        let payout = PayoutId::new();
        let token = keys.token(payout);
        let sending = stored(PayoutState::Sending);
        let judged = |token: &str, report: &CallbackReport, stored: &CalledBack| {
            judge(Some(&keys), payout, token, report, Some(stored))
        };
        let good = report(payout, paid());
        assert_eq!(
            judged(&keys.token(PayoutId::new()), &good, &sending),
            CallbackVerdict::BadToken
        );
        let other = CallbackReport {
            payout: Some(PayoutId::new()),
            ..good.clone()
        };
        assert_eq!(judged(&token, &other, &sending), CallbackVerdict::Replayed);
        let amount = CallbackReport {
            amount: Some("1501".into()),
            ..good.clone()
        };
        assert_eq!(
            judged(&token, &amount, &sending),
            CallbackVerdict::WrongAmount
        );
        let currency = CallbackReport {
            currency: Some("EUR".into()),
            ..good.clone()
        };
        assert_eq!(
            judged(&token, &currency, &sending),
            CallbackVerdict::WrongCurrency
        );
        let payee = CallbackReport {
            payee: Some("250788000000".into()),
            ..good.clone()
        };
        assert_eq!(
            judged(&token, &payee, &sending),
            CallbackVerdict::WrongPayee
        );
        let bare = CallbackReport {
            amount: None,
            ..good.clone()
        };
        assert_eq!(judged(&token, &bare, &sending), CallbackVerdict::Incomplete);
        let pending = report(payout, PayoutStatus::Pending);
        assert_eq!(
            judged(&token, &pending, &sending),
            CallbackVerdict::NotFinal
        );
        let failed = report(
            payout,
            PayoutStatus::Failed {
                code: "PAYEE_NOT_FOUND".into(),
            },
        );
        let succeeded = stored(PayoutState::Succeeded);
        assert_eq!(
            judged(&token, &good, &succeeded),
            CallbackVerdict::Duplicate
        );
        assert_eq!(
            judged(&token, &failed, &succeeded),
            CallbackVerdict::ContradictsFinal
        );
        assert_eq!(
            judge(None, payout, &token, &good, Some(&sending)),
            CallbackVerdict::Untrusted
        );
        assert_eq!(
            judge(Some(&keys), payout, &token, &good, None),
            CallbackVerdict::UnknownPayout
        );
    }
}
