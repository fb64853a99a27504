//! Migrations run by several nodes at once on a new database: one applies them, the others
//! wait for it and find nothing left to apply.

use payrail_engine::store::migrations;
use payrail_engine::testing::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_that_migrate_a_new_database_at_once_apply_each_migration_once() {
    let db = TestDb::empty().await;
    let runs = (0..3).map(|_| {
        let url = db.url.clone();
        tokio::spawn(async move {
            let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            migrations::run(&mut client).await.expect("migrated")
        })
    });
    let mut applied: Vec<Vec<i32>> = Vec::new();
    for run in runs.collect::<Vec<_>>() {
        applied.push(run.await.expect("the run ended"));
    }
    applied.sort();
    let all: Vec<i32> = (1..=migrations::latest_version()).collect();
    assert_eq!(applied, vec![Vec::new(), Vec::new(), all]);
    assert!(
        migrations::is_current(&db.client().await)
            .await
            .expect("version")
    );
}
