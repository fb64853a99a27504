//! Where each route's actor is now. A route actor that stops is started again under the
//! same name, so batches look their route up at every dispatch instead of keeping a ref.

use std::collections::HashMap;
use std::sync::RwLock;

use payrail_engine::route::RouteName;
use ractor::ActorRef;

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

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<RouteName, ActorRef<RouteMsg>>> {
        // Every write is one insert, so a poisoned lock still holds a consistent map.
        self.routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
