//! Several `payrail serve` nodes on one PostgreSQL, paying through one `payrail simulate`
//! (docs/cluster.md): a node SIGKILLed mid-payroll has its batches moved to the others
//! within its lease plus 10 s, the route quota holds across the nodes in every one-second
//! window at the simulator, and a node SIGSTOPped past its lease and resumed after the
//! takeover sends nothing more and stops; and one payroll on one node of three gets the
//! quota the idle nodes do not use. Nothing is executed twice at the simulator and the
//! ledger audit passes. Sized to seconds; `PAYRAIL_CLUSTER_LINES`, `_NODES`, `_QUOTA`,
//! `_PAYROLLS` (1 to 3) and `_KILL` (0: no kill) make the first one the scaling benchmark
//! (docs/benchmarks.md).

pub mod harness;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};

use harness::{
    Cluster, DONE, SUCCEEDED, busiest_second, cpu_seconds, from_env, lease_ms, postgres_cpu_seconds,
};

/// CPU seconds used so far by each node, and by PostgreSQL (every server process).
fn cpu_use(cluster: &Cluster) -> Vec<(String, f64)> {
    let mut used: Vec<(String, f64)> = cluster
        .nodes
        .iter()
        .map(|node| (node.name.clone(), cpu_seconds(node.process.id())))
        .collect();
    used.push(("PostgreSQL".into(), postgres_cpu_seconds()));
    used
}

