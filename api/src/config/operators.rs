//! How each route reaches its operator: MTN MoMo or Airtel Money over HTTP, or the
//! in-process simulator, which is what a route without an entry runs on.

use std::collections::BTreeMap;
use std::sync::Arc;

use payrail_adapters::airtel::{AirtelConfig, AirtelMoney};
use payrail_adapters::mtn::{MtnConfig, MtnMomo};
use payrail_adapters::simulator::{Simulator, SimulatorProfile};
use payrail_engine::callback_token::CallbackKeys;
use payrail_engine::operator::Operator;
use payrail_engine::route::RouteName;
use serde::{Deserialize, Serialize};

/// One route's operator, as `[operators.<route>]` configures it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OperatorConfig {
    /// The in-process simulator with the node's `[simulator]` profile.
    Simulator,
    MtnMomo(MtnConfig),
    AirtelMoney(AirtelConfig),
}

/// Route name → operator; routes not named here are simulated.
pub type Operators = BTreeMap<String, OperatorConfig>;

/// An operator that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OperatorSetupError {
    #[error("configuration: operators.{0}: no route of that name in `routes`")]
    UnknownRoute(String),
    #[error("operators.{route}: {source}")]
    Adapter {
        route: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Checks that every `[operators.<route>]` names a route of the route table.
pub fn check_routes<'a>(
    operators: &Operators,
    routes: impl Iterator<Item = &'a RouteName>,
) -> Result<(), OperatorSetupError> {
    let routes: Vec<&str> = routes.map(RouteName::as_str).collect();
    match operators
        .keys()
        .find(|name| !routes.contains(&name.as_str()))
    {
        Some(unknown) => Err(OperatorSetupError::UnknownRoute(unknown.clone())),
        None => Ok(()),
    }
}

/// One route's operator, ready to run.
#[derive(Debug)]
pub struct RouteOperator {
    pub route: RouteName,
    pub operator: Arc<dyn Operator>,
    /// What it is, for the log ("MTN MoMo").
    pub kind: &'static str,
    /// Its callbacks carry capability tokens and can settle a payout.
    pub trusts_callbacks: bool,
}

/// The operator of `route`.
pub fn build(
    route: &RouteName,
    operators: &Operators,
    simulator: &SimulatorProfile,
    keys: Option<&CallbackKeys>,
) -> Result<RouteOperator, OperatorSetupError> {
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| OperatorSetupError::Adapter {
        route: route.to_string(),
        source,
    };
    let (operator, kind, trusts_callbacks): (Arc<dyn Operator>, _, _) =
        match operators.get(route.as_str()) {
            None | Some(OperatorConfig::Simulator) => (
                Arc::new(Simulator::new(simulator.clone()).map_err(|error| failed(error.into()))?),
                "the in-process simulator",
                false,
            ),
            Some(OperatorConfig::MtnMomo(config)) => {
                let mut mtn = MtnMomo::new(config.clone()).map_err(|error| failed(error.into()))?;
                if let Some(keys) = keys {
                    mtn = mtn.with_callback_keys(keys.clone());
                }
                let trusts = mtn.trusts_callbacks();
                (Arc::new(mtn), "MTN MoMo", trusts)
            }
            Some(OperatorConfig::AirtelMoney(config)) => (
                Arc::new(AirtelMoney::new(config.clone()).map_err(|error| failed(error.into()))?),
                "Airtel Money",
                false,
            ),
        };
    Ok(RouteOperator {
        route: route.clone(),
        operator,
        kind,
        trusts_callbacks,
    })
}

#[cfg(test)]
mod tests {
    use payrail_engine::route::RouteTable;

    use super::*;

    fn operators(text: &str) -> Result<Operators, toml::de::Error> {
        #[derive(Deserialize)]
        struct File {
            operators: Operators,
        }
        toml::from_str::<File>(text).map(|file| file.operators)
    }

    const MTN: &str = r#"
        [operators.mtn-rw]
        kind = "mtn_momo"
        base_url = "http://127.0.0.1:9090"
        target_environment = "mtnrwanda"
        currency = "RWF"
        disbursement = { subscription_key = "s", api_user = "u", api_key = "k" }
    "#;

    #[test]
    fn a_route_on_mtn_is_built_and_the_others_stay_simulated() {
        let operators = operators(MTN).expect("a valid section");
        let routes = RouteTable::rwanda();
        check_routes(&operators, routes.routes()).expect("known routes");
        let kinds: BTreeMap<String, &str> = routes
            .routes()
            .map(|route| {
                let built =
                    build(route, &operators, &SimulatorProfile::default(), None).expect("built");
                (built.route.to_string(), built.kind)
            })
            .collect();
        assert_eq!(kinds["mtn-rw"], "MTN MoMo");
        assert_eq!(kinds["airtel-rw"], "the in-process simulator");
    }

    #[test]
    fn an_operator_for_a_route_that_does_not_exist_is_refused() {
        let operators = operators(&MTN.replace("mtn-rw", "mtn-ug")).expect("parses");
        let error =
            check_routes(&operators, RouteTable::rwanda().routes()).expect_err("no such route");
        assert!(error.to_string().contains("operators.mtn-ug"), "{error}");
    }

    #[test]
    fn an_unknown_kind_or_key_is_refused() {
        assert!(operators(&MTN.replace("mtn_momo", "mpesa")).is_err());
        assert!(operators(&MTN.replace("currency", "curency")).is_err());
    }

    #[test]
    fn an_airtel_route_with_a_bad_key_says_which_route() {
        let text = r#"
            [operators.airtel-rw]
            kind = "airtel_money"
            base_url = "http://127.0.0.1:9090"
            client_id = "c"
            client_secret = "s"
            pin = "1234"
            public_key = "not a key"
        "#;
        let operators = operators(text).expect("parses");
        let route = RouteName::new("airtel-rw").expect("a route");
        let error =
            build(&route, &operators, &SimulatorProfile::default(), None).expect_err("a bad key");
        assert!(
            error.to_string().starts_with("operators.airtel-rw: "),
            "{error}"
        );
    }
}
