//! The payment channel of a collection: the name of the operator the payer approves with,
//! as LTGS shows it ("MTN MoMo", "Airtel Money").
//!
//! The rule: a route configured on an operator is named after that operator. A route
//! without one (on the simulator) stands in for the operator its name starts with —
//! `mtn-rw` for MTN MoMo, `airtel-rw` for Airtel Money — and any other route is named by
//! itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::route::RouteName;

/// The operators a route may be configured on, by the name payers know them by.
pub const MTN_MOMO: &str = "MTN MoMo";
pub const AIRTEL_MONEY: &str = "Airtel Money";

/// Each route's payment channel, from the node's `[operators]`.
#[derive(Clone, Debug, Default)]
pub struct PaymentChannels {
    /// Routes configured on a real operator, by route name.
    configured: Arc<BTreeMap<String, &'static str>>,
}

impl PaymentChannels {
    /// The channels of routes configured on a real operator (`MTN_MOMO`, `AIRTEL_MONEY`).
    pub fn configured(routes: impl IntoIterator<Item = (String, &'static str)>) -> PaymentChannels {
        PaymentChannels {
            configured: Arc::new(routes.into_iter().collect()),
        }
    }

    /// The channel of `route`.
    pub fn of(&self, route: &RouteName) -> String {
        if let Some(channel) = self.configured.get(route.as_str()) {
            return (*channel).to_owned();
        }
        let operator = route.as_str().split('-').next().unwrap_or_default();
        match operator {
            "mtn" => MTN_MOMO.to_owned(),
            "airtel" => AIRTEL_MONEY.to_owned(),
            _ => route.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(name: &str) -> RouteName {
        RouteName::new(name).expect("a route name")
    }

    #[test]
    fn simulated_routes_are_named_after_the_operator_they_stand_in_for() {
        let channels = PaymentChannels::default();
        assert_eq!(channels.of(&route("mtn-rw")), "MTN MoMo");
        assert_eq!(channels.of(&route("airtel-rw")), "Airtel Money");
        assert_eq!(channels.of(&route("mpesa-ke")), "mpesa-ke");
    }

    #[test]
    fn a_configured_operator_names_its_route_whatever_the_route_is_called() {
        let channels = PaymentChannels::configured([("east".to_owned(), AIRTEL_MONEY)]);
        assert_eq!(channels.of(&route("east")), "Airtel Money");
        assert_eq!(channels.of(&route("mtn-rw")), "MTN MoMo");
    }
}
