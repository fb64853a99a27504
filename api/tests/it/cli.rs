//! `payrail merchant …`, `payrail user create` and `payrail migrate` as a script would run
//! them: JSON on stdout.

use payrail_engine::testing::TestDb;

use crate::support::{forget_newest_migration, run, run_json};

#[tokio::test]
async fn a_merchant_is_created_funded_shown_and_listed() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    let created = tokio::task::spawn_blocking(move || {
        run_json(
            &url,
            &[
                "merchant",
                "create",
                "--name",
                "Huye Schools",
                "--payout-fee",
                "100",
                "--collection-fee-bps",
                "150",
            ],
        )
    })
    .await
    .expect("create");
    let id = created["merchant"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let keys = created["api_keys"].as_array().expect("keys");
    let roles: Vec<&str> = keys
        .iter()
        .map(|k| k["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["viewer", "maker", "checker", "admin"]);
    assert!(
        keys.iter()
            .all(|k| k["secret"].as_str().expect("secret").starts_with("pr_"))
    );
    assert_eq!(created["merchant"]["fees"]["payout_fee"], 100);

    let url = db.url.clone();
    let (funded, shown, listed) = tokio::task::spawn_blocking(move || {
        let funded = run_json(
            &url,
            &["merchant", "fund", "--merchant", &id, "--amount", "250000"],
        );
        let shown = run_json(&url, &["merchant", "show", "--merchant", &id]);
        let listed = run_json(&url, &["merchant", "list"]);
        (funded, shown, listed)
    })
    .await
    .expect("fund, show, list");
    assert_eq!(funded["balances"]["available"], 250_000);
    assert_eq!(shown["balances"]["available"], 250_000);
    assert_eq!(shown["balances"]["reserved"], 0);
    assert_eq!(shown["merchant"]["name"], "Huye Schools");
    assert_eq!(listed.as_array().expect("a list").len(), 1);
}

#[tokio::test]
async fn bad_input_fails_with_a_clear_error_and_moves_nothing() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    let errors = tokio::task::spawn_blocking(move || {
        let created = run_json(&url, &["merchant", "create", "--name", "Rubavu Traders"]);
        let id = created["merchant"]["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        let stderr =
            |args: &[&str]| String::from_utf8_lossy(&run(&url, args, false).stderr).into_owned();
        let errors = [
            stderr(&["merchant", "fund", "--merchant", &id, "--amount", "-5"]),
            stderr(&["merchant", "fund", "--merchant", &id, "--amount", "12.5"]),
            stderr(&[
                "merchant",
                "fund",
                "--merchant",
                "0197a1b2-0000-7000-8000-000000000000",
                "--amount",
                "5",
            ]),
            stderr(&["merchant", "show", "--merchant", "not-an-id"]),
            stderr(&["merchant", "create", "--name", "X", "--currency", "USD"]),
        ];
        let shown = run_json(&url, &["merchant", "show", "--merchant", &id]);
        assert_eq!(
            shown["balances"]["available"], 0,
            "no failed command moved money"
        );
        errors
    })
    .await
    .expect("commands");
    for (error, expected) in errors.iter().zip([
        "without + or -",
        "more decimals than RWF",
        "merchant not found",
        "--merchant",
        "USD",
    ]) {
        assert!(
            error.contains(expected),
            "expected {expected:?} in: {error}"
        );
    }
}

#[tokio::test]
async fn a_configured_database_behind_the_binary_is_refused_until_migrated() {
    let db = TestDb::new().await;
    forget_newest_migration(&db).await;
    let url = db.url.clone();
    let output = tokio::task::spawn_blocking(move || run(&url, &["merchant", "list"], false))
        .await
        .expect("run");
    assert!(String::from_utf8_lossy(&output.stderr).contains("payrail migrate"));
}

#[tokio::test]
async fn a_node_of_another_schema_version_than_the_live_nodes_refuses_to_start_and_says_why() {
    let db = TestDb::new().await;
    let older = payrail_engine::store::migrations::latest_version() - 1;
    db.client()
        .await
        .execute(
            "INSERT INTO cluster_nodes (id, name, schema_version, expires_at)
             VALUES (gen_random_uuid(), 'node-a', $1, now() + interval '1 minute')",
            &[&older],
        )
        .await
        .expect("a live node of the version before");
    let url = db.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        run(&url, &["serve", "--listen", "127.0.0.1:0"], false)
    })
    .await
    .expect("run");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains(&format!("node-a runs schema version {older}"))
            && said.contains("payrail migrate"),
        "{said}"
    );
}

#[tokio::test]
async fn migrate_builds_the_schema_on_an_empty_database_and_is_idempotent() {
    let db = TestDb::empty().await;
    let url = db.url.clone();
    let listed = tokio::task::spawn_blocking(move || {
        run(&url, &["merchant", "list"], false);
        run(&url, &["migrate"], true);
        run(&url, &["migrate"], true);
        run_json(&url, &["merchant", "list"])
    })
    .await
    .expect("commands");
    assert_eq!(listed, serde_json::json!([]));
    let client = db.client().await;
    let applied = payrail_engine::store::migrations::applied_version(&client)
        .await
        .expect("version");
    assert_eq!(
        applied,
        Some(payrail_engine::store::migrations::latest_version())
    );
}

#[tokio::test]
async fn user_create_prints_a_setup_link_that_works_once_and_refuses_a_taken_email() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    let (created, again) = tokio::task::spawn_blocking(move || {
        let merchant = run_json(&url, &["merchant", "create", "--name", "Musanze Dairy"]);
        let id = merchant["merchant"]["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        let args = [
            "user",
            "create",
            "--merchant",
            &id,
            "--email",
            "Finance@Musanze.rw",
            "--role",
            "admin",
        ];
        let created = run_json(&url, &args);
        let again = run(&url, &args, false);
        (created, again)
    })
    .await
    .expect("the commands ran");
    assert_eq!(created["email"], "finance@musanze.rw");
    assert_eq!(created["role"], "admin");
    let link = created["setup_link"].as_str().expect("a setup link");
    assert!(link.starts_with("http://127.0.0.1:8080/setup/"), "{link}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let token = link.rsplit('/').next().expect("a token");
    let app = payrail_engine::app::App::detached(
        db.pool.clone(),
        payrail_engine::app::AppSettings::rwanda(),
    );
    app.set_password_by_link(token, "a long enough password")
        .await
        .expect("the link works");
    assert!(
        app.set_password_by_link(token, "a long enough password")
            .await
            .is_err(),
        "and only once"
    );
}
