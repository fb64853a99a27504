//! A node with the portal, a merchant, and one signed-up person per role.

use std::collections::HashMap;

use payrail_engine::api_key::Role;
use payrail_engine::app::users::Inviter;

use crate::api::harness::{Node, NodeOptions, TestMerchant};

/// Every test person's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// A node, its merchant, and its people's emails by role.
#[derive(Debug)]
pub struct Office {
    pub node: Node,
    pub merchant: TestMerchant,
    pub people: HashMap<Role, String>,
}

impl Office {
    /// A merchant (each test has its own database) funded with 5,000,000 RWF whose batches
    /// above 100,000 need approval.
    pub async fn open() -> Office {
        let node = Node::with(NodeOptions::default()).await;
        let merchant = node.merchant_with("5000000", Some("100000")).await;
        node.db
            .client()
            .await
            .execute(
                "UPDATE merchants SET name = 'Kigali Coffee Ltd' WHERE id = $1",
                &[&merchant.id],
            )
            .await
            .expect("named");
        let mut people = HashMap::new();
        for role in Role::ALL {
            let email = format!("{}@kigalicoffee.rw", role.as_str());
            let invited = node
                .app
                .invite_user(Inviter::Operator(merchant.id), &email, role)
                .await
                .expect("invited");
            node.app
                .set_password_by_link(&invited.setup_token, PASSWORD)
                .await
                .expect("password set");
            people.insert(role, email);
        }
        Office {
            node,
            merchant,
            people,
        }
    }

    pub fn email(&self, role: Role) -> &str {
        &self.people[&role]
    }
}
