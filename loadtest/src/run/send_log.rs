//! The sends each route made, as the node made them: every operator is wrapped so that a
//! payout send is timed before it leaves. The audit checks from this record that no route
//! ever sent more than its quota in any one-second window.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use payrail_engine::ids::Reference;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{
    AccountHolder, Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest,
    PayoutStatus,
};
use tokio::time::Instant;

/// When each send of one route left.
#[derive(Debug, Default)]
pub struct SendLog {
    sent: Mutex<Vec<Instant>>,
}

impl SendLog {
    /// The most sends in any one-second window.
    pub fn busiest_second(&self) -> usize {
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        sent.sort_unstable();
        let mut first = 0;
        let mut most = 0;
        for (last, at) in sent.iter().enumerate() {
            while at.duration_since(sent[first]) >= Duration::from_secs(1) {
                first += 1;
            }
            most = most.max(last + 1 - first);
        }
        most
    }
}

/// An operator whose payout sends are logged.
#[derive(Debug)]
pub struct LoggedOperator {
    inner: Arc<dyn Operator>,
    log: Arc<SendLog>,
}

impl LoggedOperator {
    pub fn wrap(inner: Arc<dyn Operator>) -> (Arc<dyn Operator>, Arc<SendLog>) {
        let log = Arc::new(SendLog::default());
        let operator = LoggedOperator {
            inner,
            log: Arc::clone(&log),
        };
        (Arc::new(operator), log)
    }
}

#[async_trait::async_trait]
impl Operator for LoggedOperator {
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError> {
        self.log
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Instant::now());
        self.inner.send_payout(request).await
    }

    async fn query_payout(
        &self,
        reference: Reference,
    ) -> Result<Option<PayoutStatus>, OperatorError> {
        self.inner.query_payout(reference).await
    }

    async fn request_payment(
        &self,
        request: &PaymentRequest,
    ) -> Result<PaymentStatus, OperatorError> {
        self.inner.request_payment(request).await
    }

    async fn query_payment(
        &self,
        reference: Reference,
    ) -> Result<Option<PaymentStatus>, OperatorError> {
        self.inner.query_payment(reference).await
    }

    async fn account_holder(&self, msisdn: &Msisdn) -> Result<AccountHolder, OperatorError> {
        self.inner.account_holder(msisdn).await
    }

    async fn balance(&self) -> Result<(Amount, Currency), OperatorError> {
        self.inner.balance().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busiest_second_counts_a_sliding_window() {
        let log = SendLog::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        *log.sent.lock().expect("not poisoned") =
            vec![at(0), at(400), at(900), at(1_100), at(1_300), at(2_500)];
        // 400, 900, 1,100 and 1,300 fall within one second.
        assert_eq!(log.busiest_second(), 4);
    }
}
