//! The values each list filter takes, written into the document from the state machines
//! themselves, so that the document and the server refuse the same names.

use payrail_engine::state::batch::BatchState;
use payrail_engine::state::collection::CollectionState;
use payrail_engine::state::payout::PayoutState;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, RefOr};

use payrail_engine::app::webhooks::EVENT_STATES;

/// Sets the enumeration of every filter that takes a name.
pub fn enumerate(document: &mut OpenApi) {
    let payout_states = || PayoutState::ALL.map(PayoutState::as_str).to_vec();
    let mut transaction_states = payout_states();
    transaction_states.push("posted");
    for state in CollectionState::ALL.map(CollectionState::as_str) {
        if !transaction_states.contains(&state) {
            transaction_states.push(state);
        }
    }
    let filters: [(&str, &str, Vec<&str>); 6] = [
        (
            "/v1/batches",
            "state",
            BatchState::ALL.map(BatchState::as_str).to_vec(),
        ),
        ("/v1/batches/{id}/payouts", "state", payout_states()),
        ("/v1/transactions", "state", transaction_states),
        (
            "/v1/analytics",
            "granularity",
            ["day", "week", "month"].to_vec(),
        ),
        ("/v1/transactions", "operator", ["mtn", "airtel"].to_vec()),
        ("/v1/webhooks", "state", EVENT_STATES.to_vec()),
    ];
    for (path, name, values) in filters {
        let operation = document
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| item.get.as_mut());
        if let Some(operation) = operation {
            set_enum(operation, name, &values);
        }
    }
}

fn set_enum(operation: &mut Operation, name: &str, values: &[&str]) {
    let parameter =
        operation
            .parameters
            .iter_mut()
            .flatten()
            .find_map(|parameter| match parameter {
                RefOr::T(parameter)
                    if parameter.name == name && parameter.parameter_in == ParameterIn::Query =>
                {
                    Some(parameter)
                }
                _ => None,
            });
    if let Some(parameter) = parameter {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().copied()))
            .build();
        parameter.schema = Some(RefOr::T(schema.into()));
    }
}