/// Kills the node that owns the most running payroll batches and waits until another node
/// owns each of them; returns the victim's name, how many it had and how long they took.
async fn kill_the_busiest(cluster: &mut Cluster) -> (String, usize, Duration) {
    let owners = cluster.owners().await;
    let mut held: HashMap<&str, usize> = HashMap::new();
    for name in owners.values() {
        *held.entry(name.as_str()).or_default() += 1;
    }
    let victim_name = held
        .iter()
        .max_by_key(|(_, batches)| **batches)
        .map(|(name, _)| (*name).to_owned())
        .expect("a node runs a batch");
    let moving: Vec<String> = owners
        .iter()
        .filter(|(_, name)| **name == victim_name)
        .map(|(batch, _)| batch.clone())
        .collect();
    let at = cluster
        .nodes
        .iter()
        .position(|node| node.name == victim_name)
        .expect("the victim");
    let mut victim = cluster.nodes.remove(at);
    victim.process.kill().expect("SIGKILL the node");
    victim.process.wait().expect("reap");
    let killed_at = Instant::now();
    let moved_within = Duration::from_millis(lease_ms() + 10_000);
    let free = "SELECT count(*) FROM batches WHERE owner_node IS NULL AND kind = 'batch' AND state = 'running'";
    loop {
        // A batch moved once another node owns it (or it ended there).
        let owners = cluster.owners().await;
        let moved = moving
            .iter()
            .all(|batch| owners.get(batch).is_none_or(|owner| *owner != victim_name));
        if moved && cluster.count(free).await == 0 {
            return (victim_name, moving.len(), killed_at.elapsed());
        }
        assert!(
            killed_at.elapsed() < moved_within,
            "the dead node's batches did not move within its lease plus 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_batches_move_to_the_others_and_the_quota_holds_across_nodes() {
    let lines = from_env("PAYRAIL_CLUSTER_LINES", 3_000);
    let nodes = from_env("PAYRAIL_CLUSTER_NODES", 3);
    let quota = from_env("PAYRAIL_CLUSTER_QUOTA", 300);
    let killing = nodes > 1 && from_env("PAYRAIL_CLUSTER_KILL", 1) == 1;
    let payrolls = from_env("PAYRAIL_CLUSTER_PAYROLLS", 3).clamp(1, 3);
    let mut cluster = Cluster::start(nodes, u32::try_from(quota).expect("fits")).await;
    // The payrolls wait for funds (the nodes' sweeps share them out), then are funded at
    // once, so that they pay together.
    let mut merchants = Vec::new();
    for merchant in ["Huye Coffee", "Musanze Dairy", "Rusizi Fish"]
        .iter()
        .take(payrolls)
    {
        merchants.push(
            cluster
                .payroll_awaiting_funds(merchant, lines / payrolls)
                .await,
        );
    }
    let payrolls = i64::try_from(payrolls).expect("fits");
    let waiting =
        "SELECT count(*) FROM batches WHERE state = 'awaiting_funds' AND owner_node IS NOT NULL";
    cluster
        .wait_until(
            "the nodes took the payrolls",
            Duration::from_secs(30),
            waiting,
            payrolls,
        )
        .await;
    let cpu_before = cpu_use(&cluster);
    cluster.fund(merchants).await;
    let funded_at = Instant::now();
    cluster
        .wait_until(
            "the payrolls started",
            Duration::from_secs(60),
            SUCCEEDED,
            i64::try_from(lines / 5).expect("fits"),
        )
        .await;
    let killed = if killing {
        let killed = kill_the_busiest(&mut cluster).await;
        // The dead node's row is gone, and the live nodes share its part of the quota.
        let shared =
            "SELECT coalesce(sum((quota_shares -> 'mtn-rw' ->> 'sends_per_second')::int), 0)
                        FROM cluster_nodes";
        let returned = Duration::from_millis(2 * lease_ms() + 5_000);
        let nodes_left = i64::try_from(nodes - 1).expect("fits");
        let whole = i64::try_from(quota).expect("fits") - nodes_left;
        cluster
            .wait_until("the dead node's share returned", returned, shared, whole)
            .await;
        Some(killed)
    } else {
        None
    };
    cluster
        .wait_until(
            "every payroll completed",
            Duration::from_secs(120 + lines as u64 / 50),
            DONE,
            payrolls,
        )
        .await;
    let paid_in = funded_at.elapsed();
    let cpu_after = cpu_use(&cluster);
    let busiest = cluster.executed_once_each(lines).await;
    assert!(
        busiest <= quota,
        "{busiest} transfers in one second at the simulator, the route's quota is {quota}"
    );
    cluster.audit(lines).await;
    let killed = killed.map_or_else(String::new, |(name, batches, moved_in)| {
        format!(
            "; {name} SIGKILLed with {batches} batches, moved in {:.1} s",
            moved_in.as_secs_f64()
        )
    });
    eprintln!(
        "cluster test: {lines} lines on {nodes} nodes: funded to all final {:.1} s ({:.0} payouts/s), busiest second {busiest} of {quota}{killed}; CPU seconds used meanwhile: {}",
        paid_in.as_secs_f64(),
        lines as f64 / paid_in.as_secs_f64(),
        cpu_after
            .iter()
            .map(|(name, seconds)| {
                let before = cpu_before
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0.0, |(_, s)| *s);
                format!("{name} {:.1}", seconds - before)
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    cluster.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_node_resumed_after_a_takeover_sends_nothing_and_stops() {
    const LINES: usize = 1_200;
    let mut cluster = Cluster::start(2, 200).await;
    cluster.payroll("Nyagatare Maize", LINES).await;
    cluster
        .wait_until(
            "the payroll started",
            Duration::from_secs(60),
            SUCCEEDED,
            50,
        )
        .await;
    let owner = cluster
        .owners()
        .await
        .into_values()
        .next()
        .expect("a node owns the payroll");
    let at = cluster
        .nodes
        .iter()
        .position(|node| node.name == owner)
        .expect("the owner");
    let mut stalled = cluster.nodes.remove(at);
    kill(stalled.pid(), Signal::SIGSTOP).expect("SIGSTOP");
    cluster
        .wait_until(
            "the other node took the payroll over and finished it",
            Duration::from_secs(90),
            DONE,
            1,
        )
        .await;
    let before = cluster.simulator("/_sim/stats").await;
    kill(stalled.pid(), Signal::SIGCONT).expect("SIGCONT");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = stalled.process.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled node did not stop: {}",
            stalled.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success(), "a fenced node exits with an error");
    assert!(
        stalled.log().contains("took this node's work over"),
        "{}",
        stalled.log()
    );
    let after = cluster.simulator("/_sim/stats").await;
    for counter in ["transfer_posts", "duplicates", "executions"] {
        assert_eq!(
            after[counter], before[counter],
            "{counter}: the resumed node sent nothing for lines it no longer owned"
        );
    }
    cluster.executed_once_each(LINES).await;
    cluster.audit(LINES).await;
    cluster.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_payroll_on_one_node_of_three_gets_the_quota_the_idle_nodes_do_not_use() {
    const LINES: usize = 2_400;
    const QUOTA: usize = 300;
    let cluster = Cluster::start(3, u32::try_from(QUOTA).expect("fits")).await;
    cluster.payroll("Rubavu Brewery", LINES).await;
    // The owner's share rises to all but the idle nodes' tenth; each idle node keeps 15/s.
    let shares = |sends: usize| {
        format!(
            "SELECT count(*) FROM cluster_nodes
              WHERE (quota_shares -> 'mtn-rw' ->> 'sends_per_second')::int = {sends}"
        )
    };
    let rising = Duration::from_millis(30 * lease_ms());
    cluster
        .wait_until("the owner's share rose", rising, &shares(270), 1)
        .await;
    cluster
        .wait_until("the idle nodes kept a floor", rising, &shares(15), 2)
        .await;
    cluster
        .wait_until("the payroll completed", Duration::from_secs(90), DONE, 1)
        .await;
    let busiest = cluster.executed_once_each(LINES).await;
    assert!(
        busiest <= QUOTA,
        "{busiest} transfers in one second, the route's quota is {QUOTA}"
    );
    assert!(
        busiest > QUOTA / 2,
        "the payroll ran at {busiest}/s at best: no more than an equal third would allow"
    );
    cluster.audit(LINES).await;
    cluster.stop();
}

#[test]
fn the_busiest_second_counts_a_sliding_window() {
    assert_eq!(busiest_second(&[]), 0);
    assert_eq!(busiest_second(&[0, 999, 1_000, 1_500, 1_999]), 3);
    assert_eq!(busiest_second(&[5, 5, 5]), 3);
    assert_eq!(busiest_second(&[0, 1_000, 2_000]), 1);
}
