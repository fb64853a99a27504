//! Where each route's actor is now. A route actor that stops is started again under the
//! same name, so batches look their route up at every dispatch instead of keeping a ref;
//! `hand_out` is that dispatch, for batch actors and the singles runner alike.

use std::collections::HashMap;
use std::sync::RwLock;

use payrail_engine::route::RouteName;
use ractor::ActorRef;

use crate::job::{Call, Job};
use crate::journal::{Finish, JournalMsg, Outcome};
use crate::route::RouteMsg;

#[derive(Debug, Default)]
pub struct RouteDirectory {
    routes: RwLock<HashMap<RouteName, ActorRef<RouteMsg>>>,
}

impl RouteDirectory {
    /// The route's actor, if the route exists.
    pub fn get(&self, route: &RouteName) -> Option<ActorRef<RouteMsg>> {
        self.read().get(route).cloned()
    }

    /// Records the route's (new) actor.
    pub fn set(&self, route: &RouteName, actor: ActorRef<RouteMsg>) {
        self.routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(route.clone(), actor);
    }

    /// The route a stopped actor served, if it served one.
    pub fn route_of(&self, actor: ractor::ActorId) -> Option<RouteName> {
        self.read()
            .iter()
            .find(|(_, a)| a.get_id() == actor)
            .map(|(route, _)| route.clone())
    }

    /// Tells every route that this node's share of its quotas may have changed.
    pub fn regrant(&self) {
        for actor in self.read().values() {
            let _ = actor.send_message(RouteMsg::Regranted);
        }
    }

    /// Hands jobs to their routes, one message per route. A job whose route no longer
    /// exists was never sent, so it is failed (`ROUTE_UNAVAILABLE`) through the journal.
    pub fn hand_out(&self, jobs: Vec<(Job, Call)>, journal: &ActorRef<JournalMsg>) {
        let mut by_route: HashMap<RouteName, Vec<(Job, Call)>> = HashMap::new();
        for (job, call) in jobs {
            by_route
                .entry(job.line.route.clone())
                .or_default()
                .push((job, call));
        }
        for (route, jobs) in by_route {
            if let Some(actor) = self.get(&route) {
                let _ = actor.send_message(RouteMsg::Submit(jobs));
                continue;
            }
            for (job, _) in jobs {
                let outcome = Outcome {
                    job,
                    finish: Finish::Failed {
                        code: "ROUTE_UNAVAILABLE".into(),
                    },
                    by_callback: false,
                };
                let _ = journal.send_message(JournalMsg::Record(Box::new(outcome)));
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<RouteName, ActorRef<RouteMsg>>> {
        // Every write is one insert, so a poisoned lock still holds a consistent map.
        self.routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
