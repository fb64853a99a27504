//! The node a run drives and the merchants it pays from: a node started in this process
//! on fresh, funded merchants (`--spawn`), or a node already running, reached with a
//! merchant's keys (`--target`), whose database the run follows and audits.

use std::num::NonZeroU32;

use anyhow::{Context, bail};
use payrail_adapters::simserver::SimServerProfile;
use payrail_engine::api_key;
use payrail_engine::callback_token::CallbackKeys;
use payrail_engine::ids::MerchantId;

use super::Args;
use super::node::{InProcessNode, Pace};
use crate::api_merchant::{self, ApiMerchant};
use crate::audit::{OperatorRecord, RouteSends};
use crate::bench_database::BenchDatabase;
use crate::operators::{BenchOperators, Callbacks, Kind};

/// The simulator's profile of MTN as its documents describe it.
const MTN_DOCUMENTED: &str = "mtn-documented";

/// Enough for any run: a merchant never waits for funds.
const FUNDS: i64 = 1_000_000_000_000;

/// Connections the run itself uses (the spawned node has its own).
const CONNECTIONS: u32 = 16;

pub struct Target {
    pub base: String,
    pub merchants: Vec<ApiMerchant>,
    pub database: BenchDatabase,
    spawned: Option<Spawned>,
}

#[derive(Debug)]
struct Spawned {
    node: InProcessNode,
    operators: BenchOperators,
    sends_per_second: u32,
}

impl Target {
    pub async fn open(args: &Args) -> anyhow::Result<Target> {
        let database = BenchDatabase::open(args.database_url.as_deref(), CONNECTIONS).await?;
        if let Some(base) = &args.target {
            let maker = args
                .maker_key
                .clone()
                .context("--target needs --maker-key")?;
            let merchant = merchant_of(&database, &maker).await?;
            let checker = args.checker_key.clone().unwrap_or_else(|| maker.clone());
            return Ok(Target {
                base: base.clone(),
                merchants: vec![ApiMerchant {
                    id: merchant,
                    maker,
                    checker,
                }],
                database,
                spawned: None,
            });
        }
        // Over HTTP the operators behave as MTN documents, unless a profile says otherwise.
        let profile = match &args.faults {
            Some(path) => Some(SimServerProfile::from_toml(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
            )?),
            None if args.operators == Kind::HttpSim => SimServerProfile::named(MTN_DOCUMENTED),
            None => None,
        };
        // The operators' own status-query limit, if they have a lower one, is the pace.
        let queries = profile
            .as_ref()
            .map(|p| p.status_queries_per_second)
            .filter(|limit| *limit > 0)
            .map_or(args.queries_per_second, |limit| {
                limit.min(args.queries_per_second)
            });
        let (listener, base) = InProcessNode::bind().await?;
        let callbacks = match args.operators {
            Kind::HttpSim => Some(Callbacks {
                url: format!("{base}/callbacks/mtn"),
                keys: CallbackKeys::load(&database.pool.get().await?).await?,
            }),
            Kind::InProcess => None,
        };
        let operators =
            BenchOperators::start(args.operators, args.latency, profile, callbacks.as_ref())
                .await?;
        let pace = Pace {
            sends_per_second: NonZeroU32::new(args.sends_per_second)
                .context("--sends-per-second must be positive")?,
            queries_per_second: NonZeroU32::new(queries)
                .context("--queries-per-second must be positive")?,
            max_in_flight: 256,
        };
        let node = InProcessNode::start(
            &database.url,
            (listener, base),
            &operators,
            pace,
            callbacks.map(|c| c.keys),
        )
        .await?;
        let mut merchants = Vec::new();
        for _ in 0..args.merchants.max(1) {
            merchants.push(api_merchant::create(&database.pool, FUNDS, true).await?);
        }
        Ok(Target {
            base: node.base.clone(),
            merchants,
            database,
            spawned: Some(Spawned {
                node,
                operators,
                sends_per_second: args.sends_per_second,
            }),
        })
    }

    pub fn merchant_ids(&self) -> Vec<MerchantId> {
        self.merchants.iter().map(|m| m.id).collect()
    }

    /// What the operators executed and each route's busiest second; only a spawned node's
    /// operators can be asked.
    pub fn operator_record(&self) -> Option<OperatorRecord> {
        let spawned = self.spawned.as_ref()?;
        let routes = spawned
            .node
            .sends
            .iter()
            .map(|(route, log)| RouteSends {
                route: route.clone(),
                sends_per_second: spawned.sends_per_second,
                busiest_second: u64::try_from(log.busiest_second()).unwrap_or(u64::MAX),
            })
            .collect();
        Some(OperatorRecord::new(spawned.operators.executed(), routes))
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        if let Some(spawned) = self.spawned {
            spawned.node.stop().await;
        }
        self.database.close().await
    }
}

const KEY_MERCHANT: &str = "SELECT merchant_id FROM api_keys WHERE prefix = $1";

async fn merchant_of(database: &BenchDatabase, key: &str) -> anyhow::Result<MerchantId> {
    let Some(prefix) = api_key::prefix_of(key) else {
        bail!("--maker-key is not a Payrail API key");
    };
    let client = database.pool.get().await?;
    let row = client
        .query_opt(KEY_MERCHANT, &[&prefix])
        .await?
        .context("--maker-key is not a key of this database's merchants")?;
    Ok(row.get(0))
}
