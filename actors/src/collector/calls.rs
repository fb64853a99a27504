//! The collector's slow work, each in a spawned task that answers with a message: operator
//! calls, reading collections from the store, and recording how one ended.

use std::sync::Arc;

use deadpool_postgres::Pool;
use payrail_engine::ids::{CollectionId, MerchantId, NodeId};
use payrail_engine::operator::{Operator, PaymentRequest};
use payrail_engine::store::StoreError;
use payrail_engine::store::collections::{self, Collection, CollectionOutcome};
use ractor::ActorRef;

use super::{CollectorMsg, FirstStep};

/// Asks the customer to approve the payment, with the collection's own reference.
pub fn request(
    myself: &ActorRef<CollectorMsg>,
    operator: Arc<dyn Operator>,
    collection: &Collection,
) {
    let request = PaymentRequest {
        reference: collection.reference,
        msisdn: collection.msisdn.clone(),
        amount: collection.amount,
        currency: collection.currency,
        message: collection.payer_message.clone(),
    };
    let (myself, id) = (myself.clone(), collection.id);
    tokio::spawn(async move {
        let answer = operator.request_payment(&request).await;
        let _ = myself.send_message(CollectorMsg::Requested(id, answer));
    });
}

/// Asks the operator where the request to pay stands.
pub fn query(
    myself: &ActorRef<CollectorMsg>,
    operator: Arc<dyn Operator>,
    collection: &Collection,
) {
    let (myself, id, reference) = (myself.clone(), collection.id, collection.reference);
    tokio::spawn(async move {
        let answer = operator.query_payment(reference).await;
        let _ = myself.send_message(CollectorMsg::Queried(id, answer));
    });
}

/// Takes one collection for this node to follow, and reads it; a request to pay goes out
/// first. One another node follows is left to it.
pub fn load(
    myself: &ActorRef<CollectorMsg>,
    pool: &Pool,
    node: NodeId,
    merchant: MerchantId,
    id: CollectionId,
) {
    let (myself, pool) = (myself.clone(), pool.clone());
    tokio::spawn(async move {
        let loaded = async {
            let client = pool.get().await?;
            collections::take(&client, node, merchant, id).await
        };
        match loaded.await {
            Ok(None) => tracing::debug!(%id, "another node follows the collection"),
            Ok(Some(collection)) => {
                let _ = myself.send_message(CollectorMsg::Follow(
                    Box::new(collection),
                    FirstStep::Request,
                ));
            }
            Err(error) => tracing::warn!(%error, %id, "could not read a collection to follow"),
        }
    });
}

/// Reads every pending collection this node owns or takes (nobody owned it), to follow
/// those it does not follow yet; each is asked about before anything is sent, since an
/// earlier run may have sent it already.
pub fn sweep(myself: &ActorRef<CollectorMsg>, pool: &Pool, node: NodeId) {
    let (myself, pool) = (myself.clone(), pool.clone());
    tokio::spawn(async move {
        let found = async {
            let client = pool.get().await?;
            collections::to_follow(&client, node).await
        };
        match found.await {
            Ok(found) => {
                for collection in found {
                    let follow = CollectorMsg::Follow(Box::new(collection), FirstStep::Query);
                    let _ = myself.send_message(follow);
                }
            }
            Err(error) => tracing::warn!(%error, "could not look for pending collections"),
        }
    });
}

/// Records how a collection ended, in one transaction with its ledger credit. One that
/// someone else finished first counts as recorded.
pub fn finish(
    myself: &ActorRef<CollectorMsg>,
    pool: &Pool,
    collection: &Collection,
    outcome: CollectionOutcome,
) {
    let (myself, pool) = (myself.clone(), pool.clone());
    let (merchant, id) = (collection.merchant, collection.id);
    tokio::spawn(async move {
        let recorded = async {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            match collections::finish(&tx, merchant, id, &outcome).await {
                Ok(_) => tx.commit().await.map_err(StoreError::from),
                Err(StoreError::StaleState { .. }) => Ok(()),
                Err(error) => Err(error),
            }
        };
        let recorded = recorded.await.map_err(|error| error.to_string());
        let _ = myself.send_message(CollectorMsg::Finished(id, recorded));
    });
}
