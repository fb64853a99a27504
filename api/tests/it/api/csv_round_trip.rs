//! Property test through the API: payroll CSV files written from random rows (quotes,
//! commas, Unicode, every line end, a byte-order mark, any column order) are accepted, and
//! the lines stored are the file's rows, field for field, with the file's line numbers.

use payrail_engine::api_key::Role;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;

use super::harness::Node;

/// One payout as a file row gives it, and as it must be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    msisdn: String,
    amount: i64,
    name: Option<String>,
    reference: Option<String>,
    note: Option<String>,
}

fn text() -> impl Strategy<Value = Option<String>> {
    // Stored trimmed, and an empty field is no value: so no surrounding spaces here.
    proptest::option::of(
        proptest::string::string_regex(
            "[a-zA-Z0-9,\"'éÉ漢😀.-]([a-zA-Z0-9 ,\"'é漢.-]{0,10}[a-zA-Z0-9,\"'é.])?",
        )
        .expect("a regex"),
    )
}

prop_compose! {
    fn row()(
        subscriber in 1_000_000u32..9_999_999,
        airtel in any::<bool>(),
        written in 0..3usize,
        amount in 1i64..1_000_000,
        decimals in any::<bool>(),
        name in text(),
        reference in text(),
        note in text(),
    ) -> (Row, String, String) {
        let prefix = if airtel { "72" } else { "78" };
        let msisdn = format!("250{prefix}{subscriber}");
        let as_written = match written {
            0 => format!("0{prefix}{subscriber}"),
            1 => format!("+{msisdn}"),
            _ => msisdn.clone(),
        };
        let amount_text = if decimals { format!("{amount}.00") } else { amount.to_string() };
        (Row { msisdn, amount, name, reference, note }, as_written, amount_text)
    }
}

fn encode(value: &str, quote: bool) -> String {
    if quote || value.contains([',', '"']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The file and the rows it must store, each with its line number.
fn file() -> impl Strategy<Value = (Vec<u8>, Vec<(i32, Row)>)> {
    (
        prop::collection::vec(
            (
                row(),
                any::<bool>(),
                prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            ),
            1..8,
        ),
        Just(vec![0usize, 1, 2, 3, 4]).prop_shuffle(),
        any::<bool>(),
    )
        .prop_map(|(rows, order, bom)| {
            let names = ["msisdn", "amount", "name", "reference", "note"];
            let mut text = if bom {
                String::from("\u{feff}")
            } else {
                String::new()
            };
            text.push_str(
                &order
                    .iter()
                    .map(|c| names[*c])
                    .collect::<Vec<_>>()
                    .join(","),
            );
            text.push_str("\r\n");
            let mut expected = Vec::new();
            for (index, ((mut row, msisdn, amount), quote, end)) in rows.into_iter().enumerate() {
                // References must be unique within a file.
                row.reference = row.reference.map(|r| format!("{r}-{index}"));
                let values = [
                    msisdn,
                    amount,
                    row.name.clone().unwrap_or_default(),
                    row.reference.clone().unwrap_or_default(),
                    row.note.clone().unwrap_or_default(),
                ];
                let fields: Vec<String> =
                    order.iter().map(|c| encode(&values[*c], quote)).collect();
                text.push_str(&fields.join(","));
                text.push_str(end);
                expected.push((i32::try_from(index).expect("small") + 2, row));
            }
            (text.into_bytes(), expected)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_file_is_stored_exactly_as_its_rows() {
    let node = Node::start().await;
    let merchant = node.merchant("0").await;
    let maker = merchant.key(Role::Maker).to_owned();
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 32,
        ..Config::default()
    });
    let outcome = runner.run(&file(), |(bytes, expected)| {
        let stored = tokio::task::block_in_place(|| {
            handle.block_on(async {
                let idempotency = uuid::Uuid::new_v4().to_string();
                let answer = node
                    .call(
                        Method::POST,
                        "/v1/batches?allow_duplicate=true",
                        Some(&maker),
                        &[
                            ("content-type", "text/csv"),
                            ("idempotency-key", &idempotency),
                        ],
                        Some(bytes.clone().into()),
                    )
                    .await;
                assert_eq!(answer.status, 201, "{}", answer.text);
                let batch = uuid::Uuid::parse_str(answer.body["id"].as_str().expect("an id"))
                    .expect("a uuid");
                node.db
                    .client()
                    .await
                    .query(
                        "SELECT line_no, msisdn, amount, name, client_reference, note
                           FROM payout_lines WHERE batch_id = $1 ORDER BY line_no",
                        &[&batch],
                    )
                    .await
                    .expect("the lines")
                    .iter()
                    .map(|line| {
                        (
                            line.get::<_, i32>(0),
                            Row {
                                msisdn: line.get(1),
                                amount: line.get(2),
                                name: line.get(3),
                                reference: line.get(4),
                                note: line.get(5),
                            },
                        )
                    })
                    .collect::<Vec<_>>()
            })
        });
        prop_assert_eq!(stored, expected);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    node.stop().await;
}
